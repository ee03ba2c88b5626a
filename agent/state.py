"""Graph state and budgets. The state holds only plain data (messages, dicts, numbers), so a checkpointer
can store it and ``langgraph dev`` can show it; typed objects (``Answer``, ``Step``) are built from it.
"""

from __future__ import annotations

import operator
from dataclasses import asdict, dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from vidagent.errors import ConfigError

DEFAULT_MAX_TOOL_CALLS = 8
DEFAULT_FRAME_BUDGET = 400


@dataclass(frozen=True)
class Budget:
    """Limits of one question. ``max_llm_calls`` defaults to ``max_tool_calls + 3``: one call per tool
    step plus room for a correction and the answer."""

    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS
    max_llm_calls: int | None = None
    frame_budget: int | None = DEFAULT_FRAME_BUDGET  # frames handed to tools; None = unlimited

    def __post_init__(self) -> None:
        if self.max_tool_calls < 0:
            raise ConfigError(f"max_tool_calls must be >= 0, got {self.max_tool_calls}", "use 0 or more")
        if self.max_llm_calls is not None and self.max_llm_calls < 1:
            raise ConfigError(f"max_llm_calls must be >= 1, got {self.max_llm_calls}", "use 1 or more")
        if self.frame_budget is not None and self.frame_budget < 1:
            raise ConfigError(f"frame_budget must be >= 1, got {self.frame_budget}", "use 1 or more, or None")

    @property
    def llm_calls(self) -> int:
        return self.max_llm_calls if self.max_llm_calls is not None else self.max_tool_calls + 3

    def recursion_limit(self) -> int:
        """LangGraph super-steps: start + (planner, tools) per LLM call + finalize, with a margin."""
        return 2 * self.llm_calls + 6

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "max_llm_calls": self.llm_calls}


class AgentState(TypedDict, total=False):
    """The planner graph's state. Per-question fields are reset by the ``start`` node."""

    # Conversation (kept across questions of a thread); system prompt is not stored, it is rebuilt.
    messages: Annotated[list[AnyMessage], add_messages]
    # The trace: one dict per step (see ``vidagent.agent.trace.Step``), appended by every node.
    steps: Annotated[list[dict[str, Any]], operator.add]
    # Input of one question.
    video: str  # path of the video; tools get it as a VideoSession from the run config
    question: str
    answer_type: str | None
    choices: list[str] | None
    budget: dict[str, Any]  # Budget.to_dict()
    # Counters of the current question.
    turn: int  # 1 for the first question of a thread, then 2, ...
    llm_calls: int
    tool_calls: int
    budget_notices: int  # how often the model was told the tool budget is used up
    answer_text: str | None  # set by the planner when the model wrote <answer>
    # Output.
    final: dict[str, Any] | None  # {"answered", "stop_reason", "answer": Answer.to_dict() | None}


def budget_of(state: AgentState) -> Budget:
    data = state.get("budget") or {}
    return Budget(**data) if data else Budget()
