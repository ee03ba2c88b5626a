"""The final ``Answer``: the model's text, a typed value, the evidence and the tool calls behind it.

Answer types follow the task suites: ``number`` (a count or a quantity), ``choice`` (one of the given
options), ``interval`` (a time span ``[start_s, end_s]``) and ``label`` (a short word or phrase). When the
question does not say, the type is inferred from the text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from vidagent.answers import clean_label, infer_type, read_choice, read_interval, read_number, spans_overlap
from vidagent.tools.results import Box, Evidence, TimeSpan

AnswerType = Literal["number", "choice", "interval", "label"]
ANSWER_TYPES: tuple[str, ...] = ("number", "choice", "interval", "label")


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
    """Read ``text`` as ``answer_type`` (inferred when None) with the one answer parser (``vidagent.answers``),
    the one the verifier scores with. Returns (type, value or None, problem)."""
    if answer_type is not None and answer_type not in ANSWER_TYPES:
        raise ValueError(f"unknown answer type {answer_type!r}; use one of {ANSWER_TYPES}")
    kind = answer_type or infer_type(text, choices)
    if kind == "number":
        value = read_number(text)
        return kind, value, None if value is not None else f"{text!r} contains no number"
    if kind == "interval":
        span = read_interval(text)
        return kind, list(span) if span else None, None if span else f"{text!r} is not a time span like 2.0-4.5"
    if kind == "choice":
        picked = read_choice(text, choices or [])
        return kind, picked, None if picked is not None else f"{text!r} matches none of the options {choices}"
    label = clean_label(text)
    return kind, label or None, None if label else "the answer is empty"


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
        return any(spans_overlap(value, span) for span in step["evidence"]["spans"])
    needle = str(value).lower()
    return re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w]|\.\d)", step["text"].lower()) is not None
