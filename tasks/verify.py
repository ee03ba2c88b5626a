"""Answer verification shared by rewards and evaluation: ``verify(question, prediction) -> Score``.

Predictions are read by the one answer parser, ``vidagent.answers`` (the agent types its answers with it
too; its docstring has the rules). By answer type:

* ``number``: the prediction's number (digits or a number word; of several, the last that is not a time
  stamp) must equal the gold number.
* ``label``: exact match after normalisation (case, punctuation, articles, word forms and synonyms from
  ``vidagent.words`` such as "walking" -> "walk", "yeah" -> "yes", "people" -> "person"; "stand" and
  "still" are one label); a sentence counts when the only known label of the gold's kind it names is the
  gold one ("The person is walking.").
* ``choice``: the choice text, a letter ("B", "(b)", "B. walk") or a 0-based index; when all choices are
  numbers, a number prediction is compared by value instead of read as an index.
* ``interval``: ``[start_s, end_s]`` from a pair, a dict with ``start_s``/``end_s``, or text such as
  "2.0-4.5 s" (a reversed span is put in order); the reward is the temporal IoU (``interval_iou``: two
  equal points give 1, a point inside a span 0) and ``correct`` means IoU >= 0.5 (set
  ``iou_threshold``). Over a set, ``interval_metrics`` gives R@IoU 0.3/0.5/0.7 and mIoU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vidagent.answers import interval_iou, normalize_label, read_choice, read_interval, read_number
from vidagent.tasks.questions import Question
from vidagent.tasks.world.config import ACTIONS, CLASSES, COLORS, EVENTS

IOU_THRESHOLDS = (0.3, 0.5, 0.7)


@dataclass(frozen=True)
class Score:
    correct: bool
    reward: float  # in [0, 1]: 1/0, or the IoU for intervals
    iou: float | None = None  # intervals only
    parsed: Any = None  # the prediction as understood; None when it could not be read
    reason: str = ""


# ---------------------------------------------------------------------------------------------------------
# Labels. Numbers, spans, choices and word forms are read by the one answer parser (``vidagent.answers``,
# ``vidagent.words``); the world adds its vocabulary and which labels count as the same.

# Labels that name the same visible behaviour for different classes (a person "stands", a car is "still").
EQUIVALENT = {"stand": "still"}
LABEL_GROUPS = (set(ACTIONS) | set(EVENTS), set(COLORS) | {"gray"}, set(CLASSES), {"yes", "no"})
KNOWN_LABELS = frozenset().union(*LABEL_GROUPS)


def normalize(text: Any) -> str:
    """``normalize_label`` toward the world's labels (case, punctuation, articles, word forms, synonyms,
    phrases), with equivalent labels made one: ``normalize("The person stands") == "person still"``."""
    return " ".join(EQUIVALENT.get(w, w) for w in normalize_label(text, KNOWN_LABELS).split())


def _label_matches(prediction: Any, gold: str) -> tuple[bool, str]:
    said, want = normalize(prediction), normalize(gold)
    if said == want:
        return True, said
    group = next((g for g in LABEL_GROUPS if want in g), None)
    if group is not None and {w for w in said.split() if w in group} == {want}:
        return True, want
    return False, said


def verify(question: Question, prediction: Any, iou_threshold: float = 0.5) -> Score:
    """Score ``prediction`` against the question's gold answer (see the module docstring)."""
    gold, kind = question.answer, question.answer_type
    if prediction is None:
        return Score(False, 0.0, reason="no prediction")
    if kind == "number":
        value = read_number(prediction)
        if value is None:
            return Score(False, 0.0, reason="no number found")
        ok = abs(value - float(gold)) < 1e-6  # type: ignore[arg-type]
        return Score(ok, float(ok), parsed=value, reason="" if ok else f"expected {gold:g}")
    if kind == "interval":
        span = read_interval(prediction)
        if span is None:
            return Score(False, 0.0, iou=0.0, reason="no interval found")
        iou = interval_iou(span, gold)  # type: ignore[arg-type]
        return Score(iou >= iou_threshold, iou, iou=iou, parsed=list(span))
    if kind == "choice":
        picked = read_choice(prediction, question.choices)
        if picked is None:
            return Score(False, 0.0, reason="prediction names none of the choices")
        ok = normalize(picked) == normalize(gold)
        return Score(ok, float(ok), parsed=picked, reason="" if ok else f"expected {gold}")
    ok, said = _label_matches(prediction, str(gold))
    return Score(ok, float(ok), parsed=said, reason="" if ok else f"expected {gold}")


def interval_metrics(ious: Iterable[float], thresholds: Sequence[float] = IOU_THRESHOLDS) -> dict[str, float]:
    """R@IoU for each threshold (share of predictions with IoU >= t) and mIoU, over a set."""
    values = list(ious)
    if not values:
        return {**{f"R@{t}": 0.0 for t in thresholds}, "mIoU": 0.0, "n": 0}
    metrics: dict[str, float] = {f"R@{t}": sum(v >= t for v in values) / len(values) for t in thresholds}
    metrics["mIoU"] = sum(values) / len(values)
    metrics["n"] = len(values)
    return metrics


def summarize(questions: Sequence[Question], scores: Sequence[Score]) -> dict[str, Any]:
    """Accuracy overall and per family, plus interval metrics for interval questions."""
    if len(questions) != len(scores):
        raise ValueError(f"{len(questions)} questions but {len(scores)} scores")
    per_family: dict[str, list[bool]] = {}
    for q, s in zip(questions, scores):
        per_family.setdefault(q.family, []).append(s.correct)
    ious = [s.iou or 0.0 for q, s in zip(questions, scores) if q.answer_type == "interval"]
    return {
        "n": len(scores),
        "accuracy": sum(s.correct for s in scores) / len(scores) if scores else 0.0,
        "families": {f: sum(v) / len(v) for f, v in sorted(per_family.items())},
        "intervals": interval_metrics(ious),
    }
