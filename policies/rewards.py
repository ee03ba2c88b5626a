"""Reward functions for GRPO, in TRL's signature: ``fn(prompts, completions, **kwargs) -> list[float | None]``.

A rollout (``vidagent.policies.rollout``) returns, per completion, extra fields that TRL forwards here as
keyword arguments: ``question`` (the dataset column: a ``Question`` as a dict), ``final_answer`` (the
``Answer`` as a dict, or None when the run gave no answer), and ``episode`` (counts: tool calls, invalid
calls, frames, characters of reasoning, whether it answered).

Each function is one named part, so TRL logs each mean separately; ``reward_parts`` computes them all
for one rollout, for the eval report and the tests. The recipe:

- ``accuracy_reward``: the world verifier's reward (1/0 for exact, numeric and choice answers; temporal IoU
  for intervals).
- ``format_reward``: 0.5 for ending with a readable ``<answer>``, plus 0.5 times the share of tool calls
  that were well-formed, known, and valid.
- ``length_reward``: TinyLLaVA-Video-R1's answer-gated length term ``(2*acc - 1) * f`` with
  ``f = 0.5 + 0.5 * min(chars / 1200, 1)`` when the run answered, else 0: longer reasoning earns more
  when right and loses more when wrong. Summed with accuracy it gives their ``r = acc + (2acc - 1) f``.
  It was gated on a perfect format (their recipe), which let a broken call dodge the wrong-answer penalty:
  a wrong answer after a malformed call scored 0.75, one after clean calls 0.0-0.5. Gated on answering,
  the format term alone separates the two, so a broken call never outscores a clean one with the same
  answer and reasoning (``tests/test_rewards.py``).
- ``efficiency_reward``: fewer tool calls and frames earn up to 0.2, **only when the answer is correct**
  (Video-MTR: ungated process rewards were gamed).
"""

from __future__ import annotations

from typing import Any

from vidagent.tasks.questions import Question
from vidagent.tasks.verify import verify

LENGTH_FULL_CHARS = 1200
EFFICIENCY_WEIGHT = 0.2
DEFAULT_MAX_TOOL_CALLS = 6
DEFAULT_FRAME_BUDGET = 256


def as_question(value: Question | dict[str, Any] | str) -> Question:
    """The ``question`` column as a ``Question``: the object, its dict, or its JSON (the GRPO dataset stores
    JSON, because Arrow cannot hold programs whose arguments differ in type from row to row)."""
    if isinstance(value, Question):
        return value
    if isinstance(value, str):
        return Question.model_validate_json(value)
    return Question.model_validate(value)


def _prediction(answer: dict[str, Any] | None) -> Any:
    if not answer:
        return None
    return answer["value"] if answer.get("value") is not None else answer.get("text")


def accuracy(question: Question | dict[str, Any] | str, answer: dict[str, Any] | None) -> tuple[float, bool]:
    """(reward, correct): the verifier's reward and whether the answer counts as right."""
    score = verify(as_question(question), _prediction(answer))
    return score.reward, score.correct


def answered(answer: dict[str, Any] | None, episode: dict[str, Any]) -> bool:
    return answer is not None and bool(episode.get("answered", True))


def format_score(answer: dict[str, Any] | None, episode: dict[str, Any]) -> float:
    calls = episode.get("tool_calls", 0)
    valid_share = 1.0 if calls == 0 else (calls - episode.get("invalid_calls", 0)) / calls
    done = 1.0 if answered(answer, episode) else 0.0
    return 0.5 * done + 0.5 * valid_share * done


def length_term(correct: bool, answered: bool, reasoning_chars: int) -> float:
    if not answered:
        return 0.0
    f = 0.5 + 0.5 * min(reasoning_chars / LENGTH_FULL_CHARS, 1.0)
    return (2 * float(correct) - 1) * f


def efficiency(correct: bool, episode: dict[str, Any], max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS,
               frame_budget: int = DEFAULT_FRAME_BUDGET) -> float:
    if not correct:
        return 0.0  # gated: saving calls on a wrong answer earns nothing
    calls = min(episode.get("tool_calls", 0) / max_tool_calls, 1.0)
    frames = min(episode.get("frames", 0) / frame_budget, 1.0)
    return EFFICIENCY_WEIGHT * (1.0 - 0.5 * calls - 0.5 * frames)


def reward_parts(question: Question | dict[str, Any], answer: dict[str, Any] | None,
                 episode: dict[str, Any]) -> dict[str, float]:
    """Every part for one rollout, plus ``total`` (their sum, the reward GRPO optimises)."""
    acc, correct = accuracy(question, answer)
    fmt = format_score(answer, episode)
    parts = {
        "accuracy": acc,
        "format": fmt,
        "length": length_term(correct, answered(answer, episode), episode.get("reasoning_chars", 0)),
        "efficiency": efficiency(correct, episode),
    }
    parts["total"] = sum(parts.values())
    return parts


# --- TRL reward functions: one per part ------------------------------------------------------------


def accuracy_reward(prompts: list, completions: list, question: list, final_answer: list, **_: Any) -> list[float]:
    return [accuracy(q, a)[0] for q, a in zip(question, final_answer, strict=True)]


def format_reward(prompts: list, completions: list, final_answer: list, episode: list, **_: Any) -> list[float]:
    return [format_score(a, e) for a, e in zip(final_answer, episode, strict=True)]


def length_reward(prompts: list, completions: list, question: list, final_answer: list, episode: list,
                  **_: Any) -> list[float]:
    out = []
    for q, a, e in zip(question, final_answer, episode, strict=True):
        correct = accuracy(q, a)[1]
        out.append(length_term(correct, answered(a, e), e.get("reasoning_chars", 0)))
    return out


def efficiency_reward(prompts: list, completions: list, question: list, final_answer: list, episode: list,
                      **_: Any) -> list[float]:
    return [efficiency(accuracy(q, a)[1], e) for q, a, e in zip(question, final_answer, episode, strict=True)]


# The default recipe, in the order TRL logs them. A newcomer finds every reward here.
DEFAULT_REWARDS = [accuracy_reward, format_reward, length_reward, efficiency_reward]


def zero_variance_share(rewards: list[float], group_size: int) -> float:
    """Share of GRPO groups whose rewards are all equal (they give no gradient; Video-R1 issue #86)."""
    if group_size <= 0 or len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    groups = [rewards[i : i + group_size] for i in range(0, len(rewards), group_size)]
    return sum(1 for g in groups if max(g) - min(g) < 1e-9) / len(groups)
