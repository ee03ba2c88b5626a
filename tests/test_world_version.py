"""The world generator version: stamped in world.json and every question, read back, printed by stats, and
the guard that keeps eval rows of different generators apart (the same ids, other questions)."""

from __future__ import annotations

import json

import pytest
from vidagent.cli import main
from vidagent.errors import ConfigError
from vidagent.policies.evaluate import (
    Outcome,
    RowReport,
    markdown_table,
    merge_reports,
    same_generator,
    write_report,
)
from vidagent.tasks.questions import GENERATOR_VERSION, UNVERSIONED
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.generate import (
    MANIFEST,
    QUESTIONS,
    generate_world,
    load_world,
)

SHORT = WorldConfig(min_duration_s=3, max_duration_s=4, questions_per_video=4)


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    generate_world(root, 2, seed=4, config=SHORT, workers=1, progress=False, render=False)
    return root


def unstamp(root):
    """Turn a world into one written before the stamp existed: no generator_version anywhere."""
    manifest = json.loads((root / MANIFEST).read_text())
    del manifest["generator_version"]
    (root / MANIFEST).write_text(json.dumps(manifest))
    lines = [json.loads(line) for line in (root / QUESTIONS).read_text().splitlines()]
    for line in lines:
        del line["generator_version"]
    (root / QUESTIONS).write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.fixture
def old_world(world_dir, tmp_path):
    for path in world_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    unstamp(tmp_path)
    return tmp_path


def test_the_stamp_is_written_and_read_back(world_dir):
    assert json.loads((world_dir / MANIFEST).read_text())["generator_version"] == GENERATOR_VERSION
    lines = [json.loads(line) for line in (world_dir / QUESTIONS).read_text().splitlines()]
    assert lines and all(line["generator_version"] == GENERATOR_VERSION for line in lines)
    world = load_world(world_dir)
    assert world.generator_version == GENERATOR_VERSION
    assert {q.generator_version for q in world.questions} == {GENERATOR_VERSION}


def test_an_unversioned_world_loads_for_plain_use(old_world):
    world = load_world(old_world)
    assert world.generator_version == UNVERSIONED and world.questions


def test_questions_of_another_generator_than_the_manifest_are_refused(world_dir, tmp_path):
    for path in world_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "generator_version": "world-v1"}))
    with pytest.raises(ConfigError, match=f"questions of generator {GENERATOR_VERSION} but"):
        load_world(tmp_path)


def test_stats_prints_the_version(world_dir, old_world, capsys):
    assert main(["world", "stats", str(world_dir)]) == 0
    assert f"generator {GENERATOR_VERSION} (current)" in capsys.readouterr().out
    assert main(["world", "stats", str(old_world)]) == 0
    assert f"generator {UNVERSIONED} (written before worlds recorded it" in capsys.readouterr().out


def row(name, version, ids=("q0", "q1")):
    outcomes = [Outcome(i, "count", True, None, True, 1, 1, 0, 0.1, 1) for i in ids]
    report = RowReport.from_outcomes(name, "x", outcomes)
    report.generator_version = version
    return report


def test_eval_rows_record_the_version(tmp_path):
    rows = [row("a", GENERATOR_VERSION), row("b", GENERATOR_VERSION)]
    json_path, md_path = write_report(rows, tmp_path / "r", {"suite": "world:test", "command": "x"})
    data = json.loads(json_path.read_text())
    assert data["generator_version"] == GENERATOR_VERSION
    assert [r["generator_version"] for r in data["rows"]] == [GENERATOR_VERSION] * 2
    assert f"made by world generator {GENERATOR_VERSION}" in md_path.read_text()
    assert RowReport.from_dict(data["rows"][0]).generator_version == GENERATOR_VERSION


def test_rows_of_different_versions_are_never_side_by_side(tmp_path):
    rows = [row("new", GENERATOR_VERSION), row("old", UNVERSIONED)]
    for put_side_by_side in (same_generator, markdown_table,
                             lambda r: write_report(r, tmp_path / "r", {"command": "x"})):
        with pytest.raises(ConfigError, match="different generator versions") as error:
            put_side_by_side(rows)
        problem = error.value.problem
        assert f"{UNVERSIONED}: old" in problem and f"{GENERATOR_VERSION}: new" in problem
        assert "regenerate the world with the current generator" in error.value.fix
        assert "re-run the rows" in error.value.fix
    assert not (tmp_path / "r.json").exists()


def test_merge_refuses_committed_rows_of_an_older_generator(tmp_path):
    new, _ = write_report([row("new", GENERATOR_VERSION)], tmp_path / "new", {"command": "a"})
    old = tmp_path / "old.json"  # a report from before rows recorded the version: no field at all
    committed = {"command": "b", "rows": [row("old", GENERATOR_VERSION).to_dict()]}
    del committed["rows"][0]["generator_version"]
    old.write_text(json.dumps(committed))
    with pytest.raises(ConfigError, match="different generator versions"):
        merge_reports([new, old], tmp_path / "merged")  # same ids: only the version tells them apart
    merged, _ = merge_reports([new, new], tmp_path / "merged")
    assert json.loads(merged.read_text())["generator_version"] == GENERATOR_VERSION
