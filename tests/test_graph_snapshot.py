"""Snapshot of the planner graph's shape. Update with ``UPDATE_SNAPSHOTS=1 pytest tests/test_graph_snapshot.py``."""

from __future__ import annotations

import os
from pathlib import Path

from vidagent.agent import ScriptedChatModel, build_graph
from vidagent.tools import Toolbox

SNAPSHOT = Path(__file__).parent / "snapshots" / "agent_graph.mmd"


def test_graph_mermaid_matches_snapshot():
    graph = build_graph(ScriptedChatModel(replies=["<answer>1</answer>"]), Toolbox())
    drawing = graph.get_graph().draw_mermaid()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(drawing)
    assert drawing == SNAPSHOT.read_text(), "the graph changed: review it, then UPDATE_SNAPSHOTS=1"


def test_graph_has_the_documented_edges():
    graph = build_graph(ScriptedChatModel(replies=["<answer>1</answer>"]), Toolbox()).get_graph()
    edges = {(e.source, e.target, e.conditional) for e in graph.edges}
    assert edges == {("__start__", "start", False), ("start", "planner", False), ("tools", "planner", False),
                     ("planner", "tools", True), ("planner", "planner", True), ("planner", "finalize", True),
                     ("finalize", "__end__", False)}
