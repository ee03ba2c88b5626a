"""Trajectories: one graph run as token ids, with the mask of the planner's own tokens.

The same structure feeds SFT (targets = the planner's tokens), GRPO (``env_mask`` = the planner's tokens;
tool observations and loop messages are 0) and the eval report (the trace and the episode counts).

SFT trajectories come from **oracle programs replayed through the same graph**: the program is run once
against the toolbox to resolve its references (``det.tracks[color=red].track_id`` -> 3), then a
``ScriptedChatModel`` writes exactly those calls and the answer, the graph runs the tools and builds the
conversation, and ``LocalChatModel.render`` turns it into ids with the same chat template the planner
uses at inference. Nothing about the conversation is hand-built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidagent.agent.api import Agent, Result
from vidagent.agent.chat_models.scripted import ScriptedChatModel
from vidagent.agent.trace import Step
from vidagent.errors import VidagentError
from vidagent.tasks.oracle import run_program
from vidagent.tasks.questions import Question
from vidagent.tasks.verify import verify
from vidagent.tools.toolbox import Toolbox
from vidagent.tools.video import VideoSession

__all__ = ["Step", "Trajectory", "episode_of", "oracle_calls", "oracle_trajectories", "trajectory_from_result"]


@dataclass
class Trajectory:
    """A finished run of one question as the planner saw and wrote it."""

    question_id: str
    prompt_ids: list[int]  # system prompt + question + assistant header
    completion_ids: list[int]  # model turns + tool observations + model turns ..., ending with the model's EOS
    model_mask: list[int]  # 1 = a token the planner wrote (SFT target / GRPO env_mask), 0 = observation, template
    logprobs: list[float]  # recorded sampling log-probs of model tokens (0.0 elsewhere, and for scripted runs)
    answer: dict[str, Any] | None  # Answer.to_dict() or None
    episode: dict[str, Any]  # counts for the rewards (see ``episode_of``)
    steps: list[Step] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return self.prompt_ids + self.completion_ids

    @property
    def labels(self) -> list[int]:
        """Causal-LM labels: the token where it is the planner's own, -100 (ignored) elsewhere."""
        return [-100] * len(self.prompt_ids) + [t if m else -100 for t, m in
                                                zip(self.completion_ids, self.model_mask, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {"question_id": self.question_id, "prompt_ids": self.prompt_ids,
                "completion_ids": self.completion_ids, "model_mask": self.model_mask, "logprobs": self.logprobs,
                "answer": self.answer, "episode": self.episode}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        return cls(**{k: data[k] for k in ("question_id", "prompt_ids", "completion_ids", "model_mask",
                                            "logprobs", "answer", "episode")})


def episode_of(result: Result) -> dict[str, Any]:
    """What the rewards count about a run (``vidagent.policies.rewards``)."""
    tool_steps = [s for s in result.trace if s.kind == "tool"]
    return {
        "tool_calls": len(tool_steps),  # every call the model wrote, unreadable ones included
        "invalid_calls": sum(1 for s in tool_steps if not s.ok),  # unreadable, unknown, bad arguments, failed
        "frames": result.stats.frames_seen,
        "reasoning_chars": sum(len(s.text) for s in result.trace if s.kind == "plan"),
        "answered": result.answered,
        "llm_calls": result.stats.llm_calls,
        "completion_tokens": result.stats.completion_tokens,
    }


def trajectory_from_result(question_id: str, result: Result, chat: Any, *, generated: bool) -> Trajectory:
    """Render a run with ``chat`` (a ``LocalChatModel``). ``generated``: the mask is the tokens the model
    sampled itself (GRPO); otherwise every assistant-content token (SFT on scripted replays)."""
    view = chat.trajectory(result.conversation())
    mask = view["env_mask"] if generated else view["assistant_mask"]
    return Trajectory(question_id, view["prompt_ids"], view["completion_ids"], list(mask), view["logprobs"],
                      result.answer.to_dict() if result.answer is not None else None, episode_of(result),
                      result.trace)


# ---------------------------------------------------------------------------------------------------
# Oracle replays
# ---------------------------------------------------------------------------------------------------


def answer_text(question: Question, value: Any) -> str:
    """How the planner is taught to write an answer: a time span as ``2.0-4.5``, an option by its text."""
    if question.answer_type == "interval":
        start, end = value
        return f"{start:.1f}-{end:.1f}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def oracle_calls(question: Question, toolbox: Toolbox, session: VideoSession) -> tuple[list[tuple[str, dict]], str]:
    """The program's calls with references resolved against ``toolbox``, and the answer text."""
    if question.program is None:
        raise VidagentError(f"question {question.id} has no oracle program", "use world questions")

    def call_tool(name: str, args: dict[str, Any]) -> Any:
        return toolbox[name](session, **args)

    run = run_program(question.program, call_tool)
    return [(step.tool, step.args) for step in run.steps], answer_text(question, run.answer)


def oracle_trajectories(questions: list[Question], video_path: Any, toolbox: Toolbox, chat: Any, *,
                        max_tool_calls: int = 4) -> tuple[list[Trajectory], list[str]]:
    """Replay each question's oracle program through the planner graph. Returns the trajectories whose
    replayed answer the verifier accepts, and a line per skipped question saying why."""
    trajectories, skipped = [], []
    for question in questions:
        path = video_path(question)
        try:
            calls, answer = oracle_calls(question, toolbox, VideoSession(path))
        except VidagentError as error:  # the program does not run on these tools (e.g. real tools miss)
            skipped.append(f"{question.id}: {error.problem}")
            continue
        agent = Agent(ScriptedChatModel.from_program(calls, answer), toolbox, max_tool_calls=max_tool_calls,
                      frame_budget=None)
        result = agent.ask(path, question.text, answer_type=question.answer_type,
                           choices=question.choices or None)
        value = result.answer.value if result.answer is not None else None
        if not verify(question, value if value is not None else answer).correct:
            skipped.append(f"{question.id}: the replayed answer {answer!r} is wrong")
            continue
        trajectories.append(trajectory_from_result(question.id, result, chat, generated=False))
    return trajectories, skipped
