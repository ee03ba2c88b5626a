"""Answer verification shared by rewards and evaluation: ``verify(question, prediction) -> Score``.

By answer type:

* ``number``: the prediction's number (digits or a number word; the last one if it names several) must
  equal the gold number.
* ``label``: exact match after normalisation (case, punctuation, articles, verb forms such as
  "walking" -> "walk", "yeah" -> "yes"); a sentence counts when the only known label it names is the gold
  one ("The person is walking.").
* ``choice``: a letter ("B", "(b)", "B. walk"), a 0-based index (int), or the choice text; when all
  choices are numbers, a number prediction is compared by value instead of read as an index.
* ``interval``: the first two numbers of the prediction are ``[start_s, end_s]`` (a pair, a dict with
  ``start_s``/``end_s``, or text such as "2.0-4.5 s"); the reward is the temporal IoU and ``correct``
  means IoU >= 0.5 (set ``iou_threshold``). Over a set, ``interval_metrics`` gives R@IoU 0.3/0.5/0.7 and
  mIoU.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vidagent.tasks.questions import CHOICE_LETTERS, Question
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
# Normalisation

NUMBER_WORDS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
NUMBER_WORDS.update({"none": 0, "no one": 0, "nobody": 0})
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

# Multi-word phrases first, then single words -> canonical label.
PHRASES = {
    "lying on the ground": "lie", "lies on the ground": "lie", "lie on the ground": "lie", "lying down": "lie",
    "lie down": "lie", "standing still": "still", "stands still": "still", "stand still": "still",
    "staying still": "still", "stays still": "still", "stay still": "still", "not moving": "still",
    "rolls along": "ride", "rolling along": "ride", "riding a bike": "ride", "falling down": "fall",
    "falls down": "fall", "fall down": "fall", "jumping up": "jump",
}
_IRREGULAR = {"ran": "run", "running": "run", "lying": "lie", "lay": "lie", "lies": "lie", "fell": "fall",
              "stood": "stand", "rode": "ride", "riding": "ride", "drove": "drive", "driving": "drive",
              "flew": "fly", "flies": "fly", "flying": "fly", "slid": "slide", "sliding": "slide",
              "waving": "wave", "bouncing": "bounce", "stopping": "stop", "stopped": "stop",
              "stationary": "still", "parked": "still", "idle": "still", "yeah": "yes", "yep": "yes",
              "true": "yes", "nope": "no", "false": "no", "grey": "gray", "people": "person",
              "persons": "person", "man": "person", "woman": "person", "bike": "bicycle", "bikes": "bicycle",
              "entering": "enter", "leaving": "leave", "colliding": "collide", "collides": "collide",
              "hits": "collide", "hit": "collide"}
# Labels that name the same visible behaviour for different classes (a person "stands", a car is "still").
EQUIVALENT = {"stand": "still"}
LABEL_GROUPS = (set(ACTIONS) | set(EVENTS), set(COLORS) | {"gray"}, set(CLASSES), {"yes", "no"})
KNOWN_LABELS = set().union(*LABEL_GROUPS)


def _word(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for suffix in ("ing", "ed", "es", "s"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            for candidate in (stem, stem + "e", stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem):
                if candidate in KNOWN_LABELS:
                    return candidate
    return word


def normalize(text: Any) -> str:
    """Lower-case, drop punctuation and articles, map phrases and verb forms to canonical labels."""
    text = str(text).lower().strip()
    text = re.sub(r"[^a-z0-9. ]+", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep decimal points only
    text = " " + " ".join(text.split()) + " "
    for phrase, label in PHRASES.items():
        text = text.replace(f" {phrase} ", f" {label} ")
    words = [_word(w) for w in text.split() if w not in ("a", "an", "the")]
    return " ".join(EQUIVALENT.get(w, w) for w in words)


def parse_number(prediction: Any) -> float | None:
    """The number a prediction names (the last one if several), or None."""
    if isinstance(prediction, bool):
        return None
    if isinstance(prediction, int | float):
        return float(prediction)
    text = str(prediction).lower()
    found: list[tuple[int, float]] = [(m.start(), float(m.group())) for m in _NUMBER.finditer(text)]
    for word, value in NUMBER_WORDS.items():
        found += [(m.start(), float(value)) for m in re.finditer(rf"\b{word}\b", text)]
    return max(found)[1] if found else None


def parse_interval(prediction: Any) -> tuple[float, float] | None:
    """``(start_s, end_s)`` from a pair, a dict with start_s/end_s, or text with two numbers; else None."""
    values: list[float]
    if isinstance(prediction, dict):
        if "start_s" not in prediction or "end_s" not in prediction:
            return None
        values = [float(prediction["start_s"]), float(prediction["end_s"])]
    elif isinstance(prediction, list | tuple):
        try:
            values = [float(v) for v in prediction[:2]]
        except (TypeError, ValueError):
            return None
    else:
        values = [float(m.group()) for m in _NUMBER.finditer(str(prediction))][:2]
    if len(values) < 2:
        return None
    start, end = values[0], values[1]
    return (min(start, end), max(start, end))


def interval_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Temporal IoU of two ``(start, end)`` intervals; 0 when they do not overlap. Two equal points give 1."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    if union <= 0:
        return 1.0 if tuple(a) == tuple(b) else 0.0
    return inter / union


# ---------------------------------------------------------------------------------------------------------


def _label_matches(prediction: Any, gold: str) -> tuple[bool, str]:
    said, want = normalize(prediction), normalize(gold)
    if said == want:
        return True, said
    group = next((g for g in LABEL_GROUPS if want in g), None)
    if group is not None and {w for w in said.split() if w in group} == {want}:
        return True, want
    return False, said


def _choice(prediction: Any, choices: list[str]) -> str | None:
    numeric_choices = all(_NUMBER.fullmatch(c) for c in choices)
    if isinstance(prediction, int | float) and not isinstance(prediction, bool):
        if numeric_choices:  # a number among numbers is a value ("3"), elsewhere an int is a 0-based index
            found = [c for c in choices if float(c) == float(prediction)]
            return found[0] if found else None
        index = int(prediction)
        return choices[index] if index == prediction and 0 <= index < len(choices) else None
    text = str(prediction).strip()
    letters = CHOICE_LETTERS[: len(choices)]
    # "B", "(b)", "B." alone, or "B. walk" / "(b) walk" ("a dog" is not a letter: no punctuation)
    letter = re.fullmatch(rf"\(?([{letters}{letters.lower()}])\)?[.):]?", text) or \
        re.match(rf"^\(?([{letters}{letters.lower()}])[.):]\s", text)
    if letter:
        return choices[letters.index(letter.group(1).upper())]
    said = normalize(text)
    exact = [c for c in choices if normalize(c) == said]
    if len(exact) == 1:
        return exact[0]
    number = parse_number(text) if _NUMBER.search(text) else None
    numeric = [c for c in choices if number is not None and parse_number(c) == number and _NUMBER.fullmatch(c)]
    if len(numeric) == 1:
        return numeric[0]
    mentioned = [c for c in choices if f" {normalize(c)} " in f" {said} "]
    return mentioned[0] if len(mentioned) == 1 else None


def verify(question: Question, prediction: Any, iou_threshold: float = 0.5) -> Score:
    """Score ``prediction`` against the question's gold answer (see the module docstring)."""
    gold, kind = question.answer, question.answer_type
    if prediction is None:
        return Score(False, 0.0, reason="no prediction")
    if kind == "number":
        value = parse_number(prediction)
        if value is None:
            return Score(False, 0.0, reason="no number found")
        ok = abs(value - float(gold)) < 1e-6  # type: ignore[arg-type]
        return Score(ok, float(ok), parsed=value, reason="" if ok else f"expected {gold:g}")
    if kind == "interval":
        span = parse_interval(prediction)
        if span is None:
            return Score(False, 0.0, iou=0.0, reason="no interval found")
        iou = interval_iou(span, gold)  # type: ignore[arg-type]
        return Score(iou >= iou_threshold, iou, iou=iou, parsed=list(span))
    if kind == "choice":
        picked = _choice(prediction, question.choices)
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
