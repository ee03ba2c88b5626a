"""A tool with a bug, for the served graph of tests/test_serve.py (``serve_tools:buggy_tool``)."""

from __future__ import annotations

from vidagent.tools import VideoSession, tool
from vidagent.tools.results import ToolResult


@tool
def buggy_tool(video: VideoSession, t_s: float) -> ToolResult:
    """A tool that always fails with a plain exception: a bug, which the tool node raises as ``ToolCrash``.

    Args:
        t_s: A time in seconds.
    """
    raise KeyError("frame_index")
