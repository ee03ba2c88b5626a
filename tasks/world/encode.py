"""H.264 writer (PyAV/libx264, yuv420p) for world videos; decord and PyAV both read the files back."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Self

import numpy as np
from vidagent.errors import ConfigError


class H264Writer:
    """Write RGB uint8 frames (H, W, 3) to an mp4 file.

    One encoder thread: generation parallelises across videos, not inside one encoder.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: int, crf: int = 26,
                 preset: str = "veryfast", gop_s: float = 2.0):
        import av

        if width % 2 or height % 2:
            raise ConfigError(f"H.264 yuv420p needs even frame sizes, got {width}x{height}",
                              "use an even width and height")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), mode="w")
        stream = self.container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"crf": str(crf), "preset": preset, "g": str(max(1, int(gop_s * fps))),
                          "bf": "0"}  # no B-frames: cheap, exact seeking for decoders that sample frames
        self.stream = stream
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        import av

        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for packet in self.stream.encode(video_frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_h264(path: str | Path, frames: Iterable[np.ndarray], fps: int, crf: int = 26) -> Path:
    """Encode an iterable of equally sized RGB frames; returns ``path``."""
    iterator = iter(frames)
    first = next(iterator)
    with H264Writer(path, first.shape[1], first.shape[0], fps, crf=crf) as writer:
        writer.write(first)
        for frame in iterator:
            writer.write(frame)
    return Path(path)
