"""The final ``Answer``: the model's text, a typed value, the evidence and the tool calls behind it.

Answer types follow the task suites: ``number`` (a count or a quantity), ``choice`` (one of the given
options), ``interval`` (a time span ``[start_s, end_s]``) and ``label`` (a short word or phrase). When the
question does not say, the type is inferred from the text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from vidagent.tools.results import Box, Evidence, TimeSpan

AnswerType = Literal["number", "choice", "interval", "label"]
ANSWER_TYPES: tuple[str, ...] = ("number", "choice", "interval", "label")

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_INTERVAL_RE = re.compile(rf"({_NUMBER})\s*s?\s*(?:-|–|to|and|,)\s*({_NUMBER})")
_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve"]
_WORD_RE = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_LETTER_RE = re.compile(r"^\(?([A-Za-z])[).:]?(?:\s|$)")


@dataclass
class Answer:
    text: str  # what the model wrote inside <answer>
    answer_type: str
    value: float | int | str | list[float] | None  # None when ``text`` cannot be read as ``answer_type``
    evidence: Evidence = field(default_factory=Evidence)
    sources: list[str] = field(default_factory=list)  # ids of the tool calls the answer rests on
    problem: str | None = None  # why ``value`` is None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "answer_type": self.answer_type, "value": self.value,
                "evidence": evidence_to_dict(self.evidence), "sources": list(self.sources),
                "problem": self.problem}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(text=data["text"], answer_type=data["answer_type"], value=data["value"],
                   evidence=evidence_from_dict(data["evidence"]), sources=list(data["sources"]),
                   problem=data.get("problem"))

    def __str__(self) -> str:
        if self.value is None:
            return self.text
        if self.answer_type == "interval":
            start, end = self.value  # type: ignore[misc]
            return f"{start:g}-{end:g} s"
        return str(self.value)


def evidence_to_dict(evidence: Evidence) -> dict[str, Any]:
    return {"spans": [[s.start_s, s.end_s] for s in evidence.spans],
            "boxes": [asdict(b) for b in evidence.boxes], "track_ids": list(evidence.track_ids)}


def evidence_from_dict(data: dict[str, Any]) -> Evidence:
    return Evidence(spans=[TimeSpan(float(s), float(e)) for s, e in data.get("spans", [])],
                    boxes=[Box(**b) for b in data.get("boxes", [])], track_ids=list(data.get("track_ids", [])))


def coerce_value(text: str, answer_type: str | None = None,
                 choices: list[str] | None = None) -> tuple[str, Any, str | None]:
    """Read ``text`` as ``answer_type`` (inferred when None). Returns (type, value or None, problem)."""
    if answer_type is not None and answer_type not in ANSWER_TYPES:
        raise ValueError(f"unknown answer type {answer_type!r}; use one of {ANSWER_TYPES}")
    kind = answer_type or infer_type(text, choices)
    if kind == "number":
        value = read_number(text)
        return kind, value, None if value is not None else f"{text!r} contains no number"
    if kind == "interval":
        span = read_interval(text)
        return kind, span, None if span is not None else f"{text!r} is not a time span like 2.0-4.5"
    if kind == "choice":
        picked = read_choice(text, choices or [])
        return kind, picked, None if picked is not None else f"{text!r} matches none of the options {choices}"
    label = normalize_label(text)
    return kind, label or None, None if label else "the answer is empty"


def infer_type(text: str, choices: list[str] | None = None) -> str:
    if choices:
        return "choice"
    if _INTERVAL_RE.search(text) and len(_NUMBER_RE.findall(text)) == 2:
        return "interval"
    if re.fullmatch(rf"\s*{_NUMBER}\s*\.?\s*", text) or _WORD_RE.fullmatch(text.strip().rstrip(".")):
        return "number"
    return "label"


def read_number(text: str) -> int | float | None:
    match = _NUMBER_RE.search(text)
    if match is not None:
        value = float(match.group(0))
        return int(value) if value.is_integer() else value
    word = _WORD_RE.search(text)
    return _WORDS.index(word.group(1).lower()) if word else None


def read_interval(text: str) -> list[float] | None:
    match = _INTERVAL_RE.search(text)
    if match is None:
        return None
    start, end = float(match.group(1)), float(match.group(2))
    if end < start:
        return None
    return [start, end]


def read_choice(text: str, choices: list[str]) -> str | None:
    """Accept the option's letter (``B``, ``(B)``), its 0-based index or its text, case-insensitively."""
    stripped = text.strip()
    lowered = normalize_label(stripped)
    for option in choices:
        if normalize_label(option) == lowered:
            return option
    letter = _LETTER_RE.match(stripped)
    if letter is not None:
        index = ord(letter.group(1).upper()) - ord("A")
        if 0 <= index < len(choices) and (len(stripped) <= 3 or stripped[1:3].strip() in {")", ".", ":", ""}):
            return choices[index]
    if stripped.isdigit() and int(stripped) < len(choices):
        return choices[int(stripped)]
    matches = [o for o in choices if normalize_label(o) and normalize_label(o) in lowered]
    return matches[0] if len(matches) == 1 else None


def normalize_label(text: str) -> str:
    text = text.strip().lower().rstrip(".!")
    return re.sub(r"^(?:a|an|the)\s+", "", re.sub(r"\s+", " ", text))


def build_answer(text: str, tool_steps: list[dict[str, Any]], *, answer_type: str | None = None,
                 choices: list[str] | None = None) -> Answer:
    """Type the answer and attach evidence from the tool calls it rests on.

    Sources: for an interval, the calls whose spans overlap it; otherwise the calls whose observation
    mentions the value. When none does, every successful call of the turn (the answer came from all of
    them together).
    """
    kind, value, problem = coerce_value(text, answer_type, choices)
    ok_steps = [s for s in tool_steps if s["ok"]]
    supporting = [s for s in ok_steps if _supports(s, kind, value)] or ok_steps
    evidence = Evidence()
    if kind == "interval" and value is not None:
        evidence.spans.append(TimeSpan(value[0], value[1]))
    for step in supporting:
        found = evidence_from_dict(step["evidence"])
        evidence.spans.extend(s for s in found.spans if s not in evidence.spans)
        evidence.boxes.extend(b for b in found.boxes if b not in evidence.boxes)
        evidence.track_ids.extend(t for t in found.track_ids if t not in evidence.track_ids)
    return Answer(text=text, answer_type=kind, value=value, evidence=evidence,
                  sources=[s["id"] for s in supporting], problem=problem)


def _supports(step: dict[str, Any], kind: str, value: Any) -> bool:
    if value is None:
        return False
    if kind == "interval":
        start, end = value
        return any(s < end and e > start or s == e and start <= s <= end
                   for s, e in step["evidence"]["spans"])
    needle = str(value).lower()
    return re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w]|\.\d)", step["text"].lower()) is not None
