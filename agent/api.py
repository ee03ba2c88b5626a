"""The Python API.

    from vidagent.agent import Agent

    agent = Agent.from_defaults()                      # SmolLM2 planner + the default vision tools
    result = agent.ask("street.mp4", "How many cars pass?", answer_type="number")
    print(result.answer, result.stop_reason, result.stats)

    agent = Agent(planner="openai:gpt-4o-mini", tools=[my_tool])   # any planner, any tools
    for item in agent.stream("street.mp4", "When does the dog jump?"):
        print(item)                                    # Steps as they happen, then the Result
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, SystemMessage, ToolMessage
from vidagent.agent.answer import ANSWER_TYPES, Answer
from vidagent.agent.sampling import SamplingPlan, ask_sampled, sampling_model
from vidagent.agent.state import DEFAULT_FRAME_BUDGET, Budget
from vidagent.agent.trace import Step
from vidagent.agent.voting import Consensus
from vidagent.errors import ConfigError
from vidagent.tools.base import ToolCall
from vidagent.tools.results import Evidence
from vidagent.tools.toolbox import Toolbox, ToolLike
from vidagent.tools.video import VideoSession


@dataclass
class Stats:
    tool_calls: int = 0  # calls that ran a tool (errors included, budget refusals not)
    tool_errors: int = 0
    frames_seen: int = 0  # frames handed to tools beyond the video's index (cached or decoded)
    frames_decoded: int = 0
    frames_indexed: int = 0  # frames sampled to build the video's index (once per video)
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # wall time of the whole question
    llm_seconds: float = 0.0
    tool_seconds: dict[str, float] = field(default_factory=dict)  # per tool name

    @classmethod
    def from_steps(cls, steps: list[Step], seconds: float) -> Stats:
        stats = cls(seconds=seconds)
        for step in steps:
            if step.kind == "plan":
                stats.llm_calls += 1
                stats.prompt_tokens += step.prompt_tokens
                stats.completion_tokens += step.completion_tokens
                stats.llm_seconds += step.seconds
            elif step.kind == "tool" and step.ran:
                stats.tool_calls += 1
                stats.tool_errors += 0 if step.ok else 1
                stats.frames_seen += step.frames_seen
                stats.frames_decoded += step.frames_decoded
                stats.tool_seconds[step.name] = stats.tool_seconds.get(step.name, 0.0) + step.seconds
        return stats

    def line(self) -> str:
        tools = ", ".join(f"{name} {s:.2f}s" for name, s in self.tool_seconds.items())
        indexed = f", {self.frames_indexed} for the index" if self.frames_indexed else ""
        return (f"{self.tool_calls} tool calls ({self.tool_errors} errors), {self.frames_decoded} frames decoded "
                f"({self.frames_seen} used{indexed}), {self.llm_calls} LLM calls, {self.prompt_tokens}+"
                f"{self.completion_tokens} tokens, {self.seconds:.2f}s (LLM {self.llm_seconds:.2f}s"
                + (f"; {tools})" if tools else ")"))


@dataclass
class Result:
    """What one question produced. ``answered`` is False when no answer came; ``stop_reason`` says why."""

    question: str
    video: str
    answered: bool
    answer: Answer | None
    stop_reason: str
    trace: list[Step]
    stats: Stats
    messages: list[BaseMessage] = field(default_factory=list)  # the conversation, without the system prompt
    thread_id: str | None = None
    system_prompt: str = ""
    # Self-consistency (``ask(..., samples=N)``): the vote, and every sampled run behind it.
    consensus: Consensus | None = None
    samples: list[Result] = field(default_factory=list)

    def conversation(self) -> list[BaseMessage]:
        """The messages exactly as the planner saw them: system prompt first (for training)."""
        return [SystemMessage(self.system_prompt), *self.messages]

    @property
    def evidence(self) -> Evidence:
        return self.answer.evidence if self.answer is not None else Evidence()

    @property
    def tool_steps(self) -> list[Step]:
        return [s for s in self.trace if s.kind == "tool"]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"question": self.question, "video": self.video, "answered": self.answered,
                "answer": self.answer.to_dict() if self.answer is not None else None,
                "stop_reason": self.stop_reason, "stats": asdict(self.stats),
                "trace": [s.to_dict() for s in self.trace], "thread_id": self.thread_id,
                "consensus": self.consensus.to_dict() if self.consensus is not None else None}


class Agent:
    """A planner and a toolbox, with budgets. Thread-safe: one ``Agent`` can answer many questions at once
    (the local model batches their LLM calls)."""

    def __init__(self, planner: BaseChatModel | str | None = None, tools: Iterable[ToolLike] | Toolbox | None = None,
                 *, max_tool_calls: int | None = None, max_llm_calls: int | None = None,
                 frame_budget: int | None = DEFAULT_FRAME_BUDGET, timeout_s: float | None = None,
                 result_cache: Any = None, checkpointer: Any = None):
        from vidagent.agent.graph import build_graph, planner_system_message
        from vidagent.agent.planner_loading import load_planner

        self.model = load_planner(planner) if planner is None or isinstance(planner, str) else planner
        self.toolbox = tools if isinstance(tools, Toolbox) else Toolbox.default() if tools is None else Toolbox(tools)
        defaults = Budget()
        self.budget = Budget(
            max_tool_calls=defaults.max_tool_calls if max_tool_calls is None else max_tool_calls,
            max_llm_calls=max_llm_calls,
            frame_budget=frame_budget,  # None: unlimited
            timeout_s=timeout_s,  # None: no limit; else wall-clock seconds per question
        )
        self.result_cache = result_cache
        self.checkpointer = checkpointer
        self.graph = build_graph(self.model, self.toolbox, checkpointer=checkpointer)
        self.system_prompt = str(planner_system_message(self.model, self.toolbox).content)
        self._samplers: dict[float, Agent] = {}

    @classmethod
    def from_defaults(cls, extra_tools: Iterable[ToolLike] = (), *, tools: str | None = None, **kwargs: Any) -> Agent:
        """The default planner (SmolLM2-135M-Instruct, offline) and the default vision tools (+ yours).

        ``tools`` names the tool profile (``vidagent.tools.profiles``: what the default tools perceive with).
        """
        from vidagent.tools.cache import ResultCache
        from vidagent.tools.profiles import DEFAULT_PROFILE, profile_toolbox

        kwargs.setdefault("result_cache", ResultCache.from_env())
        return cls(planner=None, tools=profile_toolbox(tools or DEFAULT_PROFILE, extra_tools), **kwargs)

    def ask(self, video: str | os.PathLike[str], question: str, *, samples: int | SamplingPlan = 1,
            **kwargs: Any) -> Result:
        """Answer one question about a video. See ``stream`` for the keyword arguments.

        ``samples=N`` (or a ``SamplingPlan``: adaptive stop, caps in seconds or tokens) draws N sampled
        trajectories concurrently and votes (``vidagent.agent.voting``): the result is the winning
        trajectory with the consensus answer, ``result.consensus`` (confidence, alternatives) and
        ``result.samples``. ``samples=1`` is one run as configured (greedy for the local planner)."""
        plan = samples if isinstance(samples, SamplingPlan) else SamplingPlan(samples=samples)
        if plan.samples > 1:
            if kwargs.get("thread_id") is not None:
                raise ConfigError("samples > 1 cannot continue a thread", "ask the sampled question without thread_id")
            return ask_sampled(self.sampler(plan.temperature), video, question, plan, **kwargs)
        result = None
        for item in self.stream(video, question, **kwargs):
            result = item
        assert isinstance(result, Result)
        return result

    def stream(self, video: str | os.PathLike[str], question: str, *, answer_type: str | None = None,
               choices: list[str] | None = None, thread_id: str | None = None,
               timeout_s: float | None = None) -> Iterator[Step | Result]:
        """Yield each ``Step`` as it happens, then the ``Result``.

        ``answer_type`` (number, choice, interval, label) types the answer; ``choices`` lists the options of
        a multiple-choice question; ``thread_id`` continues a conversation (needs a checkpointer);
        ``timeout_s`` overrides the agent's wall-clock budget for this question (the result says when it ran out).
        """
        if not isinstance(question, str) or not question.strip():
            raise ConfigError("the question is empty", 'ask something about the video, e.g. "How many cars appear?"')
        if answer_type is not None and answer_type not in ANSWER_TYPES:
            raise ConfigError(f"unknown answer type {answer_type!r}", f"use one of: {', '.join(ANSWER_TYPES)}")
        if answer_type == "choice" and not choices:
            raise ConfigError("answer type choice needs the options",
                              "list them: choices=[...] in Python, --choice A --choice B on the command line")
        if thread_id is not None and self.checkpointer is None:
            raise ConfigError("thread_id needs a checkpointer", "pass checkpointer=sqlite_checkpointer(path) to Agent")
        budget = self.budget if timeout_s is None else replace(self.budget, timeout_s=timeout_s)
        started = time.perf_counter()
        session = VideoSession(video, frame_budget=self.budget.frame_budget, result_cache=self.result_cache)
        config = {"configurable": {"video_session": session, "thread_id": thread_id or uuid.uuid4().hex},
                  "recursion_limit": budget.recursion_limit()}
        if thread_id is not None:
            self._check_thread_video(config, session.ref.path)
        inputs = {"video": session.ref.path, "question": question, "answer_type": answer_type,
                  "choices": list(choices) if choices else None, "budget": budget.to_dict()}
        steps: list[Step] = []
        state: dict[str, Any] = {}
        for mode, chunk in self.graph.stream(inputs, config, stream_mode=["updates", "values"]):
            if mode == "values":
                state = chunk
                continue
            for update in chunk.values():
                calls = {m.tool_call_id: m.artifact for m in (update or {}).get("messages", [])
                         if isinstance(m, ToolMessage) and isinstance(m.artifact, ToolCall)}
                for data in (update or {}).get("steps", []):
                    step = Step.from_dict(data)
                    step.result = calls[step.id].result if step.id in calls else None
                    steps.append(step)
                    yield step
        yield self._result(state, steps, question, session, time.perf_counter() - started, thread_id)

    def _result(self, state: dict[str, Any], steps: list[Step], question: str, session: VideoSession,
                seconds: float, thread_id: str | None) -> Result:
        final = state["final"]
        answer = Answer.from_dict(final["answer"]) if final["answer"] is not None else None
        stats = Stats.from_steps(steps, seconds)
        stats.frames_seen, stats.frames_decoded = session.frames_seen, session.frames_decoded
        stats.frames_indexed = session.frames_indexed
        return Result(question=question, video=session.ref.path, answered=final["answered"], answer=answer,
                      stop_reason=final["stop_reason"], trace=steps, stats=stats,
                      messages=list(state.get("messages", [])), thread_id=thread_id,
                      system_prompt=self.system_prompt)

    def sampler(self, temperature: float) -> Agent:
        """This agent with its planner set to sample (one per temperature, kept: its batcher and prompt
        cache serve every sampled question)."""
        cached = self._samplers.get(temperature)
        if cached is None:
            cached = Agent(sampling_model(self.model, temperature), self.toolbox,
                           max_tool_calls=self.budget.max_tool_calls, max_llm_calls=self.budget.max_llm_calls,
                           frame_budget=self.budget.frame_budget, timeout_s=self.budget.timeout_s,
                           result_cache=self.result_cache)
            self._samplers[temperature] = cached
        return cached

    def _check_thread_video(self, config: dict[str, Any], video: str) -> None:
        snapshot = self.graph.get_state(config)
        previous = (snapshot.values or {}).get("video")
        if previous is not None and previous != video:
            raise ConfigError(f"thread {config['configurable']['thread_id']!r} is about {previous}, not {video}",
                              "use a new --thread id for another video")


def sqlite_checkpointer(path: str | os.PathLike[str]) -> Any:
    """A LangGraph SQLite checkpointer (``langgraph-checkpoint-sqlite``) so threads survive restarts."""
    import sqlite3

    try:
        from langgraph.checkpoint.sqlite import SqliteSaver
    except ImportError:
        raise ConfigError("threads need the package langgraph-checkpoint-sqlite",
                          "pip install langgraph-checkpoint-sqlite") from None
    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    saver = SqliteSaver(sqlite3.connect(str(file), check_same_thread=False))
    saver.setup()
    return saver
