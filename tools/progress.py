"""Progress bars for long work (indexing a video), on stderr, with an ETA (tqdm).

Short work shows nothing: a bar appears only when a tool has more than ``MIN_CHUNKS`` chunks of a video
to compute, which on a long video is minutes. ``VIDAGENT_PROGRESS=off`` silences every bar.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

MIN_CHUNKS = 2  # chunks to compute before a bar is worth showing (a chunk of real footage is 5-10 s)


def progress_enabled() -> bool:
    return os.environ.get("VIDAGENT_PROGRESS", "on").lower() not in {"off", "0", "false"}


class Progress:
    """A tqdm bar over chunks, or nothing. ``advance(frames)`` after each chunk."""

    def __init__(self, total: int, description: str, *, show: bool = True):
        self.bar: Any = None
        if show and total > 0 and progress_enabled():
            from tqdm import tqdm  # noqa: PLC0415

            self.bar = tqdm(total=total, desc=description, unit="chunk", file=sys.stderr, leave=False,
                            dynamic_ncols=True, mininterval=0.5)
        self.frames = 0

    def advance(self, frames: int = 0, chunks: int = 1) -> None:
        self.frames += frames
        if self.bar is not None and (frames or chunks):
            self.bar.update(chunks)
            self.bar.set_postfix_str(f"{self.frames} frames", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def chunk_progress(video: Any, detector: Any, chunks: Iterable[int]) -> Progress:
    """A bar for the chunks of ``video`` that ``detector`` has yet to track, when there are enough of them."""
    missing = [c for c in chunks if detector.known_chunk(video, c) is None]
    name = os.path.basename(video.ref.path)
    return _Missing(len(missing), f"indexing {name} (objects)", show=len(missing) > MIN_CHUNKS)


class _Missing(Progress):
    """Counts only chunks that were computed (a chunk served from the index advances with 0 frames)."""

    def advance(self, frames: int = 0, chunks: int = 1) -> None:
        super().advance(frames, chunks if frames else 0)
