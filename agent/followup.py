"""Follow-up questions on a thread: "How many people appear?" then "What color is it?".

A follow-up is made to stand on its own: a pronoun that points back ("it", "they", "that one") is
replaced by what the previous answer was about (the label of its evidence boxes, else the object the
previous question named). Rules, not a model: a reference they do not see is left as written.

Who sees what: a native tool-calling model (an API planner) gets the whole thread, so the previous answer
and its evidence are in its view. A text-format planner (the local SmolLM2) is trained on one question at
a time and gets only the resolved question; the previous question, answer and evidence (``context``) go
to the trace. Measured on the bundled street video: with that context in its prompt, the shipped planner
answered "What color is it?" after "How many people appear?" with "2" (the previous answer), before or
after the question line alike; with the resolved question alone it answered a colour.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from vidagent.tools.coco import CLASS_ALIASES, COCO_CLASSES
from vidagent.words import canonical

# Pronouns that point back to the previous answer's subject. "that"/"this" alone are left out: "What
# happens after that?" points to an event, not to an object.
_PRONOUNS = {"it": False, "its": False, "they": True, "them": True, "their": True, "he": False, "him": False,
             "his": False, "she": False, "her": False, "this one": False, "that one": False, "these": True,
             "those": True}
_PRONOUN = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _PRONOUNS), key=len, reverse=True)) + r")\b", re.IGNORECASE)
_POSSESSIVE = {"its", "their", "his", "her"}
# "that car", "those people": already explicit; the demonstrative becomes "the"
_DEMONSTRATIVE = re.compile(r"\b(that|this|those|these)\s+(?=[a-z]{3,}\b)", re.IGNORECASE)
# Things a previous question can be about: the classes the detectors know (COCO's 80 and the world's 7)
_NOUNS = frozenset(w for name in (*COCO_CLASSES, *CLASS_ALIASES) for w in name.split()) | {"ball", "box"}


@dataclass(frozen=True)
class PreviousTurn:
    """What the previous question of the thread asked and answered."""

    question: str
    answer: str | None  # None: it got no answer
    labels: list[str] = field(default_factory=list)  # labels of its evidence boxes, most frequent first
    track_ids: list[int] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)

    @classmethod
    def from_final(cls, final: dict[str, Any] | None) -> PreviousTurn | None:
        """From the previous turn's ``final`` state entry (see ``vidagent.agent.graph.finalize_node``)."""
        if not final or not final.get("question"):
            return None
        answer = final.get("answer") or {}
        evidence = answer.get("evidence") or {}
        labels = [label for label, _ in Counter(b.get("label") for b in evidence.get("boxes", [])
                                                if b.get("label")).most_common()]
        return cls(final["question"], answer.get("text"), labels, list(evidence.get("track_ids", [])),
                   [(float(s), float(e)) for s, e in evidence.get("spans", [])])

    @property
    def subject(self) -> str | None:
        """What the previous answer was about: its evidence's main label, else the first object the previous
        question names ("How many people appear?" -> "person"); None when neither says."""
        if self.labels:
            return self.labels[0]
        words = [canonical(w) for w in re.findall(r"[a-z]+", self.question.lower())]
        return next((w for w in words if w in _NOUNS), None)

    def summary(self) -> str:
        parts = []
        if self.track_ids:
            parts.append("tracks " + ", ".join(map(str, self.track_ids[:6])))
        if self.spans:
            parts.append(", ".join(f"{s:.1f}-{e:.1f} s" for s, e in self.spans[:3]))
        evidence = f" Its evidence: {'; '.join(parts)}." if parts else ""
        answer = f'answered "{self.answer}"' if self.answer is not None else "not answered"
        return f'Earlier in this conversation: "{self.question}" was {answer}.{evidence}'


@dataclass(frozen=True)
class FollowUp:
    question: str  # the question as the planner gets it
    context: str  # the previous turn, in words (for the trace)
    resolved: str | None  # 'it' -> 'the person', for the trace; None when nothing was replaced


def resolve_followup(question: str, previous: PreviousTurn) -> FollowUp:
    """The follow-up made to stand alone (see the module docstring)."""
    subject = previous.subject
    replaced: list[str] = []

    def name(match: re.Match[str]) -> str:
        word = match.group(1)
        lower = word.lower()
        noun = plural_of(subject) if _PRONOUNS[lower] else subject
        text = f"the {noun}" + ("'s" if lower in _POSSESSIVE else "")
        replaced.append(f"'{word}' = {text}")
        return text[0].upper() + text[1:] if match.start() == 0 else text

    resolved = question
    if subject is not None:
        resolved = _PRONOUN.sub(name, question)
        resolved = _DEMONSTRATIVE.sub(lambda m: "The " if m.start() == 0 else "the ", resolved)
    return FollowUp(resolved, previous.summary(), ", ".join(replaced) or None)


def plural_of(noun: str | None) -> str | None:
    irregular = {"person": "people", "man": "men", "woman": "women", "child": "children", "mouse": "mice"}
    if noun is None or noun in irregular:
        return irregular.get(noun or "", noun)
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
