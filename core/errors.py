"""The one exception family users see. Every error says what was wrong and what to do about it."""

from __future__ import annotations


class VidagentError(Exception):
    """Base class for errors caused by input or environment, not by a bug.

    The CLI prints ``str(error)`` and exits with ``exit_code`` instead of showing a traceback.
    """

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if fix is None else f"{problem}\n  fix: {fix}")


class VideoError(VidagentError):
    """The video file cannot be used: missing, not a video, empty, truncated or undecodable."""


class TimeRangeError(VidagentError):
    """A requested time range lies outside the video or is empty."""


class ToolArgumentError(VidagentError):
    """A tool was called with arguments that do not match its schema."""


class ToolError(VidagentError):
    """A tool failed on valid input (e.g. missing weights). The planner sees it as an error observation."""


class ConfigError(VidagentError):
    """A setting or data file is invalid."""


class BudgetError(VidagentError):
    """A run used up its budget of tool calls or frames."""
