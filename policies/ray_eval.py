"""``vidagent eval --engine ray --workers N``: each row's questions spread over Ray tasks, the same report.

    vidagent eval --world data/world --suite world:test --rows base,oracle --engine ray --workers 8

A row (``vidagent.policies.evaluate.RowJob``) is split into at most N shards **by video**: all questions of
one video go to the same shard, so the video's tool results (the in-process memos, the result cache) and
its index are computed once, by one task. Videos are dealt to shards largest first, each to the shard with
the fewest questions so far (balanced by question count). Each shard is one Ray task (``num_cpus=1``) that
builds its own toolbox (the ``--tools`` profile and ``--tool`` specs; ``world-truth`` reloads the world
directory) and its own planner (the row's spec and options: ``max_new_tokens``, batch, ``guide_format``,
...), with the models on one thread (``VIDAGENT_THREADS=1``, ``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``), and runs the very code of ``--engine local``
(``vidagent.policies.evaluate.run_row``: ``evaluate_agent`` / ``evaluate_oracle``) on its shard. It
returns plain dicts; the driver puts the outcomes back in the suite's question order and builds one
``RowReport`` per row, so the written report has the rows, columns and question order of a local run.

Seconds per question: each task's ``evaluate_agent`` charges every question of its shard an equal share of
the shard's wall time (not counting the planner's load); the oracle row keeps each question's own time. So
``s/question`` is the time a worker spent per question: with N workers the run itself ends up to N times
sooner than that times the questions.

Ray is started here with N CPUs (``vidagent.tools.ray_engine.start_ray``, no dashboard, no usage stats), or
the cluster ``RAY_ADDRESS`` names is joined; a Ray this driver started is shut down when the eval ends. On a
cluster the videos, the world directory and ``VIDAGENT_CACHE_DIR`` must be at the same paths on every node.
The task sees the driver's ``VIDAGENT_*`` settings (cache, index, offline). A failing shard fails its row with
the error raised inside the task (``error: ... fix: ...``), never a Ray traceback.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError, VidagentError
from vidagent.policies.evaluate import Outcome, RowJob, RowReport
from vidagent.tasks.questions import Question
from vidagent.tools.ray_engine import finished
from vidagent.tools.toolbox import Toolbox

# the driver's settings a task takes over (the thread count and progress bars are the task's own)
_TASK_OWN = ("VIDAGENT_THREADS", "VIDAGENT_PROGRESS")


def shard_by_video(questions: Sequence[Question], video_path: Callable[[Question], str],
                   shards: int) -> list[list[int]]:
    """Indices into ``questions``, in at most ``shards`` groups: every video's questions in one group, groups
    balanced by question count (largest video first, each to the group with the fewest questions; ties to
    the earlier group), each group in the suite's order. Empty groups are dropped."""
    by_video: dict[str, list[int]] = {}
    for index, question in enumerate(questions):
        by_video.setdefault(video_path(question), []).append(index)
    groups: list[list[int]] = [[] for _ in range(max(1, min(shards, len(by_video))))]
    for indices in sorted(by_video.values(), key=lambda i: (-len(i), i[0])):
        min(groups, key=len).extend(indices)  # min() keeps the first of equals
    return [sorted(g) for g in groups if g]


def _task_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("VIDAGENT_") and k not in _TASK_OWN}


def _one_thread() -> None:
    os.environ["VIDAGENT_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["VIDAGENT_PROGRESS"] = "off"
    try:
        import torch  # noqa: PLC0415
    except ImportError:  # tools without torch (e.g. ground truth only)
        return
    torch.set_num_threads(1)


@contextlib.contextmanager
def _no_progress_bars() -> Any:
    """No tqdm bars in a task (``run_questions`` draws one per row; the driver says when shards finish)."""
    try:
        import tqdm  # noqa: PLC0415
    except ImportError:
        yield
        return

    class Quiet(tqdm.tqdm):  # type: ignore[misc, name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    saved = tqdm.tqdm
    tqdm.tqdm = Quiet  # `from tqdm import tqdm` inside the row finds this one
    try:
        yield
    finally:
        tqdm.tqdm = saved


def run_shard(job: RowJob, questions: list[Question], videos: list[str], profile: str, tool_specs: list[str],
              world_dir: str | None, environment: dict[str, str], cwd: str) -> dict[str, Any]:
    """In a Ray task: ``job`` on one shard with this task's own toolbox and planner, on one thread.

    Returns plain data: ``outcomes`` (``Outcome`` fields), ``skipped`` (ids), ``samples``, ``seconds`` (the
    task's wall time, loading included) and ``log`` (what the row printed on stderr: tool crashes)."""
    started = time.perf_counter()
    os.environ.update(environment)
    _one_thread()
    if os.path.isdir(cwd) and cwd not in sys.path:  # --tool module:attr as the driver's `python -m` finds it
        sys.path.insert(0, cwd)
    from vidagent.offline import apply_offline_defaults  # noqa: PLC0415
    from vidagent.policies.environment import WorldData, make_toolbox  # noqa: PLC0415
    from vidagent.policies.evaluate import run_row  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415

    apply_offline_defaults()
    paths = {q.id: path for q, path in zip(questions, videos, strict=True)}
    log = io.StringIO()
    with contextlib.redirect_stderr(log), _no_progress_bars():
        world = WorldData.load(world_dir) if world_dir and profile == "world-truth" else None
        toolbox = make_toolbox(profile, world, load_tool_specs(tool_specs))
        report = run_row(job, toolbox, questions, lambda q: paths[q.id])
    return {"outcomes": [asdict(o) for o in report.outcomes], "skipped": list(report.skipped),
            "samples": report.samples, "seconds": time.perf_counter() - started, "log": log.getvalue()}


def _absolute_spec(spec: str, cwd: str) -> str:
    """A ``--tool path/file.py:attr`` with the path made absolute (a task's working directory may differ)."""
    name, sep, attr = spec.rpartition(":")
    if sep and name.endswith(".py") and not Path(name).is_absolute():
        return f"{Path(cwd, name)}:{attr}"
    return spec


class RayRowRunner:
    """Runs ``RowJob`` s on Ray, one task per shard of the questions; called like ``evaluate.run_row``."""

    def __init__(self, *, workers: int, profile: str, tool_specs: Sequence[str] = (),
                 world_dir: str | None = None):
        if workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {workers}", "pass --workers 2 or more")
        self.workers = workers
        self.profile = profile
        self.cwd = os.getcwd()
        self.tool_specs = [_absolute_spec(s, self.cwd) for s in tool_specs]
        self.world_dir = world_dir
        self._ray: Any = None
        self._started = False  # whether this runner started Ray (and so shuts it down)

    def ray(self) -> Any:
        if self._ray is None:
            from vidagent.tools.ray_engine import _require_ray, start_ray  # noqa: PLC0415

            self._started = not _require_ray().is_initialized()
            self._ray = start_ray(self.workers)
        return self._ray

    def close(self) -> None:
        if self._ray is not None and self._started:
            self._ray.shutdown()
        self._ray, self._started = None, False

    def __call__(self, job: RowJob, toolbox: Toolbox, questions: Sequence[Question],
                 video_path: Callable[[Question], str]) -> RowReport:
        """``job`` over ``questions``, shard by shard on Ray; the row as ``run_row`` would make it. The
        driver's ``toolbox`` is not sent: each task builds its own from the profile and tool specs."""
        del toolbox
        questions = list(questions)
        if not questions:
            return RowReport.from_outcomes(job.name, job.spec, [], samples=job.samples.samples
                                           if job.kind == "agent" else 1)
        shards = shard_by_video(questions, video_path, self.workers)
        ray = self.ray()
        task = ray.remote(num_cpus=1, max_retries=0)(run_shard)
        environment = _task_environment()
        pending = {task.remote(job, [questions[i] for i in shard], [video_path(questions[i]) for i in shard],
                               self.profile, self.tool_specs, self.world_dir, environment, self.cwd): number
                   for number, shard in enumerate(shards)}
        print(f"{job.name}: {len(questions)} questions in {len(shards)} shards on Ray "
              f"({', '.join(str(len(s)) for s in shards)} questions)", file=sys.stderr)
        results: dict[int, dict[str, Any]] = {}
        for number, value, error in finished(ray, pending):
            if error is not None:  # a failed shard fails the row (``finished`` cancels the others)
                raise self._shard_error(job, number, shards[number], questions, error) from None
            results[number] = value
            log = value["log"].strip()
            if log:
                print(log, file=sys.stderr)
            print(f"{job.name}: shard {number + 1}/{len(shards)} done ({len(shards[number])} questions, "
                  f"{value['seconds']:.0f}s) [{len(results)}/{len(shards)}]", file=sys.stderr)
        return merge_shards(job, questions, shards, [results[n] for n in range(len(shards))])

    @staticmethod
    def _shard_error(job: RowJob, number: int, shard: list[int], questions: Sequence[Question],
                     cause: BaseException) -> VidagentError:
        if isinstance(cause, VidagentError):
            return cause
        videos = sorted({questions[i].video for i in shard})
        shown = ", ".join(videos[:3]) + (f" and {len(videos) - 3} more" if len(videos) > 3 else "")
        return ConfigError(f"row {job.name!r} failed on Ray in shard {number + 1} (videos {shown}): "
                           f"{type(cause).__name__}: {cause}".splitlines()[0],
                           "run the row with --engine local (add --limit N) to see the traceback")


def merge_shards(job: RowJob, questions: Sequence[Question], shards: Sequence[Sequence[int]],
                 results: Sequence[dict[str, Any]]) -> RowReport:
    """One ``RowReport`` from the shards' results, outcomes and skipped ids in the order of ``questions``."""
    outcome_at: dict[int, Outcome] = {}
    skipped_at: set[int] = set()
    for shard, result in zip(shards, results, strict=True):
        outcomes = [Outcome(**o) for o in result["outcomes"]]
        skipped = set(result["skipped"])
        for index in shard:  # a shard's outcomes are in its questions' order, skipped ones left out
            if outcomes and outcomes[0].question_id == questions[index].id:
                outcome_at[index] = outcomes.pop(0)
            elif questions[index].id in skipped:
                skipped_at.add(index)
            else:
                raise ConfigError(f"row {job.name!r}: a Ray shard returned no outcome for question "
                                  f"{questions[index].id}", "run the row with --engine local")
    ordered = [outcome_at[i] for i in sorted(outcome_at)]
    samples = max((r["samples"] for r in results), default=1)
    return RowReport.from_outcomes(job.name, job.spec, ordered,
                                   skipped=[questions[i].id for i in sorted(skipped_at)], samples=samples)
