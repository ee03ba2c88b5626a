"""The planner: a LangGraph graph over the toolbox, chat-model adapters, the ``Agent`` API and the report.

    from vidagent.agent import Agent
    result = Agent.from_defaults().ask("video.mp4", "How many people walk by?")

Names load on first use so that ``vidagent --help`` does not import LangGraph.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Agent": "vidagent.agent.api",
    "Result": "vidagent.agent.api",
    "Stats": "vidagent.agent.api",
    "sqlite_checkpointer": "vidagent.agent.api",
    "Answer": "vidagent.agent.answer",
    "SamplingPlan": "vidagent.agent.sampling",
    "Consensus": "vidagent.agent.voting",
    "Budget": "vidagent.agent.state",
    "AgentState": "vidagent.agent.state",
    "Step": "vidagent.agent.trace",
    "build_graph": "vidagent.agent.graph",
    "load_planner": "vidagent.agent.planner_loading",
    "ScriptedChatModel": "vidagent.agent.chat_models.scripted",
    "LocalChatModel": "vidagent.agent.chat_models.local",
    "write_report": "vidagent.agent.report",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vidagent.agent' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
