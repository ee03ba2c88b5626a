"""The eval harness: rows on the same questions, metrics, JSON + markdown."""

from __future__ import annotations

import json

import pytest
from tiny_planner import some_split, tiny_world
from vidagent.agent.chat_models.scripted import ScriptedChatModel
from vidagent.policies.environment import WorldData, make_toolbox
from vidagent.policies.evaluate import (
    RowReport,
    evaluate_agent,
    evaluate_oracle,
    markdown_table,
    parse_planner,
    parse_suite,
    write_report,
)
from vidagent.tasks.questions import GENERATOR_VERSION, UNVERSIONED
from vidagent.tasks.verify import verify
from vidagent.tools.toolbox import Toolbox


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tiny_world(tmp_path_factory.mktemp("world"))
    world = WorldData.load(root)
    questions = world.questions(some_split(root))
    return world, questions, make_toolbox("world-truth", world)


def test_oracle_programs_on_oracle_tools_are_all_right(env):
    world, questions, toolbox = env
    row = evaluate_oracle(toolbox, questions, world.video_path)
    assert row.accuracy == 1.0 and row.questions == len(questions)
    assert row.tool_calls >= 1.0 and row.tokens == 0
    if row.miou is not None:
        assert row.grounding_r1_05 == 1.0 and row.miou > 0.99


def test_agent_row_counts_answers_calls_and_families(env):
    world, questions, _ = env
    chat = ScriptedChatModel(replies=["<answer>yes</answer>"], repeat_last=True)
    row = evaluate_agent("always yes", "scripted", chat, Toolbox([]), questions, world.video_path,
                         max_tool_calls=0, concurrency=4)
    expected = [verify(q, "yes").correct for q in questions]
    assert row.accuracy == pytest.approx(sum(expected) / len(expected))
    assert row.answered == 1.0 and row.tool_calls == 0.0 and row.tokens > 0
    assert set(row.per_family) == {q.family for q in questions}
    if row.miou is not None:
        assert row.miou == 0.0 and row.grounding_r1_05 == 0.0


def test_report_writes_json_and_markdown(env, tmp_path):
    world, questions, toolbox = env
    rows = [evaluate_oracle(toolbox, questions, world.video_path),
            RowReport.from_outcomes("empty", "x", [])]
    json_path, md_path = write_report(rows, tmp_path / "eval", {"suite": "world:test", "tools": "oracle",
                                                               "command": "vidagent eval"})
    data = json.loads(json_path.read_text())
    assert [r["name"] for r in data["rows"]] == ["oracle programs", "empty"]
    table = md_path.read_text()
    assert "| oracle programs | 100.0 |" in table and "tool calls" in table
    assert markdown_table(rows).count("\n|") == 3  # separator + two rows after the header


def test_suite_and_planner_specs():
    assert parse_suite("world:test") == "test"
    assert parse_planner("sft=runs/sft") == ("sft", "runs/sft")
    assert parse_planner("runs/grpo") == ("grpo", "runs/grpo")
    with pytest.raises(Exception, match="unknown suite"):
        parse_suite("nextqa:test")


def test_merge_refuses_rows_on_different_questions(env, tmp_path):
    from vidagent.policies.evaluate import merge_reports

    world, questions, toolbox = env
    a, _ = write_report([evaluate_oracle(toolbox, questions, world.video_path)], tmp_path / "a",
                        {"suite": "world:test", "tools": "oracle", "command": "a"})
    b, _ = write_report([evaluate_oracle(toolbox, questions[:-1], world.video_path)], tmp_path / "b",
                        {"suite": "world:test", "tools": "oracle", "command": "b"})
    merged, md = merge_reports([a, a], tmp_path / "merged")
    assert len(json.loads(merged.read_text())["rows"]) == 2 and "oracle programs" in md.read_text()
    with pytest.raises(Exception, match="different questions"):
        merge_reports([a, b], tmp_path / "bad")


def test_merge_refuses_rows_of_different_generator_versions_on_the_same_ids(env, tmp_path):
    from vidagent.errors import ConfigError
    from vidagent.policies.evaluate import merge_reports

    world, questions, toolbox = env
    paths = []
    for version in (GENERATOR_VERSION, UNVERSIONED):
        row = evaluate_oracle(toolbox, questions, world.video_path)
        row.generator_version = version
        paths.append(write_report([row], tmp_path / version, {"command": version})[0])
    with pytest.raises(ConfigError, match="different generator versions") as error:
        merge_reports(paths, tmp_path / "merged")
    assert "regenerate the world" in error.value.fix


def test_eval_command_records_the_world_generator_version(env, tmp_path, capsys):
    from vidagent.cli import main

    world, _, _ = env
    out = tmp_path / "eval"
    assert main(["eval", "--world", str(world.world.root), "--suite", f"world:{some_split(world.world.root)}",
                 "--rows", "oracle", "--tools", "world-truth", "--out", str(out)]) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["generator_version"] == GENERATOR_VERSION
    assert [r["generator_version"] for r in data["rows"]] == [GENERATOR_VERSION]
    assert f"made by world generator {GENERATOR_VERSION}" in capsys.readouterr().out
