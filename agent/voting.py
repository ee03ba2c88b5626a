"""Self-consistency: the answers of N sampled trajectories of one question, aggregated by answer type.

Numbers, choices and labels vote on their parsed value (the one answer parser, ``vidagent.answers``, so
"2", "two" and "2.0" are one vote and "People" and "the person" another); intervals are clustered by
temporal IoU and the cluster's answer is its consensus span (the median start and end). A sample without
an answer (or whose text does not parse) votes for nothing but still counts: the confidence is the
winning share of all samples drawn, so a question the model mostly fails to answer is not confident.

Votes may be weighted (``weights``): the evidence check (``evidence_weights``) counts a sample whose answer
cites no tool evidence (a guess) at a fraction of one that looked; the winner and the confidence are then
the weighted share.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vidagent.agent.answer import Answer
from vidagent.answers import interval_iou, normalize_label

CLUSTER_IOU = 0.5  # two spans are the same answer when their IoU is at least this


@dataclass(frozen=True)
class Option:
    """One distinct answer and the samples that gave it."""

    value: Any  # the typed value (an interval cluster: its consensus span)
    answer_type: str
    members: tuple[int, ...]  # sample indices
    weight: float = 0.0  # the members' summed vote weights (plain votes: 1 each)

    @property
    def votes(self) -> int:
        return len(self.members)


@dataclass
class Consensus:
    """What the samples agree on. ``winner`` is the index of the sample whose trajectory (and evidence)
    stands for the answer: for a vote the first sample of the winning option, for an interval the member
    closest to the consensus span."""

    options: list[Option]  # most votes first
    samples: int  # samples drawn
    winner: int | None  # None when no sample answered
    note: str = ""  # how the samples were drawn (waves, early stop, caps)
    per_sample: list[Any] = field(default_factory=list)  # each sample's value (None: no answer)
    total_weight: float | None = None  # all samples' vote weights; None: plain votes (= samples)

    @property
    def best(self) -> Option | None:
        return self.options[0] if self.options else None

    @property
    def confidence(self) -> float:
        """The winning share of all samples drawn, by weight (0.0 when none answered)."""
        total = self.samples if self.total_weight is None else self.total_weight
        return self.best.weight / total if self.best and total else 0.0

    @property
    def alternatives(self) -> list[Option]:
        return self.options[1:]

    def agreed(self) -> bool:
        """Every sample answered, and alike."""
        return bool(self.best) and self.best.votes == self.samples

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "confidence": self.confidence, "winner": self.winner, "note": self.note,
                "options": [{"value": o.value, "answer_type": o.answer_type, "votes": o.votes,
                             "members": list(o.members)} for o in self.options],
                "per_sample": self.per_sample}

    def line(self) -> str:
        if not self.best:
            return f"no sample of {self.samples} answered"
        others = ", ".join(f"{show(o.value)} ({o.votes})" for o in self.alternatives[:4])
        return (f"confidence {self.confidence:.2f} ({self.best.votes} of {self.samples} samples)"
                + (f"; alternatives: {others}" if others else "") + (f"; {self.note}" if self.note else ""))


def show(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{value[0]:g}-{value[1]:g} s"
    return str(value)


def vote_key(answer: Answer) -> tuple[str, Any] | None:
    """What makes two answers the same vote; None for an answer that did not parse."""
    if answer.value is None:
        return None
    if answer.answer_type == "number":
        return "number", round(float(answer.value), 6)
    if answer.answer_type == "label":
        return "label", normalize_label(answer.value)
    return answer.answer_type, answer.value


def evidence_weights(cited: Sequence[bool], unverified: float = 0.25) -> list[float]:
    """Vote weights for the evidence check: 1 for a sample whose answer cites tool evidence, ``unverified``
    for one that does not (it answered without a tool result to point at)."""
    return [1.0 if c else unverified for c in cited]


def aggregate(answers: Sequence[Answer | None], note: str = "",
              weights: Sequence[float] | None = None) -> Consensus:
    """The consensus of sampled answers (``None``: that sample gave no answer), each vote counting its
    weight (default 1)."""
    if weights is not None and len(weights) != len(answers):
        raise ValueError(f"{len(weights)} weights for {len(answers)} answers")
    weight = [1.0] * len(answers) if weights is None else [float(w) for w in weights]
    values = [a.value if a is not None else None for a in answers]
    typed = [(i, a) for i, a in enumerate(answers) if a is not None and a.value is not None]
    spans = [(i, a) for i, a in typed if a.answer_type == "interval"]
    options = cluster_intervals([(i, tuple(a.value)) for i, a in spans])
    groups: dict[tuple[str, Any], list[int]] = {}
    for i, answer in typed:
        if answer.answer_type != "interval":
            groups.setdefault(vote_key(answer), []).append(i)  # type: ignore[arg-type]
    options += [Option(answers[m[0]].value, key[0], tuple(m)) for key, m in groups.items()]  # type: ignore[union-attr]
    options = [replace(o, weight=sum(weight[m] for m in o.members)) for o in options]
    options.sort(key=lambda o: (-o.weight, -o.votes, o.members[0]))  # ties: the option a sample gave first
    winner = None
    if options:
        best = options[0]
        winner = (closest(best.value, [(m, tuple(answers[m].value)) for m in best.members])  # type: ignore[union-attr]
                  if best.answer_type == "interval" else best.members[0])
    return Consensus(options, len(answers), winner, note, values, None if weights is None else sum(weight))


def cluster_intervals(spans: list[tuple[int, tuple[float, float]]]) -> list[Option]:
    """Greedy clustering: the span with the most neighbours (IoU >= ``CLUSTER_IOU``) and its neighbours form
    a cluster, then the same on what is left. A cluster's value is its median start and end."""
    left, options = list(spans), []
    while left:
        neighbours = [[j for j, (_, b) in enumerate(left) if interval_iou(a, b) >= CLUSTER_IOU] for _, a in left]
        seed = max(range(len(left)), key=lambda k: (len(neighbours[k]), -k))
        members = [left[j] for j in neighbours[seed]]
        consensus = (round(statistics.median(s for _, (s, _) in members), 2),
                     round(statistics.median(e for _, (_, e) in members), 2))
        options.append(Option(list(consensus), "interval", tuple(sorted(i for i, _ in members))))
        taken = set(neighbours[seed])
        left = [item for j, item in enumerate(left) if j not in taken]
    return options


def closest(span: Sequence[float], members: list[tuple[int, tuple[float, float]]]) -> int:
    return max(members, key=lambda m: (interval_iou(span, m[1]), -m[0]))[0]
