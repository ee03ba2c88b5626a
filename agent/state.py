"""Graph state and budgets. The state holds only plain data (messages, dicts, numbers), so a checkpointer
can store it and ``langgraph dev`` can show it; typed objects (``Answer``, ``Step``) are built from it.
"""

from __future__ import annotations

import operator
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal, Required

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic (LangGraph's JSON schemas) rejects typing's before 3.12
from vidagent.agent.answer import ANSWER_TYPES
from vidagent.errors import ConfigError, VidagentError

DEFAULT_MAX_TOOL_CALLS = 8
DEFAULT_FRAME_BUDGET = 400


@dataclass(frozen=True)
class Budget:
    """Limits of one question. ``max_llm_calls`` defaults to ``max_tool_calls + 3``: one call per tool
    step plus room for a correction and the answer."""

    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS
    max_llm_calls: int | None = None
    frame_budget: int | None = DEFAULT_FRAME_BUDGET  # frames handed to tools; None = unlimited
    # Wall-clock seconds for the question; None = no limit. Checked between steps (a running LLM or tool
    # call is not cut off), so a question can overrun by at most one step.
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.max_tool_calls < 0:
            raise ConfigError(f"max_tool_calls must be >= 0, got {self.max_tool_calls}", "use 0 or more")
        if self.max_llm_calls is not None and self.max_llm_calls < 1:
            raise ConfigError(f"max_llm_calls must be >= 1, got {self.max_llm_calls}", "use 1 or more")
        if self.frame_budget is not None and self.frame_budget < 1:
            raise ConfigError(f"frame_budget must be >= 1, got {self.frame_budget}", "use 1 or more, or None")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ConfigError(f"timeout must be > 0 seconds, got {self.timeout_s}", "use e.g. 60, or no timeout")

    @property
    def llm_calls(self) -> int:
        return self.max_llm_calls if self.max_llm_calls is not None else self.max_tool_calls + 3

    def recursion_limit(self) -> int:
        """LangGraph super-steps: start + (planner, tools) per LLM call + finalize, with a margin."""
        return 2 * self.llm_calls + 6

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "max_llm_calls": self.llm_calls}


class BudgetInput(TypedDict, total=False):
    """Limits of the question; a field left out takes its default."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # a misspelt limit is an error, not a silent default

    max_tool_calls: Annotated[int, Field(
        ge=0, description=f"Most tool calls (default {DEFAULT_MAX_TOOL_CALLS}).")]
    max_llm_calls: Annotated[int | None, Field(
        ge=1, description="Most planner (LLM) calls; null: max_tool_calls + 3.")]
    frame_budget: Annotated[int | None, Field(
        ge=1, description=f"Most frames tools may read (default {DEFAULT_FRAME_BUDGET}); null: unlimited.")]
    timeout_s: Annotated[float | None, Field(
        gt=0, description="Wall-clock seconds for the question; null: no limit.")]


class AgentInput(TypedDict, total=False):
    """One question about a video: the input of a run, and the served graph's input schema."""

    video: Required[Annotated[str, Field(
        min_length=1, description="Path of the video file, as the server sees it.")]]
    question: Required[Annotated[str, Field(min_length=1, description="The question about the video.")]]
    answer_type: Annotated[Literal[ANSWER_TYPES] | None, Field(  # type: ignore[valid-type]
        description="Type of the answer; null: inferred from the reply.")]
    choices: Annotated[list[str] | None, Field(
        description="The options of a multiple-choice question (answer_type choice).")]
    budget: BudgetInput


class InputError(VidagentError, ValueError):
    """A run's input is missing a field, has a wrong one, or names a video that cannot be opened.

    Also a ``ValueError``: langgraph-api passes a ``ValueError``'s message to the client and replaces that of
    a ``VidagentError`` with "An internal error occurred".
    """


_INPUT = TypeAdapter(AgentInput)
INPUT_FIX = ('send {"video": "/abs/path.mp4", "question": "..."} and optionally answer_type, choices and '
             "budget (the input schema: GET /assistants/{assistant_id}/schemas)")


def check_input(state: AgentState) -> None:
    """Raise ``InputError`` unless the state's input fields match ``AgentInput``."""
    data = {key: state[key] for key in AgentInput.__annotations__ if key in state}
    try:
        _INPUT.validate_python(data, strict=True)  # strict: JSON gives exact types; "3" is not a count
    except ValidationError as error:
        problems = "; ".join(_describe(e) for e in error.errors(include_url=False))
        raise InputError(f"the run input is not valid: {problems}", INPUT_FIX) from None
    if data.get("answer_type") == "choice" and not data.get("choices"):
        raise InputError("answer type choice needs the options", 'list them: "choices": ["A", "B"]')


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing":
        return f"{where} is missing"
    return f"{where}: {error['msg']} (got {error['input']!r})"


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
    deadline: float | None  # time.time() after which no new step starts (Budget.timeout_s)
    timed_out: bool  # a step found the deadline passed
    turn_start: int  # index in ``messages`` of the current question's user message
    # Output.
    final: dict[str, Any] | None  # {"answered", "stop_reason", "answer": Answer.to_dict() | None}


def budget_of(state: AgentState) -> Budget:
    data = state.get("budget") or {}
    return Budget(**data) if data else Budget()
