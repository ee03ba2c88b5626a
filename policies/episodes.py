"""Training episodes: a question, the toolbox it is asked with, and the oracle's calls in that toolbox's names.

SFT replays episodes through the planner graph (``replay``); GRPO asks the same mix of questions, each with
its own toolbox (``rollout_mix``), and lets the reward judge the answers. The mix that makes a planner generalize
(``Mix``):

- **wording**: a share of the world questions is asked in the ``train`` wording set
  (``vidagent.tasks.paraphrase``); the oracle calls keep the tools' words, so the planner learns to turn a
  user's words into the tools' (the ``heldout`` wording set is never used here);
- **toolbox**: a share of episodes gets a varied toolbox (``vidagent.policies.toolbox_variation``);
- **novel tools**: questions that only a ``NOVEL_TRAIN`` tool answers, asked with that tool in the toolbox
  (``vidagent.tasks.world.novel_tools``; the ``NOVEL_HELDOUT`` tools are never used here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidagent.agent.api import Agent
from vidagent.agent.chat_models.scripted import ScriptedChatModel
from vidagent.errors import ConfigError, VidagentError
from vidagent.policies.toolbox_variation import EpisodeTools, Variation, vary_toolbox
from vidagent.policies.trajectories import Trajectory, answer_text, oracle_calls, trajectory_from_result
from vidagent.tasks.paraphrase import paraphrase
from vidagent.tasks.questions import Question
from vidagent.tasks.verify import verify
from vidagent.tools.base import Tool
from vidagent.tools.toolbox import Toolbox
from vidagent.tools.video import VideoSession


@dataclass(frozen=True)
class Mix:
    paraphrase_share: float = 0.5  # world questions asked in the train wording set
    novel_per_tool: int = 0  # questions per NOVEL_TRAIN tool
    variation: Variation = field(default_factory=Variation)
    recovery_share: float = 0.0  # world episodes that start with a mistaken call, then recover (``mistake``)


@dataclass
class Episode:
    question: Question  # as asked (text maybe paraphrased)
    toolbox: Toolbox
    calls: list[tuple[str, dict[str, Any]]]  # in the episode toolbox's names
    answer: str  # the answer text the planner is taught to write
    kind: str = "world"  # world | paraphrased | novel
    recovery: bool = False  # the first call is a mistake: its error is shown, its tokens are not trained on


# Names a planner reaches for that no toolbox has (the recovery episodes' wrong-tool mistakes)
WRONG_NAMES = ("object_detector", "detect", "find_action", "grounding", "frame_description", "search_video")


def mistake(call: tuple[str, dict[str, Any]], renamed_from: str | None, rng: np.random.Generator
            ) -> tuple[str, dict[str, Any]]:
    """A plausible wrong version of ``call`` that the graph refuses with an error the planner can act on:
    the tool's default name when this toolbox renamed it (``renamed_from``), else a made-up tool name, or
    the span written ``start``/``end`` instead of ``start_s``/``end_s`` (an invalid-arguments error)."""
    name, args = call
    if renamed_from is not None and rng.random() < 0.7:
        return renamed_from, dict(args)
    if "start_s" in args and rng.random() < 0.5:
        wrong = {("start" if k == "start_s" else "end" if k == "end_s" else k): v for k, v in args.items()}
        return name, wrong
    return WRONG_NAMES[int(rng.integers(len(WRONG_NAMES)))], dict(args)


def _with_mistake(calls: list[tuple[str, dict[str, Any]]], tools: EpisodeTools, rng: np.random.Generator
                  ) -> list[tuple[str, dict[str, Any]]]:
    first = calls[0]
    original = next((old for old, new in tools.names.items() if new == first[0]), None)
    return [mistake(first, original, rng), *calls]


def _asked(question: Question, base: Sequence[Tool], rng: np.random.Generator, mix: Mix, *,
           needed: Sequence[Tool] = (), distractors: Sequence[Tool] = (), reword: bool = True
           ) -> tuple[Question, str, EpisodeTools]:
    """How one question is put to the planner: its text (a share in the train wordings) and toolbox."""
    asked, kind = question, "world" if reword else "novel"
    if reword and rng.random() < mix.paraphrase_share:
        asked = paraphrase(question, "train", seed=int(rng.integers(1 << 30)))
        kind = "paraphrased" if asked is not question else "world"
    return asked, kind, vary_toolbox(base, rng, mix.variation, needed=needed, distractors=distractors)


@dataclass
class TrainingQuestions:
    """What a training run (SFT or GRPO) draws from a world: its world questions and the train novel tools
    with their questions."""

    questions: list[Question]
    novel: list[Question]
    novel_tools: list[Tool]


def training_questions(world: Any, split: str, count: int, *, novel_per_tool: int, open_per_family: int = 0,
                       seed: int) -> TrainingQuestions:
    """``count`` questions of ``world``'s (a ``WorldData``) split in a seeded order, then ``open_per_family``
    open questions of each open family (they have oracle programs, like the world's), and ``novel_per_tool``
    questions for each train novel tool, all over the same split's videos."""
    from vidagent.tasks.world.novel_tools import NOVEL_TRAIN, novel_questions  # noqa: PLC0415
    from vidagent.tasks.world.open_questions import open_questions  # noqa: PLC0415

    truths = world.world.split_truths(split)
    questions = world.questions(split, count, seed=seed)
    questions += open_questions(truths, per_family=open_per_family, seed=seed) if open_per_family else []
    novel = novel_questions(truths, NOVEL_TRAIN, per_tool=novel_per_tool, seed=seed)
    return TrainingQuestions(questions, novel, [n.tool for n in NOVEL_TRAIN])


def build_episodes(questions: Sequence[Question], video_path: Callable[[Question], str], base: Toolbox,
                   mix: Mix, *, seed: int = 0, novel: Sequence[Question] = (),
                   novel_tools: Sequence[Tool] = ()) -> tuple[list[Episode], list[str]]:
    """SFT's episodes for world ``questions`` (oracle programs resolved on ``base``) and ``novel`` questions
    (their ``meta["calls"]``, on ``base`` + the tool they need). Returns the episodes and a line per skipped
    question saying why."""
    rng = np.random.default_rng([seed, 211])
    base_tools = list(base)
    by_name = {t.name: t for t in novel_tools}
    episodes: list[Episode] = []
    skipped: list[str] = []
    for question in questions:
        try:
            calls, answer = oracle_calls(question, base, VideoSession(video_path(question)))
        except VidagentError as error:
            skipped.append(f"{question.id}: {error.problem}")
            continue
        asked, kind, tools = _asked(question, base_tools, rng, mix, distractors=novel_tools)
        renamed = tools.rename(calls)
        if renamed and rng.random() < mix.recovery_share:
            episodes.append(Episode(asked, tools.toolbox, _with_mistake(renamed, tools, rng), answer, kind, True))
        else:
            episodes.append(Episode(asked, tools.toolbox, renamed, answer, kind))
    for question in novel:
        needed = by_name.get(question.meta.get("tool", ""))
        if needed is None:
            skipped.append(f"{question.id}: its tool {question.meta.get('tool')!r} is not among the novel tools")
            continue
        calls = [(name, dict(args)) for name, args in question.meta["calls"]]
        asked, kind, tools = _asked(question, base_tools, rng, mix, needed=[needed], distractors=novel_tools,
                                    reword=False)
        episodes.append(Episode(asked, tools.toolbox, tools.rename(calls), answer_text(question, question.answer),
                                kind))
    return episodes, skipped


def rollout_mix(questions: Sequence[Question], base: Toolbox, mix: Mix, *, seed: int = 0,
                novel: Sequence[Question] = (), novel_tools: Sequence[Tool] = ()
                ) -> tuple[list[Question], dict[str, Toolbox]]:
    """GRPO's side of the mix: the questions as asked (world ``questions``, a share in the train wordings,
    then the ``novel`` ones) and the toolbox each is asked with, by question id: every rollout of a group
    sees the same prompt, as GRPO's comparison needs. No oracle replay: the reward checks the answer."""
    rng = np.random.default_rng([seed, 307])
    base_tools = list(base)
    by_name = {t.name: t for t in novel_tools}
    asked_all: list[Question] = []
    toolboxes: dict[str, Toolbox] = {}
    for question in questions:
        asked, _, tools = _asked(question, base_tools, rng, mix, distractors=novel_tools)
        asked_all.append(asked)
        toolboxes[asked.id] = tools.toolbox
    for question in novel:
        needed = by_name.get(question.meta.get("tool", ""))
        if needed is None:
            raise ConfigError(f"novel question {question.id} needs the tool {question.meta.get('tool')!r}, "
                              "which is not among the novel tools", "pass the tools the questions were made for")
        _, _, tools = _asked(question, base_tools, rng, mix, needed=[needed], distractors=novel_tools,
                             reword=False)
        asked_all.append(question)
        toolboxes[question.id] = tools.toolbox
    return asked_all, toolboxes


def replay(episode: Episode, path: str, chat: Any, *, max_tool_calls: int = 4) -> Trajectory | str:
    """Run the episode's calls and answer through the planner graph (a scripted model) and render the
    trajectory with ``chat``; a line saying why instead when the replayed answer is wrong, or a call other
    than a recovery episode's first one failed. A recovery episode's first reply (the mistake) is masked
    out of the loss: the planner learns what to do after the error, not the error."""
    question = episode.question
    if len(episode.calls) > max_tool_calls:
        return f"{question.id}: {len(episode.calls)} calls do not fit --max-tool-calls {max_tool_calls}"
    agent = Agent(ScriptedChatModel.from_program(episode.calls, episode.answer), episode.toolbox,
                  max_tool_calls=max_tool_calls, frame_budget=None)
    result = agent.ask(path, question.text, answer_type=question.answer_type, choices=question.choices or None)
    value = result.answer.value if result.answer is not None else None
    tool_steps = [s for s in result.trace if s.kind == "tool"]
    failed = [s for s in tool_steps[1 if episode.recovery else 0:] if not s.ok]
    if failed:
        return f"{question.id}: a replayed call failed ({failed[0].text[:120]})"
    if episode.recovery and (not tool_steps or tool_steps[0].ok):
        return f"{question.id}: the recovery episode's mistaken call did not fail"
    if not verify(question, value if value is not None else episode.answer).correct:
        return f"{question.id}: the replayed answer {episode.answer!r} is wrong"
    trajectory = trajectory_from_result(question.id, result, chat, generated=False)
    if episode.recovery:
        trajectory.model_mask = mask_first_reply(trajectory.model_mask)
    return trajectory


def mask_first_reply(mask: list[int]) -> list[int]:
    """``mask`` with its first run of 1s (the first reply) set to 0."""
    out = list(mask)
    k = out.index(1) if 1 in out else len(out)
    while k < len(out) and out[k] == 1:
        out[k] = 0
        k += 1
    return out
