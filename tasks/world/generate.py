"""Generate world videos: one video (scene -> frames -> H.264 + ground truth + questions), or a whole
directory in parallel across processes with a progress bar.

Directory format (``vidagent world generate --out DIR``)::

    DIR/world.json          manifest: generator_version, seed, count, config, splits (video ids per split)
    DIR/<video_id>.mp4      H.264, yuv420p
    DIR/<video_id>.json     ground truth (``truth.GroundTruth``)
    DIR/questions.jsonl     all questions (``questions.Question``, with generator_version), one per line

``generator_version`` is ``questions.GENERATOR_VERSION`` of the code that wrote the directory; a world written
before the stamp existed loads as ``"unversioned"``.
"""

from __future__ import annotations

import json
import os
import time
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


def generate_video(config: WorldConfig, seed: int, video_id: str, out_dir: str | Path | None,
                   split: str | None = None, render: bool = True) -> VideoResult:
    """Simulate one scene; if ``render``, write ``<video_id>.mp4`` and ``<video_id>.json`` to ``out_dir``."""
    start = time.perf_counter()
    scene = simulate(config, seed, video_id)
    truth = ground_truth(scene, f"{video_id}.mp4", split)
    questions = generate_questions(truth, config.questions_per_video, seed)
    size = 0
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        if render:
            size = render_video(scene, out / truth.video_file, crf=config.crf).stat().st_size
        save_ground_truth(truth, out / f"{video_id}.json")
    return VideoResult(truth, questions, scene.num_frames, time.perf_counter() - start, size)


def _job(args: tuple[dict[str, Any], int, str, str, str | None, bool]) -> VideoResult:
    config, seed, video_id, out, split, render = args
    return generate_video(WorldConfig(**config), seed, video_id, out, split, render)


@dataclass
class WorldSummary:
    out: Path
    videos: int
    frames: int
    questions: int
    seconds: float
    bytes: int
    splits: dict[str, list[str]] = field(default_factory=dict)


def generate_world(out: str | Path, videos: int, seed: int, config: WorldConfig | None = None,
                   workers: int | None = None, progress: bool = True, render: bool = True,
                   fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
                   names: list[str] | None = None) -> WorldSummary:
    """Generate ``videos`` videos into ``out`` using ``workers`` processes (default: all cores)."""
    if videos < 1:
        raise ConfigError(f"--videos must be at least 1, got {videos}", "pass e.g. --videos 100")
    if names is not None and len(names) != videos:
        raise ConfigError(f"{len(names)} names for {videos} videos", "pass one name per video")
    check_fractions(fractions)
    config = config or WorldConfig()
    workers = max(1, min(workers or os.cpu_count() or 1, videos))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for index in range(videos):
        vseed = video_seed(seed, index)
        video_id = names[index] if names else f"world-{seed}-{index:05d}"
        jobs.append((config.model_dump(), vseed, video_id, str(out), split_of(vseed, fractions), render))
    from tqdm import tqdm

    start = time.perf_counter()
    bar = tqdm(total=videos, unit="video", desc="world", disable=not progress)
    results: list[VideoResult] = []
    if workers == 1:
        for job in jobs:
            results.append(_job(job))
            bar.update(1)
    else:
        import multiprocessing

        # spawn: workers start clean (no inherited threads or locks), same on every platform
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for result in pool.imap_unordered(_job, jobs):
                results.append(result)
                bar.update(1)
    bar.close()
    return write_directory(out, results, {"seed": seed, "videos": videos, "fractions": list(fractions),
                                          "config": json.loads(config.model_dump_json())},
                           time.perf_counter() - start)


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
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return WorldSummary(out, len(results), sum(r.frames for r in results), len(questions), seconds,
                        sum(r.bytes for r in results), splits)


@dataclass
class World:
    """A generated directory, loaded."""

    root: Path
    manifest: dict[str, Any]
    truths: dict[str, GroundTruth]
    questions: list[Question]

    def video_path(self, video_id: str) -> Path:
        return self.root / self.truths[video_id].video_file

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
