"""Snapshot of the planner graph's shape.

Update with ``VIDAGENT_UPDATE_SNAPSHOTS=1 pytest tests/test_graph_snapshot.py``, review the diff, commit it.
A missing snapshot fails: writing it silently would make the test pass on whatever the graph has become.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from vidagent.agent import ScriptedChatModel, build_graph
from vidagent.tools import Toolbox

SNAPSHOT = Path(__file__).parent / "snapshots" / "agent_graph.mmd"
UPDATE_ENV = "VIDAGENT_UPDATE_SNAPSHOTS"
HOW_TO_UPDATE = f"{UPDATE_ENV}=1 pytest tests/test_graph_snapshot.py"


def check_snapshot(drawing: str, path: Path, update: bool) -> None:
    """Pass if ``drawing`` equals the snapshot at ``path``; with ``update``, (re)write it first. Fail, saying
    how to (re)write it, if the snapshot is missing or differs."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(drawing)
    if not path.exists():
        pytest.fail(f"snapshot {path} is missing: write it with `{HOW_TO_UPDATE}`, review it and commit it")
    if drawing != path.read_text():
        pytest.fail(f"the graph differs from snapshot {path}: review the change, then `{HOW_TO_UPDATE}`")


def test_graph_mermaid_matches_snapshot():
    graph = build_graph(ScriptedChatModel(replies=["<answer>1</answer>"]), Toolbox())
    check_snapshot(graph.get_graph().draw_mermaid(), SNAPSHOT, os.environ.get(UPDATE_ENV) == "1")


def test_a_missing_snapshot_fails_and_says_how_to_write_it(tmp_path):
    missing = tmp_path / "snapshots" / "graph.mmd"
    with pytest.raises(pytest.fail.Exception, match=f"missing: write it with `{UPDATE_ENV}=1"):
        check_snapshot("graph", missing, update=False)
    assert not missing.exists()  # failing must not write it: the next run would pass on anything
    check_snapshot("graph", missing, update=True)
    assert missing.read_text() == "graph"
    with pytest.raises(pytest.fail.Exception, match="differs"):
        check_snapshot("other graph", missing, update=False)


def test_graph_has_the_documented_edges():
    graph = build_graph(ScriptedChatModel(replies=["<answer>1</answer>"]), Toolbox()).get_graph()
    edges = {(e.source, e.target, e.conditional) for e in graph.edges}
    assert edges == {("__start__", "start", False), ("start", "planner", False), ("tools", "planner", False),
                     ("planner", "tools", True), ("planner", "planner", True), ("planner", "finalize", True),
                     ("finalize", "__end__", False)}
