"""Build a video's index (``vidagent index``): every chunk of every layer, once, resumable, in parallel.

``index_video`` runs the perception models over the whole video chunk by chunk at the base rate (the
layers are described in ``vidagent.tools.video_index``). A chunk already in the index is skipped, so a
killed run resumes where it stopped and loses at most the chunks that were in flight. With ``workers > 1``
the chunks are shared among spawned processes, each with its own models and one thread per model; they
write their chunks into the same SQLite file. A chunk the decoder cannot read (a truncated end) is recorded
as failed with the reason, the rest of the video is still indexed, and the report names the gap.

Tools index lazily too: the first tool call over a span tracks the chunks it needs and stores them, so
``vidagent ask`` on a new video builds the part of the index its question needs (with a progress bar past a
few chunks); ``vidagent index`` does the whole video up front, which is what a long video or a corpus wants.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidagent.errors import ConfigError, VideoError
from vidagent.tools.memo import Memo
from vidagent.tools.progress import Progress
from vidagent.tools.video import VideoRef, VideoSession, sample_frames
from vidagent.tools.video_index import IndexStore, VideoIndex

SHOTS_VERSION = "shots-v1"
HIST_BINS = (8, 4, 4)  # hue x saturation x value
# A cut: the colour histogram moves by more than this (total variation, 0-1) between two sampled frames
# and by much more than around it. Checked on bikes.mp4's five cuts and the one-shot clips of real_clips.
CUT_DISTANCE = 0.35
CUT_CONTRAST = 2.5
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}


@dataclass
class IndexReport:
    """What one ``index_video`` run did."""

    video: str
    sha256: str
    duration_s: float
    chunks: int
    reused: int = 0  # chunks already in the index
    computed: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # chunk -> why
    frames: int = 0
    seconds: float = 0.0
    index_path: str = ""
    index_bytes: int = 0
    dropped_other_versions: int = 0
    other_versions: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed

    def line(self) -> str:
        minutes = self.duration_s / 60
        done = f"{self.computed} computed, {self.reused} already indexed"
        rate = f", {self.seconds / max(minutes, 1e-9):.1f} s per video minute" if self.computed else ""
        failed = ""
        if self.failed:
            first = min(self.failed)
            failed = (f"; {len(self.failed)} chunk(s) failed from {first} on ({self.failed[first][:120]}): "
                      "the index covers the rest")
        return (f"{Path(self.video).name}: {minutes:.1f} min, {self.chunks} chunks ({done}), {self.frames} frames "
                f"in {self.seconds:.1f} s{rate}; index {self.index_bytes / 1024:.0f} KB at {self.index_path}{failed}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["complete"] = self.complete
        return data


# -- layers -------------------------------------------------------------------------------------------


def layer_fingerprints(perception: Any, session: VideoSession) -> dict[str, str]:
    """The layers ``perception`` fills, with the fingerprint of each for this video."""
    detector = getattr(perception, "detector", None)
    if detector is None:
        raise ConfigError(f"the {getattr(perception, 'name', '?')!r} tools have no detector to index with",
                          "index with --tools real or --tools world")
    layers = {"tracks": detector.index_fingerprint(session),
              "shots": shots_fingerprint(session, detector)}
    if hasattr(perception, "scene_chunk"):
        layers["scene"] = perception.scene_fingerprint(session)
    return layers


def frame_histogram(image: np.ndarray) -> np.ndarray:
    """A normalised hue-saturation-value histogram of a frame (downscaled first: cuts are global changes)."""
    import cv2  # noqa: PLC0415

    small = cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    return hist / max(1.0, float(hist.sum()))


def shots_chunk(session: VideoSession, detector: Any, chunk_index: int) -> dict[str, Any]:
    """Histogram changes between the chunk's sampled frames (those the detector just decoded: no new decode)."""
    start = chunk_index * detector.chunk_s
    end = min(session.ref.duration_s, start + detector.chunk_s)
    frames = sample_frames(session.ref, start, end, fps=detector.rate_for(session), cache=session.frame_cache,
                           decoder=session.decoder)
    hists = [frame_histogram(image) for image in frames.images]
    changes = [round(0.5 * float(np.abs(a - b).sum()), 4) for a, b in zip(hists, hists[1:], strict=False)]
    return {"times_s": [round(t, 3) for t in frames.times_s], "changes": changes,
            "first": np.round(hists[0], 4).tolist(), "last": np.round(hists[-1], 4).tolist()}


def shot_cuts(chunks: Sequence[dict[str, Any]]) -> list[float]:
    """Cut times from consecutive chunks' ``shots_chunk`` payloads (a cut between two chunks included)."""
    times: list[float] = []
    changes: list[float] = []
    for i, chunk in enumerate(chunks):
        if i and chunk["times_s"]:
            changes.append(round(0.5 * float(np.abs(np.asarray(chunks[i - 1]["last"]) -
                                                    np.asarray(chunk["first"])).sum()), 4))
        times += chunk["times_s"]
        changes += chunk["changes"]
    cuts = []
    for k, change in enumerate(changes):  # change k is between times[k] and times[k + 1]
        around = changes[max(0, k - 3):k] + changes[k + 1:k + 4]
        typical = float(np.median(around)) if around else 0.0
        if change >= CUT_DISTANCE and change >= CUT_CONTRAST * typical:
            cuts.append(round((times[k] + times[k + 1]) / 2, 2))
    return cuts


def index_chunk(perception: Any, session: VideoSession, chunk_index: int, layers: dict[str, str]) -> int:
    """Compute every missing layer of one chunk into the index. Returns the frames sampled."""
    detector = perception.detector
    before = session.frames_indexed
    detector.tracked_chunk(session, chunk_index)
    if "scene" in layers:
        perception.scene_chunk(session, chunk_index)
    shots_of(session, detector, chunk_index)
    return session.frames_indexed - before


def shots_fingerprint(session: VideoSession, detector: Any) -> str:
    return f"{SHOTS_VERSION}:{HIST_BINS}:rate={detector.rate_for(session):g}:chunk={detector.chunk_s:g}"


def shots_of(session: VideoSession, detector: Any, chunk_index: int) -> dict[str, Any]:
    """A chunk's shots payload: from the index, or computed after the chunk is tracked (its frames are then
    in the frame cache) and stored."""
    fingerprint = shots_fingerprint(session, detector)
    index = session.index
    memo_key = (session.ref.sha256, chunk_index, fingerprint)
    known = _SHOTS.get(memo_key)
    if known is None and index is not None:
        known = index.get("shots", chunk_index, fingerprint)
        if known is not None:
            _SHOTS.put(memo_key, known)
            return known
    if known is None:
        detector.tracked_chunk(session, chunk_index)
        started = time.perf_counter()
        known = shots_chunk(session, detector, chunk_index)
        _SHOTS.put(memo_key, known)
        if index is not None:
            index.put("shots", chunk_index, fingerprint, known, seconds=time.perf_counter() - started)
    elif index is not None and not index.has("shots", chunk_index, fingerprint):
        index.put("shots", chunk_index, fingerprint, known)
    return known


_SHOTS: Memo[tuple[str, int, str], dict[str, Any]] = Memo(1024)  # without an index: shots kept in memory


def missing_chunks(index: VideoIndex, layers: dict[str, str], count: int) -> tuple[list[int], int]:
    """Chunks with a layer not done yet, and how many are complete."""
    status = {layer: index.status(layer, fp) for layer, fp in layers.items()}
    missing = [c for c in range(count) if any(status[layer].get(c, "missing") is not None for layer in layers)]
    return missing, count - len(missing)


# -- one video ------------------------------------------------------------------------------------------


def index_video(video: str | os.PathLike[str] | VideoRef, *, profile: str = "real", perception: Any = None,
                store: IndexStore | None = None, workers: int = 1, rebuild: bool = False, wait_for_lock: bool = True,
                show_progress: bool = True, say: Callable[[str], None] = print) -> IndexReport:
    """Index one video (see the module docstring). ``perception`` reuses loaded models (one worker only);
    otherwise the ``profile``'s models load here or in each worker."""
    store = store or IndexStore()
    if not store.enabled:
        raise ConfigError("indexing is off (VIDAGENT_INDEX=off)", "unset VIDAGENT_INDEX to build an index")
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}", "pass --workers 1 (or the number of cores)")
    ref = video if isinstance(video, VideoRef) else VideoRef.open(video)
    store.check_room(ref.duration_s)
    if perception is None:
        perception = build_perception(profile)
    session = VideoSession(ref, index_store=store)
    layers = layer_fingerprints(perception, session)
    count = perception.detector.chunk_count(session)
    index = session.index
    assert index is not None
    report = IndexReport(ref.path, ref.sha256, ref.duration_s, count, index_path=str(index.path))
    started = time.perf_counter()
    with store.exclusive(ref.sha256, wait=wait_for_lock, say=say):
        others = sorted({fp for layer, fp in layers.items() for fp in index.other_fingerprints(layer, fp)})
        if others and rebuild:
            report.dropped_other_versions = index.drop_others(layers)
        elif others:
            report.other_versions = others
            say(f"note: {ref.path}'s index also holds chunks from other model versions ({len(others)} kinds); "
                "they are not used. `vidagent index --rebuild` deletes them")
        missing, report.reused = missing_chunks(index, layers, count)
        progress = Progress(len(missing), f"indexing {Path(ref.path).name}", show=show_progress)
        try:
            if workers == 1 or len(missing) <= 1:
                for chunk_index in missing:
                    _run_chunk(perception, session, chunk_index, layers, report)
                    progress.advance(report.frames - progress.frames)
            else:
                _run_parallel(profile, store, ref, missing, layers, workers, report, progress)
        finally:
            progress.close()
            report.seconds = round(time.perf_counter() - started, 2)
            report.index_bytes = index.size_bytes()
    return report


def _run_chunk(perception: Any, session: VideoSession, chunk_index: int, layers: dict[str, str],
               report: IndexReport) -> None:
    try:
        report.frames += index_chunk(perception, session, chunk_index, layers)
        report.computed += 1
    except VideoError as error:  # a truncated or damaged stretch: keep the rest of the video
        report.failed[chunk_index] = error.problem
        index = session.index
        if index is not None:
            for layer, fingerprint in layers.items():
                index.fail(layer, chunk_index, fingerprint, error.problem)


# -- worker processes -------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def build_perception(profile: str) -> Any:
    from vidagent.tools.profiles import PROFILES  # noqa: PLC0415

    if profile not in PROFILES:
        raise ConfigError(f"unknown tool profile {profile!r}", f"use one of: {', '.join(PROFILES)}")
    return PROFILES[profile][1]()


def _init_worker(profile: str, root: str) -> None:
    from vidagent.offline import apply_offline_defaults  # noqa: PLC0415

    apply_offline_defaults()
    _WORKER["perception"] = build_perception(profile)
    _WORKER["store"] = IndexStore(root)


def _worker_chunk(path: str, chunk_index: int, layers: dict[str, str]) -> tuple[int, int, str | None]:
    """In a worker: one chunk. Returns (chunk, frames, error or None)."""
    session = VideoSession(path, index_store=_WORKER["store"])
    report = IndexReport(path, session.ref.sha256, session.ref.duration_s, 0)
    _run_chunk(_WORKER["perception"], session, chunk_index, layers, report)
    return chunk_index, report.frames, report.failed.get(chunk_index)


def _run_parallel(profile: str, store: IndexStore, ref: VideoRef, missing: list[int], layers: dict[str, str],
                  workers: int, report: IndexReport, progress: Progress) -> None:
    import multiprocessing  # noqa: PLC0415

    # each worker runs its models on one thread: the cores are shared out by processes, not by threads
    threads = max(1, (os.cpu_count() or 1) // workers)
    saved = {k: os.environ.get(k) for k in ("VIDAGENT_THREADS", "OMP_NUM_THREADS", "VIDAGENT_FRAME_CACHE_MB")}
    os.environ.update({"VIDAGENT_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
                       "VIDAGENT_FRAME_CACHE_MB": "256"})
    pool = ProcessPoolExecutor(max_workers=min(workers, len(missing)), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(profile, str(store.root)))
    try:
        pending: set[Future] = {pool.submit(_worker_chunk, ref.path, c, layers) for c in missing}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                chunk_index, frames, error = future.result()
                if error is None:
                    report.computed += 1
                    report.frames += frames
                else:
                    report.failed[chunk_index] = error
                progress.advance(frames)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    pool.shutdown(wait=True)


# -- many videos ----------------------------------------------------------------------------------------


def video_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The videos named: files as given, directories searched (not recursively) for video suffixes."""
    found: list[Path] = []
    for item in paths:
        path = Path(item).expanduser()
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
            if not inside:
                raise ConfigError(f"{path} holds no video files ({', '.join(sorted(VIDEO_SUFFIXES))})",
                                  "pass a video file or a folder of videos")
            found += inside
        elif path.exists():
            found.append(path)
        else:
            raise VideoError(f"video not found: {path}", "check the path (relative paths start at the current directory)")
    return found
