"""Register your own vision tool.

A tool is a typed function whose first parameter is the run's ``VideoSession`` and whose docstring
(Google style) describes it and each argument. vidagent derives the JSON schema from the signature, checks
every call against it, and shows the tool to the planner, the graph, training and the CLI:

    vidagent tools list --tool examples.custom_tool:motion_energy
    python examples/custom_tool.py examples/world/street.mp4

"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from vidagent.tools import Toolbox, VideoSession, tool
from vidagent.tools.results import TimeSpan, ToolResult


@dataclass
class MotionResult(ToolResult):
    span: TimeSpan
    energy: list[float]  # mean absolute pixel change between consecutive samples, 0-255
    peak_s: float

    def render(self) -> str:
        return f"Motion in {self.span}: mean {np.mean(self.energy):.1f}, peak at {self.peak_s:.1f}s."


@tool
def motion_energy(video: VideoSession, start_s: float, end_s: float, samples: int = 16) -> MotionResult:
    """Measure how much the picture changes over a time span (a cheap activity detector).

    Args:
        start_s: Start of the span in seconds.
        end_s: End of the span in seconds.
        samples: How many frames to compare, spread evenly over the span (2-64).
    """
    if not 2 <= samples <= 64:
        raise ValueError("samples must be between 2 and 64")
    frames = video.sample(start_s, end_s, count=samples, size=(160, 90))
    diffs = np.abs(np.diff(frames.images.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))  # [samples-1]
    peak = int(np.argmax(diffs)) + 1
    return MotionResult(TimeSpan(start_s, end_s), [round(float(d), 2) for d in diffs], frames.times_s[peak])


if __name__ == "__main__":
    video_path = sys.argv[1] if len(sys.argv) > 1 else "examples/world/street.mp4"
    toolbox = Toolbox([motion_energy])  # or Toolbox.default([motion_energy]) to add it to the defaults
    session = VideoSession(video_path)
    call = toolbox.invoke(session, "motion_energy", {"start_s": 0, "end_s": session.ref.duration_s})
    print(call.text)
