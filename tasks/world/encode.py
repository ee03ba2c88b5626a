"""The world's H.264 settings over the project's one writer (``vidagent.tools.video.VideoWriter``).

A world video is libx264, yuv420p, CRF 26 by default, a keyframe every 2 s and no B-frames (cheap, exact
seeking for decoders that sample frames), on one encoder thread: generation parallelises across videos,
not inside one encoder, and the bytes do not depend on the machine's core count.
"""

from __future__ import annotations

from pathlib import Path

from vidagent.errors import ConfigError
from vidagent.tools.video import VideoWriter


class H264Writer(VideoWriter):
    """Write RGB uint8 frames (H, W, 3) of a ``width`` x ``height`` world video to an mp4 file."""

    def __init__(self, path: str | Path, width: int, height: int, fps: int, crf: int = 26,
                 preset: str = "veryfast", gop_s: float = 2.0):
        if width % 2 or height % 2:
            raise ConfigError(f"H.264 yuv420p needs even frame sizes, got {width}x{height}",
                              "use an even width and height")
        super().__init__(path, fps, crf=crf, preset=preset, keyframe_interval=max(1, int(gop_s * fps)),
                         b_frames=0, threads=1)
