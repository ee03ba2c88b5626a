"""Vision tools: the Tool protocol, the Toolbox, video access, the result cache and the default tools."""

from vidagent.tools.base import Tool, ToolCall, VisionTool, as_tool, tool
from vidagent.tools.cache import ResultCache
from vidagent.tools.toolbox import Toolbox
from vidagent.tools.video import FrameCache, Frames, VideoRef, VideoSession, sample_frames

__all__ = ["FrameCache", "Frames", "ResultCache", "Tool", "ToolCall", "Toolbox", "VideoRef", "VideoSession",
           "VisionTool", "as_tool", "sample_frames", "tool"]
