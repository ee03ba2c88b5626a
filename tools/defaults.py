"""The default toolbox, as one explicit list. A newcomer finds every default tool here."""

from __future__ import annotations

from vidagent.tools.base import Tool


def default_tools() -> list[Tool]:
    """The default vision tools. Heavy weights load lazily, on a tool's first call."""
    return []
