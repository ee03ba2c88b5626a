"""Generate world videos: one video (scene -> frames -> H.264 + ground truth + questions), or a whole
directory, in this process or across worker processes, with a progress bar.

Directory format (``vidagent world generate --out DIR``)::

    DIR/world.json          manifest: generator_version, seed, count, config, splits (video ids per split)
    DIR/<video_id>.mp4      H.264, yuv420p
    DIR/<video_id>.json     ground truth (``truth.GroundTruth``)
    DIR/questions.jsonl     all questions (``questions.Question``, with generator_version), one per line

While a run is under way ``DIR/world.unfinished.json`` holds its settings and ``DIR/.partial/`` the files
being written; ``world.json`` comes last, so a folder without it is an interrupted run, which a later run
refuses or, with the same settings and ``resume``, finishes.

``generator_version`` is ``questions.GENERATOR_VERSION`` of the code that wrote the directory; a world written
before the stamp existed loads as ``"unversioned"``.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from vidagent.errors import ConfigError
from vidagent.tasks.questions import (
    GENERATOR_VERSION,
    UNVERSIONED,
    Question,
    generate_questions,
    load_questions,
    save_questions,
)
from vidagent.tasks.splits import DEFAULT_FRACTIONS, check_fractions, group_by_split, split_of, video_seed
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.scene import Scene, simulate
from vidagent.tasks.world.truth import GroundTruth, ground_truth, load_ground_truth, save_ground_truth

MANIFEST = "world.json"
QUESTIONS = "questions.jsonl"
# The run's settings, written first and removed after MANIFEST: a folder holding it is an interrupted run.
UNFINISHED = "world.unfinished.json"
# Files being written; each is moved into DIR when complete, so a file in DIR is never cut short.
STAGING = ".partial"
# What identifies a run: a folder is resumed only by a run that agrees on all of them.
RUN_KEYS = ("generator_version", "seed", "videos", "fractions", "config", "names")


def render_frames(scene: Scene):
    """Yield the frames of a scene (uint8, H x W x 3)."""
    from vidagent.tasks.world.render import FramePainter, background

    rng = np.random.default_rng([scene.seed, 3])
    backdrop = background(scene.background, rng, scene.width, scene.height, int(scene.height * 0.36))
    painter = FramePainter(backdrop, scene.gain, scene.tint, scene.noise_std, rng)
    for k in range(scene.num_frames):
        yield painter.paint(scene.layers(k), k)


def render_video(scene: Scene, path: str | Path, crf: int = 26) -> Path:
    from vidagent.tasks.world.encode import H264Writer

    with H264Writer(path, scene.width, scene.height, scene.fps, crf=crf) as writer:
        for frame in render_frames(scene):
            writer.write(frame)
    return Path(path)


@dataclass
class VideoResult:
    truth: GroundTruth
    questions: list[Question]
    frames: int
    seconds: float  # wall time to simulate, render and encode
    bytes: int = 0
    reused: bool = False  # its files were already in the folder (a resumed run) and were kept


def generate_video(config: WorldConfig, seed: int, video_id: str, out_dir: str | Path | None,
                   split: str | None = None, render: bool = True, reuse: bool = False) -> VideoResult:
    """Simulate one scene; with ``out_dir``, write ``<video_id>.mp4`` (if ``render``) and ``<video_id>.json``
    there.

    Each file is written in ``out_dir/.partial`` and moved into place when complete, the ground truth last, so
    a ``<video_id>.json`` in ``out_dir`` stands for a complete video. With ``reuse``, a video already there
    with the same ground truth is kept instead of rendered again (how a resumed run skips finished videos).
    """
    start = time.perf_counter()
    scene = simulate(config, seed, video_id)
    truth = ground_truth(scene, f"{video_id}.mp4", split)
    questions = generate_questions(truth, config.questions_per_video, seed)
    size, reused = 0, False
    if out_dir is not None:
        out = Path(out_dir)
        video, truth_file = out / truth.video_file, out / f"{video_id}.json"
        reused = reuse and _is_written(truth, truth_file, video if render else None)
        if reused:
            size = video.stat().st_size if render else 0
        else:
            size = _write_video_files(scene, truth, out, render, config.crf)
    return VideoResult(truth, questions, scene.num_frames, time.perf_counter() - start, size, reused)


def _is_written(truth: GroundTruth, truth_file: Path, video: Path | None) -> bool:
    return (truth_file.is_file() and truth_file.read_text(encoding="utf-8") == truth.model_dump_json()
            and (video is None or video.is_file()))


def _write_video_files(scene: Scene, truth: GroundTruth, out: Path, render: bool, crf: int) -> int:
    staging = out / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    video, truth_file = staging / truth.video_file, staging / f"{truth.video_id}.json"
    size = 0
    try:
        if render:
            size = render_video(scene, video, crf=crf).stat().st_size
            os.replace(video, out / video.name)
        save_ground_truth(truth, truth_file)
        os.replace(truth_file, out / truth_file.name)  # last: the video is complete
    finally:  # interrupted: no half-written file stays behind
        video.unlink(missing_ok=True)
        truth_file.unlink(missing_ok=True)
    return size


def _job(args: tuple[dict[str, Any], int, str, str, str | None, bool]) -> VideoResult:
    config, seed, video_id, out, split, render = args
    return generate_video(WorldConfig(**config), seed, video_id, out, split, render, reuse=True)


@dataclass
class WorldSummary:
    out: Path
    videos: int
    frames: int
    questions: int
    seconds: float
    bytes: int
    splits: dict[str, list[str]] = field(default_factory=dict)
    reused: int = 0  # videos kept from an interrupted run (``resume``)

    def as_json(self) -> dict[str, Any]:
        """What ``vidagent world generate --json`` prints."""
        return {"directory": str(self.out), "videos": self.videos, "reused": self.reused,
                "frames": self.frames, "questions": self.questions, "seconds": round(self.seconds, 3),
                "bytes": self.bytes, "generator_version": GENERATOR_VERSION, "splits": self.splits}


def generate_world(out: str | Path, videos: int, seed: int, config: WorldConfig | None = None,
                   workers: int = 1, progress: bool = True, render: bool = True,
                   fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
                   names: list[str] | None = None, resume: bool = False,
                   overwrite: bool = False) -> WorldSummary:
    """Generate ``videos`` videos into the folder ``out`` in this process (``workers=1``) or in ``workers``
    processes, then its ``questions.jsonl`` and, last, ``world.json``.

    ``out`` must be new or empty, unless ``resume`` (finish an interrupted run with the same settings, keeping
    the videos it completed; a complete world of the same settings is checked and kept) or ``overwrite``
    (delete the world files there first); otherwise ``ConfigError``: two runs never mix in one folder.

    Worker processes start by importing the calling program: from a script, call this under
    ``if __name__ == "__main__":``. Where they cannot start (code read from stdin, a script without the guard)
    it says so in one line on stderr and generates in this process instead.
    """
    _exit_if_a_starting_worker()
    if videos < 1:
        raise ConfigError(f"--videos must be at least 1, got {videos}", "pass e.g. --videos 100")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}", "pass e.g. --workers 4")
    if names is not None and len(names) != videos:
        raise ConfigError(f"{len(names)} names for {videos} videos", "pass one name per video")
    check_fractions(fractions)
    config = config or WorldConfig()
    out = Path(out)
    run = _run_settings(seed, videos, fractions, config, names)
    _prepare_out(out, run, resume=resume, overwrite=overwrite)
    _write_json(out / UNFINISHED, {"format": "vidagent-world", "version": 1, **run})
    (out / MANIFEST).unlink(missing_ok=True)  # a resumed world is unfinished again until the end
    jobs = []
    for index in range(videos):
        vseed = video_seed(seed, index)
        video_id = names[index] if names else f"world-{seed}-{index:05d}"
        jobs.append((config.model_dump(), vseed, video_id, str(out), split_of(vseed, fractions), render))
    start = time.perf_counter()
    results = _run_jobs(jobs, min(workers, videos), progress)
    summary = write_directory(out, results, run, time.perf_counter() - start)
    (out / UNFINISHED).unlink()
    return summary


def _run_settings(seed: int, videos: int, fractions: tuple[float, float, float], config: WorldConfig,
                  names: list[str] | None) -> dict[str, Any]:
    run = {"generator_version": GENERATOR_VERSION, "seed": seed, "videos": videos,
           "fractions": list(fractions), "config": json.loads(config.model_dump_json())}
    if names is not None:
        run["names"] = list(names)
    return json.loads(json.dumps(run))  # as it reads back from the file, so that runs compare equal


def _run_jobs(jobs: list[tuple], workers: int, progress: bool) -> list[VideoResult]:
    from tqdm import tqdm

    why = _why_workers_cannot_start() if workers > 1 else None
    if why:
        print(f"generate_world: {why}; generating in this process", file=sys.stderr)
    results: list[VideoResult] = []
    with tqdm(total=len(jobs), unit="video", desc="world", disable=not progress) as bar:
        if workers > 1 and not why:
            jobs = _run_in_processes(jobs, workers, results, bar)
        for job in jobs:
            results.append(_job(job))
            bar.update(1)
    return results


def _run_in_processes(jobs: list[tuple], workers: int, results: list[VideoResult], bar: Any) -> list[tuple]:
    """Run ``jobs`` in ``workers`` processes, appending to ``results``; return the jobs left if the pool
    broke."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # spawn: workers start clean (no inherited threads or locks), same on every platform. ProcessPoolExecutor,
    # not multiprocessing.Pool: a worker that dies (say on start-up) breaks the pool instead of being
    # respawned forever.
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    waiting, running = deque(jobs), {}
    try:
        while waiting or running:
            # one video per worker at a time: after Ctrl-C only those finish (a submitted one cannot be
            # cancelled). The workers start with SIGINT blocked: Ctrl-C stops only this process.
            while waiting and len(running) < workers:
                with _interrupts_blocked():
                    future = executor.submit(_job, waiting[0])
                running[future] = waiting.popleft()
            for future in wait(running, return_when=FIRST_COMPLETED).done:
                results.append(future.result())
                del running[future]
                bar.update(1)
    except BrokenProcessPool:
        left = [*running.values(), *waiting]
        why = ("a worker process died (killed? out of memory?)" if results else
               "the worker processes exited as they started (does the calling script run generate_world "
               'outside `if __name__ == "__main__":`?)')
        bar.write(f"generate_world: {why}; generating the other {len(left)} videos in this process",
                  file=sys.stderr)
        return left
    finally:  # on Ctrl-C too: the running videos finish (complete files that a resume keeps)
        executor.shutdown(wait=True, cancel_futures=True)
    return []


@contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Block SIGINT in this thread; processes started meanwhile keep it blocked (the mask survives exec)."""
    if sys.platform == "win32":  # no signal masks there
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a Ctrl-C that came meanwhile is raised now


def _why_workers_cannot_start() -> str | None:
    """Why spawned workers would fail to start from this program, or None. A spawned worker imports the main
    program again, by module name or file path (as ``multiprocessing.spawn`` does); a program read from stdin
    has a path that is no file, so every worker would die."""
    import multiprocessing.process

    main = sys.modules["__main__"]
    if getattr(main.__spec__, "name", None) is not None:  # `python -m module`: imported by name
        return None
    path = getattr(main, "__file__", None)  # none for `python -c` and interactive sessions: nothing to import
    if path is None or os.path.isfile(os.path.join(multiprocessing.process.ORIGINAL_DIR or "", path)):
        return None
    return f"worker processes cannot import the main program {path!r} (code read from stdin?)"


def _exit_if_a_starting_worker() -> None:
    """A worker process starts by importing the caller's main program as ``__mp_main__``; if that calls
    generate_world at module level (no ``if __name__ == "__main__":`` guard), every worker would generate the
    whole world again. Exit that worker at once with one line: the parent sees a broken pool and carries on
    in its own process. (``multiprocessing.parent_process()`` is still None while a worker imports the main
    program, so the sign is the ``__mp_main__`` module-level frame on the stack.)"""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__mp_main__":
            raise SystemExit("generate_world: called while a worker process imports the main program (put "
                             'the call under `if __name__ == "__main__":`); this worker exits')
        frame = frame.f_back


def _prepare_out(out: Path, run: dict[str, Any], resume: bool, overwrite: bool) -> None:
    """Make ``out`` ready for ``run``, or refuse it with ``ConfigError``."""
    if resume and overwrite:
        raise ConfigError("--resume keeps the videos in --out and --overwrite deletes them",
                          "pass one of them")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file", "pass a folder, new or empty")
    out.mkdir(parents=True, exist_ok=True)
    entries = sorted(path.name for path in out.iterdir())
    if not entries:
        return
    if overwrite:
        _delete_world_files(out, entries)
        return
    found, state = _recorded_run(out)
    if found is None:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise ConfigError(f"--out {out} is not empty ({len(entries)} entries: {shown}) and holds no "
                          f"{MANIFEST} or {UNFINISHED}, so no run can be resumed there",
                          "use a new --out, or pass --overwrite to delete its world files (*.mp4, *.json) "
                          "first")
    differ = [key for key in RUN_KEYS if found.get(key) != run.get(key)]
    if resume and not differ:
        return
    if resume:
        verb = "differs" if len(differ) == 1 else "differ"
        raise ConfigError(f"cannot resume {out}: it holds {state} of {_describe(found)}, this run is "
                          f"{_describe(run)} ({', '.join(differ)} {verb})",
                          "rerun with the settings of the run in that folder, use a new --out, or pass "
                          "--overwrite to replace it")
    raise ConfigError(f"--out {out} is not empty: it holds {state} of {_describe(found)}",
                      "use a new --out, pass --resume to finish or keep it (same --videos, --seed and "
                      "--config), or --overwrite to replace it")


def _recorded_run(out: Path) -> tuple[dict[str, Any] | None, str]:
    """The settings of the run that wrote ``out`` and what state it is in, or ``(None, "")``."""
    for name, state in ((UNFINISHED, "an unfinished world (an interrupted run)"), (MANIFEST, "a world")):
        path = out / name
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8")), state
            except (OSError, json.JSONDecodeError):
                return None, ""
    return None, ""


def _describe(run: dict[str, Any]) -> str:
    return (f"seed {run.get('seed')}, {run.get('videos')} videos, generator "
            f"{run.get('generator_version') or UNVERSIONED}")


def _delete_world_files(out: Path, entries: list[str]) -> None:
    """--overwrite: delete what a world run writes; refuse (deleting nothing) a folder holding anything
    else."""

    def is_world_file(name: str) -> bool:
        path = out / name
        if path.is_dir():
            return name == STAGING
        return name in (MANIFEST, UNFINISHED, QUESTIONS) or name.endswith((".mp4", ".json"))

    foreign = [name for name in entries if not is_world_file(name)]
    if foreign:
        raise ConfigError(f"--overwrite deletes only world files, and {out} also holds "
                          f"{', '.join(foreign[:5])}", "use a new --out, or empty that folder yourself")
    for name in entries:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` whole or not at all (a new file moved over the old one)."""
    partial = path.parent / STAGING / path.name
    partial.parent.mkdir(exist_ok=True)
    partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(partial, path)


def write_directory(out: str | Path, results: list[VideoResult], manifest: dict[str, Any],
                    seconds: float = 0.0) -> WorldSummary:
    """Write ``questions.jsonl`` and ``world.json`` for videos already written to ``out``."""
    out = Path(out)
    results = sorted(results, key=lambda r: r.truth.video_id)
    truths = [r.truth for r in results]
    questions = [q for r in results for q in r.questions]
    save_questions(questions, out / QUESTIONS)
    splits = group_by_split(truths)
    # "version" is the directory format; "generator_version" says which generator made its contents
    manifest = {"format": "vidagent-world", "version": 1, "generator_version": GENERATOR_VERSION, **manifest,
                "splits": splits}
    _write_json(out / MANIFEST, manifest)
    shutil.rmtree(out / STAGING, ignore_errors=True)  # only leftovers of killed workers can be in it now
    return WorldSummary(out, len(results), sum(r.frames for r in results), len(questions), seconds,
                        sum(r.bytes for r in results), splits, sum(r.reused for r in results))


@dataclass
class World:
    """A generated directory, loaded."""

    root: Path
    manifest: dict[str, Any]
    truths: dict[str, GroundTruth]
    questions: list[Question]

    def video_path(self, video_id: str) -> Path:
        return self.root / self.truths[video_id].video_file

    def split_truths(self, name: str) -> dict[str, GroundTruth]:
        """The ground truth of the videos in split ``name``, by video id."""
        return {vid: gt for vid, gt in self.truths.items() if gt.split == name}

    def split(self, name: str) -> list[Question]:
        """Questions about the videos of split ``name``."""
        ids = set(self.manifest["splits"].get(name, []))
        return [q for q in self.questions if q.video in ids]

    @property
    def generator_version(self) -> str:
        """The generator that wrote this world, or ``UNVERSIONED`` for a world from before the stamp."""
        return self.manifest.get("generator_version") or UNVERSIONED


def load_world(root: str | Path) -> World:
    """Load a world directory of any generator version (``World.generator_version`` says which); raise
    ``ConfigError`` if it is not one or if its questions were made by another generator than its manifest."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file() and (root / UNFINISHED).is_file():
        raise ConfigError(f"{root} is an unfinished world (its generation was interrupted: no {MANIFEST})",
                          "finish it: rerun the same `vidagent world generate` command with --resume")
    if not manifest_path.is_file():
        raise ConfigError(f"{root} is not a world directory (no {MANIFEST})",
                          "generate one with `vidagent world generate --videos N --seed S --out DIR`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    ids = sorted(v for ids in manifest.get("splits", {}).values() for v in ids)
    truths = {video_id: load_ground_truth(root / f"{video_id}.json") for video_id in ids}
    world = World(root, manifest, truths, load_questions(root / QUESTIONS))
    _check_questions_match_manifest(world)
    return world


def _check_questions_match_manifest(world: World) -> None:
    """A questions file from one generator beside a manifest from another (a partly copied or regenerated
    directory) would pair questions with the wrong videos' truths: refuse it."""
    found = sorted({q.generator_version or UNVERSIONED for q in world.questions} - {world.generator_version})
    if found:
        raise ConfigError(f"{world.root / QUESTIONS} holds questions of generator {', '.join(found)} but "
                          f"{world.root / MANIFEST} says {world.generator_version}",
                          "regenerate the whole directory with `vidagent world generate`")
