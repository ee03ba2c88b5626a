"""Test-time scaling: answer one question with N sampled trajectories and vote (``vidagent.agent.voting``).

The samples run concurrently through the same graph, so a local planner decodes them as one batch (its
batcher collects concurrent calls) and their tool calls share the process's tool memo and result cache:
the second sample's ``detect_objects`` over the same span costs milliseconds. With ``adaptive_k`` the
first k samples go first and the rest are drawn only when those k disagree; ``max_seconds`` and
``max_tokens`` cap what a question may spend (checked between waves of samples).
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vidagent.agent.voting import Consensus, aggregate, show
from vidagent.errors import ConfigError

if TYPE_CHECKING:
    from vidagent.agent.api import Agent, Result

DEFAULT_TEMPERATURE = 0.7


@dataclass(frozen=True)
class SamplingPlan:
    """How many samples a question may draw and when to stop early."""

    samples: int = 1
    adaptive_k: int | None = None  # draw k first; stop when they all agree
    max_seconds: float | None = None  # stop drawing waves after this much wall time
    max_tokens: int | None = None  # ... or after this many planner tokens (prompt + completion)
    temperature: float = DEFAULT_TEMPERATURE

    def __post_init__(self) -> None:
        if not isinstance(self.samples, int) or self.samples < 1:
            raise ConfigError(f"samples must be a whole number >= 1, got {self.samples!r}",
                              "use 1 for one greedy answer, or e.g. 8 to vote over 8 sampled answers")
        if self.adaptive_k is not None and not 2 <= self.adaptive_k <= self.samples:
            raise ConfigError(f"adaptive k must be between 2 and samples ({self.samples}), got {self.adaptive_k}",
                              "e.g. samples 8 with adaptive k 3: stop when the first 3 agree")
        for name in ("max_seconds", "max_tokens"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name} must be more than 0, got {value}", f"drop {name} or give a positive cap")
        if not self.temperature > 0:
            raise ConfigError(f"sampling temperature must be more than 0, got {self.temperature}", "use e.g. 0.7")


def sampling_model(model: Any, temperature: float) -> Any:
    """``model`` set to sample at ``temperature``: a copy for a pydantic chat model with such a field (the
    local model also gets ``do_sample`` and a batch wait long enough to gather all samples), else the
    model itself (it samples as it is configured)."""
    fields = getattr(type(model), "model_fields", {})
    update: dict[str, Any] = {}
    if "temperature" in fields:
        update["temperature"] = temperature
    if "do_sample" in fields:
        update["do_sample"] = True
    if "batch_wait_s" in fields:
        # samples start together; waiting for all of them beats decoding half (as in GRPO rollouts)
        update["batch_wait_s"] = max(model.batch_wait_s, 0.25)
    return model.model_copy(update=update) if update else model


def batch_limit(model: Any) -> int | None:
    """How many sequences the planner decodes at once (the local model's ``max_batch``), if it says."""
    limit = getattr(model, "max_batch", None)
    return int(limit) if isinstance(limit, int) and limit > 0 else None


def ask_sampled(sampler: Agent, video: Any, question: str, plan: SamplingPlan, **kwargs: Any) -> Result:
    """Draw samples with ``sampler`` in waves, vote, and return the winning trajectory's ``Result`` with the
    consensus answer, the ``Consensus`` and every sample."""
    started = time.perf_counter()
    limit = batch_limit(sampler.model)
    wave = min(plan.samples, limit) if limit else plan.samples
    notes = [f"{plan.samples} samples in waves of {wave} (the planner decodes at most {limit} at once)"] \
        if limit and plan.samples > limit else []
    results: list[Result] = []
    first = min(plan.adaptive_k or wave, wave)
    while len(results) < plan.samples:
        size = first if not results else min(wave, plan.samples - len(results))
        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="vidagent-sample") as pool:
            results += list(pool.map(lambda _: sampler.ask(video, question, **kwargs), range(size)))
        consensus = aggregate([r.answer for r in results])
        if plan.adaptive_k and len(results) == first and consensus.agreed():
            notes.append(f"stopped after {first}: they agreed")
            break
        spent_s, spent_tokens = time.perf_counter() - started, _tokens(results)
        if len(results) < plan.samples and plan.max_seconds is not None and spent_s >= plan.max_seconds:
            notes.append(f"stopped at {len(results)}: the {plan.max_seconds:g} s cap")
            break
        if len(results) < plan.samples and plan.max_tokens is not None and spent_tokens >= plan.max_tokens:
            notes.append(f"stopped at {len(results)}: the {plan.max_tokens} token cap")
            break
    consensus = aggregate([r.answer for r in results], note="; ".join(notes))
    return _voted_result(results, consensus, time.perf_counter() - started)


def _tokens(results: list[Result]) -> int:
    return sum(r.stats.prompt_tokens + r.stats.completion_tokens for r in results)


def _voted_result(results: list[Result], consensus: Consensus, seconds: float) -> Result:
    from vidagent.agent.api import Stats  # here: vidagent.agent.api imports this module

    chosen = results[consensus.winner] if consensus.winner is not None else results[0]
    answer = chosen.answer
    best = consensus.best
    if answer is not None and best is not None and best.answer_type == "interval":
        answer = dataclasses.replace(answer, value=list(best.value), text=show(best.value))  # the consensus span
    stats = Stats(seconds=seconds)
    for field in ("tool_calls", "tool_errors", "frames_seen", "frames_decoded", "frames_indexed", "llm_calls",
                  "prompt_tokens", "completion_tokens"):
        setattr(stats, field, sum(getattr(r.stats, field) for r in results))
    stats.llm_seconds = sum(r.stats.llm_seconds for r in results)
    for r in results:
        for name, s in r.stats.tool_seconds.items():
            stats.tool_seconds[name] = stats.tool_seconds.get(name, 0.0) + s
    reason = (f"{chosen.stop_reason}; voted: {consensus.line()}" if best is not None
              else f"no answer: none of the {consensus.samples} samples answered ({chosen.stop_reason})")
    return dataclasses.replace(chosen, answered=best is not None, answer=answer if best is not None else None,
                               stop_reason=reason, stats=stats, consensus=consensus, samples=results)
