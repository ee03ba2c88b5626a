"""Video access: ``VideoRef`` metadata, frame sampling by time, decord with a PyAV fallback, and a
memory-bounded frame cache shared by every tool of a process.

Frames are addressed by index: frame ``i`` is shown at ``i / fps`` seconds. A frame decoded once (at a
given size) is served from the cache to every later request, whatever tool or sampling rate asks.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, Self

import numpy as np

from vidagent.errors import BudgetError, TimeRangeError, VideoError
from vidagent.tools.memo import Memo

DecoderName = Literal["auto", "decord", "pyav"]
DEFAULT_FRAME_CACHE_BYTES = 512 * 1024 * 1024
# Frames this far apart (median) decode faster with PyAV's keyframe-aware forward decoding than with decord,
# which seeks for each one and decodes from the keyframe before it. On 640x360 H.264 with 250-frame GOPs (2
# cores): 30 frames at 1 frame/s of 30 fps took 4.5 s with decord, 1.2 s with PyAV; at 0.25 frame/s 5.2 s
# against 3.9 s; at 2 frames/s (15 apart) decord was faster, 2.4 s against 3.1 s for a minute.
SPARSE_GAP = 20
VIDEO_HINT = "pass an H.264/MPEG-4/VP9 video file such as an .mp4 (check it plays with ffprobe)"


@dataclass(frozen=True)
class VideoRef:
    """A video file and its metadata. Build it with ``VideoRef.open(path)``."""

    path: str
    sha256: str
    fps: float
    frame_count: int
    duration_s: float
    width: int
    height: int
    codec: str

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> VideoRef:
        """Check the file and read its metadata. Raises ``VideoError`` with a fix for bad input."""
        file = Path(path).expanduser()
        if not file.exists():
            raise VideoError(f"video not found: {file}", "check the path (relative paths start at the current directory)")
        if file.is_dir():
            raise VideoError(f"{file} is a directory, not a video file", VIDEO_HINT)
        if file.stat().st_size == 0:
            raise VideoError(f"{file} is empty (0 bytes)", "re-export or re-download the video")
        meta = _probe(file)
        return cls(path=str(file.resolve()), sha256=file_sha256(file), **meta)

    def frame_index(self, t_s: float) -> int:
        return min(self.frame_count - 1, max(0, int(round(t_s * self.fps))))

    def check_range(self, start_s: float, end_s: float) -> tuple[float, float]:
        """Validate a time range and clip its end to the video (a small overshoot is tolerated)."""
        if not (np.isfinite(start_s) and np.isfinite(end_s)):
            raise TimeRangeError(f"time range {start_s}-{end_s}s is not finite", "use seconds as plain numbers")
        if start_s < 0 or start_s >= self.duration_s:
            raise TimeRangeError(
                f"start {start_s:.2f}s is outside the video (0-{self.duration_s:.2f}s)",
                f"use a start between 0 and {self.duration_s:.2f}",
            )
        if end_s <= start_s:
            raise TimeRangeError(f"empty time range {start_s:.2f}-{end_s:.2f}s", "the end must be after the start")
        return start_s, min(end_s, self.duration_s)


def file_sha256(path: Path) -> str:
    """Content hash, memoised per (path, size, mtime) so repeated opens are free."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    known = _SHA_MEMO.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    _SHA_MEMO.put(key, value)
    return value


# (path, size, mtime) -> sha256: hashing a long video costs seconds, and every VideoRef.open needs it
_SHA_MEMO: Memo[tuple[str, int, int], str] = Memo(4096)


def _probe(file: Path) -> dict:
    import av  # noqa: PLC0415

    try:
        with av.open(str(file)) as container:
            streams = container.streams.video
            if not streams:
                raise VideoError(f"{file} has no video stream", VIDEO_HINT)
            stream = streams[0]
            if stream.codec_context is None:
                tag = getattr(stream, "codec_tag", "?")
                raise VideoError(f"{file} uses a video codec this ffmpeg cannot decode (tag {tag!r})",
                                 "convert it, e.g. ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4")
            codec = stream.codec_context.name
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            else:
                duration = 0.0
            frames = int(stream.frames or 0)
    except VideoError:
        raise
    except av.error.InvalidDataError:
        raise VideoError(f"{file} is not a video file ffmpeg can read", VIDEO_HINT) from None
    except av.error.FFmpegError as error:
        raise VideoError(f"cannot open {file}: {error}", VIDEO_HINT) from None
    if fps <= 0 or width <= 0 or height <= 0:
        raise VideoError(f"{file} has no usable frame rate or size (fps={fps}, {width}x{height})", VIDEO_HINT)
    if frames <= 0:
        frames = int(round(duration * fps))
    if frames <= 0:
        raise VideoError(f"{file} contains zero frames", "the file is empty or truncated: re-export it")
    return {"fps": fps, "frame_count": frames, "duration_s": frames / fps, "width": width,
            "height": height, "codec": codec}


# ---------------------------------------------------------------------------------------------------
# Decoders: read frames by index, as uint8 RGB arrays [N, H, W, 3]
# ---------------------------------------------------------------------------------------------------


def decode_frames(ref: VideoRef, indices: Sequence[int], decoder: DecoderName = "auto") -> np.ndarray:
    """Decode the given frame indices. ``auto`` uses decord (PyAV for frames ``SPARSE_GAP`` or more apart) and
    falls back to PyAV when decord fails."""
    if decoder == "auto":
        decoder = os.environ.get("VIDAGENT_DECODER", "auto")  # type: ignore[assignment]
    if decoder not in ("auto", "decord", "pyav"):
        raise VideoError(f"unknown decoder {decoder!r}", "use one of: auto, decord, pyav")
    if decoder == "auto" and _median_gap(indices) >= SPARSE_GAP:
        decoder = "pyav"
    if decoder in ("auto", "decord"):
        try:
            return _decode_decord(ref, indices)
        except VideoError:
            raise
        except Exception as error:  # decord is missing or failed on this file (known seek bugs)
            if decoder == "decord":
                raise VideoError(f"decord cannot decode {ref.path}: {error}", "use decoder='pyav'") from None
    return _decode_pyav(ref, indices)


def _median_gap(indices: Sequence[int]) -> float:
    distinct = sorted(set(indices))
    return float(np.median(np.diff(distinct))) if len(distinct) > 1 else 0.0


def _decode_decord(ref: VideoRef, indices: Sequence[int]) -> np.ndarray:
    import torch  # noqa: F401,PLC0415  (decord must be imported after torch)
    import decord  # noqa: PLC0415

    reader = decord.VideoReader(ref.path, num_threads=1)
    available = len(reader)
    if max(indices) >= available:
        raise VideoError(f"{ref.path} is truncated: frame {max(indices)} requested, {available} decodable",
                         "re-export the video")
    return reader.get_batch(list(indices)).asnumpy()


def _decode_pyav(ref: VideoRef, indices: Sequence[int]) -> np.ndarray:
    """Seek to the keyframe before each far-away target, then decode forward to it."""
    import av  # noqa: PLC0415

    wanted = sorted(set(indices))
    found: dict[int, np.ndarray] = {}
    # Seek only when it saves decoding: a seek lands on the keyframe before the target and decodes from
    # there, so it pays when that keyframe is past where decoding forward already is (sampling 1 frame/s of
    # a 250-frame GOP decoded ~125 frames per sample with a fixed one-second rule, 5x a straight decode).
    keys = np.asarray(keyframe_indices(ref))
    try:
        with av.open(ref.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            time_base = float(stream.time_base)
            position = -1
            frames_iter = None
            for target in wanted:
                before = int(keys[max(0, np.searchsorted(keys, target, side="right") - 1)])
                if frames_iter is None or target < position or before > position + 1:
                    container.seek(int(target / ref.fps / time_base), stream=stream, backward=True, any_frame=False)
                    frames_iter = container.decode(stream)
                for frame in frames_iter:
                    position = int(round(frame.pts * time_base * ref.fps)) if frame.pts is not None else position + 1
                    if position >= target:
                        found[target] = frame.to_ndarray(format="rgb24")
                        break
                if target not in found:
                    break
    except av.error.FFmpegError as error:
        raise VideoError(f"cannot decode {ref.path}: {error}", VIDEO_HINT) from None
    missing = [i for i in wanted if i not in found]
    if missing:
        raise VideoError(f"{ref.path} is truncated: frame {missing[0]} of {ref.frame_count} cannot be decoded",
                         "re-export the video")
    return np.stack([found[i] for i in indices])


def decode_all_sequential(ref: VideoRef) -> int:
    """Decode every frame in order (the baseline that sparse sampling is measured against)."""
    import av  # noqa: PLC0415

    count = 0
    with av.open(ref.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            count += 1
    return count


# ---------------------------------------------------------------------------------------------------
# Frame cache and sampling
# ---------------------------------------------------------------------------------------------------


class FrameCache:
    """A thread-safe LRU of decoded frames, bounded by bytes. Key: (video sha256, frame index, size)."""

    def __init__(self, max_bytes: int = DEFAULT_FRAME_CACHE_BYTES):
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._frames: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.peak_bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> np.ndarray | None:
        with self._lock:
            frame = self._frames.get(key)
            if frame is None:
                self.misses += 1
                return None
            self._frames.move_to_end(key)
            self.hits += 1
            return frame

    def put(self, key: tuple, frame: np.ndarray) -> None:
        if frame.nbytes > self.max_bytes:
            return  # a single frame larger than the whole budget is not cached
        frame.setflags(write=False)  # shared by every tool: nobody may change it in place
        with self._lock:
            if key in self._frames:
                return
            self._frames[key] = frame
            self.bytes += frame.nbytes
            while self.bytes > self.max_bytes:
                _, evicted = self._frames.popitem(last=False)
                self.bytes -= evicted.nbytes
            self.peak_bytes = max(self.peak_bytes, self.bytes)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._frames)


_SHARED_CACHE: FrameCache | None = None


def shared_frame_cache() -> FrameCache:
    """The process-wide frame cache (``VIDAGENT_FRAME_CACHE_MB`` sets its bound)."""
    global _SHARED_CACHE
    if _SHARED_CACHE is None:
        megabytes = int(os.environ.get("VIDAGENT_FRAME_CACHE_MB", DEFAULT_FRAME_CACHE_BYTES // 2**20))
        _SHARED_CACHE = FrameCache(megabytes * 2**20)
    return _SHARED_CACHE


_SHARED_INDEX_STORE = None


def shared_index_store():
    """The process-wide ``IndexStore`` (``VIDAGENT_CACHE_DIR/index``), or None when ``VIDAGENT_INDEX=off``."""
    global _SHARED_INDEX_STORE
    from vidagent.tools.video_index import IndexStore  # noqa: PLC0415

    if _SHARED_INDEX_STORE is None:
        _SHARED_INDEX_STORE = IndexStore.from_env()
    return _SHARED_INDEX_STORE if _SHARED_INDEX_STORE.enabled else None


@dataclass
class Frames:
    """Sampled frames and the times they show."""

    images: np.ndarray  # [N, H, W, 3] uint8 RGB
    times_s: list[float]
    indices: list[int]
    decoded: int  # how many were decoded now (the rest came from the cache)

    def __len__(self) -> int:
        return len(self.times_s)


def keyframe_indices(ref: VideoRef) -> list[int]:
    """Indices of the video's keyframes, read from packet headers without decoding (memoised per video)."""
    known = _KEYFRAMES.get(ref.sha256)
    if known is not None:
        return known
    import av  # noqa: PLC0415

    keys: list[int] = []
    with av.open(ref.path) as container:
        stream = container.streams.video[0]
        time_base = float(stream.time_base)
        for packet in container.demux(stream):
            if packet.is_keyframe and packet.pts is not None:
                keys.append(int(round(packet.pts * time_base * ref.fps)))
    keys = sorted(set(keys)) or [0]
    _KEYFRAMES.put(ref.sha256, keys)
    return keys


_KEYFRAMES: Memo[str, list[int]] = Memo(256)  # video sha256 -> keyframe indices


def sample_indices(ref: VideoRef, start_s: float, end_s: float, *, fps: float | None = None,
                   count: int | None = None, snap_to_keyframes: bool = False) -> list[int]:
    """Frame indices for a time range at a rate (``fps``) or a number of frames spread evenly (``count``).

    ``snap_to_keyframes`` moves each index to the nearest keyframe inside the range (falling back to the
    exact frame when the range holds none): one decoded frame per sample instead of a decode from the
    previous keyframe, at the cost of time precision (half a GOP at most; ``Frames.times_s`` stays true).
    """
    if (fps is None) == (count is None):
        raise ValueError("give exactly one of fps or count")
    start_s, end_s = ref.check_range(start_s, end_s)
    if count is not None:
        if count <= 0:
            raise TimeRangeError(f"frame count must be positive, got {count}", "ask for at least one frame")
        step = (end_s - start_s) / count
        times = [start_s + step * (k + 0.5) for k in range(count)]  # segment centres
    else:
        assert fps is not None
        if fps <= 0:
            raise TimeRangeError(f"sampling rate must be positive, got {fps}", "use fps > 0")
        n = max(1, int(np.floor((end_s - start_s) * fps + 1e-9)))
        times = [start_s + k / fps for k in range(n)]
    exact = [ref.frame_index(t) for t in times]
    if snap_to_keyframes:
        first, last = ref.frame_index(start_s), ref.frame_index(end_s - 1e-6)
        keys = np.array([k for k in keyframe_indices(ref) if first <= k <= last])
        if len(keys):
            exact = [int(keys[np.abs(keys - i).argmin()]) for i in exact]
    indices: list[int] = []
    for i in exact:  # keep order, drop duplicates (a rate above the video's fps, or a shared keyframe)
        if not indices or indices[-1] != i:
            indices.append(i)
    return indices


def sample_frames(
    ref: VideoRef,
    start_s: float,
    end_s: float,
    *,
    fps: float | None = None,
    count: int | None = None,
    size: tuple[int, int] | None = None,
    cache: FrameCache | None = None,
    decoder: DecoderName = "auto",
    snap_to_keyframes: bool = False,
) -> Frames:
    """Sample frames in ``[start_s, end_s)``; cached frames are reused, the rest decoded in one batch.

    ``size`` is (width, height) to resize to; ``cache`` defaults to the process-wide frame cache;
    ``snap_to_keyframes`` trades time precision for speed (see ``sample_indices``).
    """
    cache = shared_frame_cache() if cache is None else cache
    indices = sample_indices(ref, start_s, end_s, fps=fps, count=count, snap_to_keyframes=snap_to_keyframes)
    images: dict[int, np.ndarray] = {}
    for i in indices:
        frame = cache.get((ref.sha256, i, size))
        if frame is not None:
            images[i] = frame
    missing = [i for i in indices if i not in images]
    if missing:
        decoded = decode_frames(ref, missing, decoder)
        for i, frame in zip(missing, decoded, strict=True):
            if size is not None:
                frame = _resize(frame, size)
            cache.put((ref.sha256, i, size), frame)
            images[i] = frame
    return Frames(
        images=np.stack([images[i] for i in indices]),
        times_s=[i / ref.fps for i in indices],
        indices=indices,
        decoded=len(missing),
    )


def _resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image  # noqa: PLC0415

    return np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))


class VideoSession:
    """The video bound to one run: what every tool receives as its first argument.

    It counts the frames tools sample against an optional budget, and carries the result cache and the
    video's index (``vidagent.tools.video_index``). Frames sampled to build the index (the base-rate pass
    every tool shares, done once per video) are counted as ``frames_indexed``, not against the budget: the
    budget bounds what one question looks at beyond the index. A request larger than what the budget has
    left is thinned to fit, and the tool's observation says so (``take_notes``); only a spent budget fails.
    """

    def __init__(self, video: VideoRef | str | os.PathLike[str], *, frame_budget: int | None = None,
                 frame_cache: FrameCache | None = None, result_cache=None, decoder: DecoderName = "auto",
                 index_store="shared"):
        self.ref = video if isinstance(video, VideoRef) else VideoRef.open(video)
        self.frame_budget = frame_budget
        self.frame_cache = frame_cache or shared_frame_cache()
        self.result_cache = result_cache
        # an ``IndexStore``; "shared": the process-wide one (``VIDAGENT_INDEX=off`` disables it); None: what the
        # tools compute stays in this process's memory
        self.index_store = shared_index_store() if index_store == "shared" else index_store
        self.decoder = decoder
        self.frames_seen = 0  # frames handed to tools beyond the index, from cache or freshly decoded
        self.frames_decoded = 0
        self.frames_indexed = 0  # frames sampled to build the video's index
        self._notes: list[str] = []
        self._lock = threading.Lock()

    @property
    def index(self):
        """The video's ``VideoIndex`` (opened on first use), or None when this session keeps no index."""
        if self.index_store is None:
            return None
        return self.index_store.of(self.ref.sha256, self.ref.duration_s)

    def sample(self, start_s: float, end_s: float, *, fps: float | None = None, count: int | None = None,
               size: tuple[int, int] | None = None, indexing: bool = False) -> Frames:
        """Sample frames for a tool, counting them against the run's frame budget (``indexing``: for the
        video's index, which the budget does not count). Asked for more than the budget has left, it
        samples what is left, evenly spread, and leaves a note for the observation."""
        indices = sample_indices(self.ref, start_s, end_s, fps=fps, count=count)
        with self._lock:
            if not indexing and self.frame_budget is not None:
                left = self.frame_budget - self.frames_seen
                if left <= 0:
                    raise BudgetError(
                        f"frame budget exhausted: {len(indices)} frames asked, none left of {self.frame_budget}",
                        "answer with what you have",
                    )
                if len(indices) > left:
                    self._notes.append(f"looked at {left} of the {len(indices)} frames asked for "
                                       f"{start_s:.1f}-{end_s:.1f}s: the frame budget ({self.frame_budget}) "
                                       "had no more left")
                    fps, count = None, left
                    indices = indices[:left]  # the exact count is decided by sample_frames below
            if indexing:
                self.frames_indexed += len(indices)
            else:
                self.frames_seen += len(indices)
        frames = sample_frames(self.ref, start_s, end_s, fps=fps, count=count, size=size,
                               cache=self.frame_cache, decoder=self.decoder)
        with self._lock:
            self.frames_decoded += frames.decoded
        return frames

    def take_notes(self) -> list[str]:
        """What the session had to change in the last requests (a thinned sample); cleared on reading."""
        with self._lock:
            notes, self._notes = self._notes, []
        return notes


class VideoWriter:
    """Write RGB uint8 frames [H, W, 3] one at a time as an H.264 mp4 (libx264, yuv420p, readable by decord
    and PyAV). The size is the first frame's, cut to even numbers (yuv420p needs them). The project's one
    H.264 writer: ``write_video`` and the world's encoder (``vidagent.tasks.world.encode``) both use it.

    ``keyframe_interval`` is the GOP length in frames (x264's default is 250) and ``min_keyframe_interval`` the
    shortest GOP x264 may start at a scene cut; random access decodes from the previous keyframe, so they
    bound how much sparse sampling can save. ``b_frames=0`` turns B-frames off (cheap, exact seeking);
    ``threads=1`` encodes on one thread, so the bytes do not depend on the machine's core count (default:
    libx264 picks).
    """

    def __init__(self, path: str | os.PathLike[str], fps: float, *, crf: int = 23, preset: str = "veryfast",
                 keyframe_interval: int | None = None, min_keyframe_interval: int | None = None,
                 b_frames: int | None = None, threads: int | None = None):
        import av  # noqa: PLC0415

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.options = {"crf": str(crf), "preset": preset}
        if keyframe_interval is not None:
            self.options["g"] = str(keyframe_interval)
        if min_keyframe_interval is not None:
            self.options["keyint_min"] = str(min_keyframe_interval)
        if b_frames is not None:
            self.options["bf"] = str(b_frames)
        self.threads = threads
        self.container = av.open(str(self.path), mode="w")
        self.stream = None
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        import av  # noqa: PLC0415

        if self.stream is None:
            height, width = frame.shape[:2]
            stream = self.container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1001))
            stream.width, stream.height = width - width % 2, height - height % 2
            stream.pix_fmt = "yuv420p"
            if self.threads is not None:
                stream.codec_context.thread_count = self.threads
            stream.options = dict(self.options)
            self.stream = stream
        image = np.ascontiguousarray(frame[: self.stream.height, : self.stream.width])
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file; ``VideoError`` if no frame was written."""
        try:
            if self.stream is None:
                raise VideoError("no frames to write", "pass at least one frame")
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:  # the body failed: finish the file without hiding its error
            self.container.close()


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float, *, crf: int = 23,
                keyframe_interval: int | None = None) -> Path:
    """Write RGB uint8 frames [H, W, 3] as an H.264 mp4 (yuv420p, readable by decord and PyAV).

    ``keyframe_interval`` is the GOP length in frames (x264's default is 250), fixed (no shorter GOP at scene
    cuts); random access decodes from the previous keyframe, so it bounds how much sparse sampling can save.
    """
    with VideoWriter(path, fps, crf=crf, keyframe_interval=keyframe_interval,
                     min_keyframe_interval=keyframe_interval) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.path
