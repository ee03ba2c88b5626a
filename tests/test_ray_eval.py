"""`vidagent eval --engine ray --workers N`: a row's questions sharded by video over Ray tasks give the report
of `--engine local`, question for question.

The slow tests share one local Ray with two CPUs (started once for the module; the runner leaves a Ray it did
not start running). The oracle row runs the world-trained models on the bundled example world; the planner
row is a tiny random Llama saved as a model directory (each task loads it from its spec), on the
world-truth tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from vidagent.cli import main
from vidagent.policies.environment import WorldData
from vidagent.policies.ray_eval import shard_by_video

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "world"
SUITE = ["--world", str(EXAMPLES), "--suite", "world:test"]


def run(*argv: str) -> int:
    return main(["eval", *argv])


def outcomes(out: Path) -> list[list[tuple]]:
    data = json.loads(out.with_suffix(".json").read_text())
    return [[(o["id"], o["correct"], o["prediction"]) for o in row["outcomes"]] for row in data["rows"]]


def rows_of(out: Path) -> list[dict]:
    """The rows without their timings (which differ from run to run)."""
    data = json.loads(out.with_suffix(".json").read_text())
    return [{k: v for k, v in row.items() if k != "seconds"} for row in data["rows"]]


@pytest.fixture(scope="module")
def local_ray():
    pytest.importorskip("ray")
    from vidagent.tools.ray_engine import start_ray

    ray = start_ray(2)
    yield ray
    ray.shutdown()


def both_engines(tmp_path: Path, *argv: str) -> tuple[Path, Path]:
    local, distributed = tmp_path / "local" / "eval", tmp_path / "ray" / "eval"
    assert run(*argv, "--out", str(local)) == 0
    assert run(*argv, "--engine", "ray", "--workers", "2", "--out", str(distributed)) == 0
    for out in (local, distributed):
        assert out.with_suffix(".json").is_file() and out.with_suffix(".md").is_file()
    return local, distributed


@pytest.mark.slow
def test_the_oracle_row_on_ray_is_the_local_row(local_ray, tmp_path, capsys):
    local, distributed = both_engines(tmp_path, *SUITE, "--tools", "world", "--rows", "oracle", "--limit", "6")
    (expected,) = outcomes(local)
    assert outcomes(distributed) == [expected] and len(expected) == 6
    assert {qid.split("-")[0] for qid, _, _ in expected} == {"park", "street"}  # two videos: two shards
    assert not all(correct for _, correct, _ in expected)  # the world models miss some: a real comparison
    assert rows_of(distributed) == rows_of(local)
    table = [line for line in distributed.with_suffix(".md").read_text().splitlines() if line.startswith("|")]
    assert [line.split("|")[1:-2] for line in table] == [
        line.split("|")[1:-2] for line in local.with_suffix(".md").read_text().splitlines() if line.startswith("|")]
    assert "2 shards on Ray" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_planner_dir(tmp_path_factory):
    from tiny_planner import smollm2_tokenizer, tiny_llama

    tokenizer = smollm2_tokenizer()
    path = tmp_path_factory.mktemp("tiny_planner")
    tiny_llama(tokenizer).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow
def test_a_planner_row_on_ray_is_the_local_row(local_ray, tiny_planner_dir, tmp_path):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the Ray tasks; batches of one (--concurrency 1) on both engines
    try:
        local, distributed = both_engines(tmp_path, *SUITE, "--tools", "world-truth", "--rows", "planners",
                                          "--planner", f"tiny={tiny_planner_dir}", "--limit", "4",
                                          "--concurrency", "1", "--max-new-tokens", "12", "--max-tool-calls", "2")
    finally:
        torch.set_num_threads(threads)
    (expected,) = outcomes(local)
    assert outcomes(distributed) == [expected] and len(expected) == 4
    assert rows_of(distributed) == rows_of(local)


@pytest.mark.slow
def test_a_failing_shard_is_the_error_raised_in_its_task(local_ray, tmp_path, capsys):
    missing = tmp_path / "no-such-planner"
    assert run(*SUITE, "--tools", "world-truth", "--rows", "planners", "--planner", f"gone={missing}",
               "--limit", "4", "--engine", "ray", "--out", str(tmp_path / "eval")) == 2
    err = capsys.readouterr().err
    assert f"error: planner '{missing}': no such file or directory" in err and "fix: pass an existing" in err
    assert "Traceback" not in err and "RayTaskError" not in err


@pytest.mark.parametrize("argv, said, fix", [
    (["--engine", "ray", "--workers", "0"], "--workers must be >= 1, got 0", "pass --workers 2"),
    (["--workers", "2"], "--workers goes with --engine ray", "add --engine ray"),
])
def test_bad_workers_say_the_fix(argv, said, fix, capsys):
    assert run(*SUITE, "--rows", "oracle", *argv) == 2
    err = capsys.readouterr().err
    assert said in err and fix in err


def test_the_ray_engine_without_ray_says_the_pip_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert run(*SUITE, "--rows", "oracle", "--engine", "ray") == 2
    err = capsys.readouterr().err
    assert "the ray engine needs Ray" in err and "pip install 'ray==2.60.0'" in err


def test_shards_keep_a_videos_questions_together_and_balance_counts():
    world = WorldData.load(EXAMPLES)
    questions = world.questions("train", seed=0)  # beach, crossing, plaza: 16 questions each
    shards = shard_by_video(questions, world.video_path, 2)
    assert sorted(i for s in shards for i in s) == list(range(len(questions)))
    videos = [{questions[i].video for i in s} for s in shards]
    assert sum(len(v) for v in videos) == 3 and not videos[0] & videos[1]  # no video in two shards
    assert sorted(len(s) for s in shards) == [16, 32] and all(s == sorted(s) for s in shards)
    assert len(shard_by_video(questions, world.video_path, 8)) == 3  # never more shards than videos
    assert shard_by_video(questions, world.video_path, 1) == [list(range(len(questions)))]


def test_a_crash_in_a_task_is_a_config_error_naming_the_shard():
    from vidagent.errors import ConfigError
    from vidagent.policies.evaluate import RowJob
    from vidagent.policies.ray_eval import RayRowRunner

    world = WorldData.load(EXAMPLES)
    questions = world.questions("test", seed=0)
    # the task's own exception, as tools.ray_engine.finished unwraps it from Ray's RayTaskError
    error = RayRowRunner._shard_error(RowJob("oracle", "oracle programs", "oracle"), 0, [0, 1], questions,
                                      ValueError("bad value\nmore lines"))
    assert isinstance(error, ConfigError)
    assert error.problem.startswith("row 'oracle programs' failed on Ray in shard 1 (videos ")
    assert error.problem.endswith("ValueError: bad value") and "--engine local" in error.fix


def test_finished_unwraps_a_task_error_and_cancels_the_rest():
    from vidagent.tools.ray_engine import finished

    class TaskError(Exception):
        cause = ValueError("inside the task")

    class FakeRay:
        cancelled: list = []

        def wait(self, refs, num_returns):
            return refs[:1], refs[1:]

        def get(self, ref):
            if ref == "bad":
                raise TaskError
            return ref.upper()

        def cancel(self, ref):
            self.cancelled.append(ref)

    ray = FakeRay()
    results = finished(ray, {"a": 0, "bad": 1, "c": 2})
    assert next(results) == (0, "A", None)
    number, value, error = next(results)
    assert (number, value, str(error)) == (1, None, "inside the task")
    results.close()  # the caller stops here: what is still pending is cancelled
    assert ray.cancelled == ["c"]
