"""The one exception family users see. Every error says what was wrong and what to do about it."""

from __future__ import annotations

import traceback


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


class ToolDefinitionError(VidagentError):
    """A tool function cannot become a tool: its signature or docstring is incomplete."""


class ToolCrash(VidagentError):
    """A tool raised something other than a ``VidagentError``: a bug in the tool, not bad input.

    It stops the run (the model cannot fix a bug by calling again); evaluation counts it as a crash.
    """

    exit_code = 3

    @classmethod
    def of(cls, tool: str, error: BaseException) -> ToolCrash:
        frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        where = f" at {frame.filename}:{frame.lineno} in {frame.name}" if frame else ""
        crash = cls(f"tool {tool} crashed: {type(error).__name__}: {error}{where}",
                    "report input the model can correct by raising vidagent.errors.ToolError(problem, fix); "
                    "anything else is a bug in the tool (set VIDAGENT_DEBUG=1 for the traceback)")
        crash.tool = tool
        return crash


class PlannerError(VidagentError, RuntimeError):
    """A remote planner (an API, a server) could not answer: no connection, a bad key, an unknown model.

    Also a ``RuntimeError``: langgraph-api shows a client the message of built-in errors only (see
    ``vidagent.agent.serve``), so a served run's planner failure reads as the CLI's text too."""


class ConfigError(VidagentError):
    """A setting or data file is invalid."""


class BudgetError(VidagentError):
    """A run used up its budget of tool calls or frames."""
