"""The one answer parser: numbers, time spans, choices and labels, read the same by the agent and the verifier.

The agent types its final answer with it (``vidagent.agent.answer.coerce_value``) and the verifier scores
predictions with it (``vidagent.tasks.verify.verify``), so rewards and evaluation read an answer exactly as
the agent reported it.

* ``read_number``: digits ("3", "1.5") or a number word ("zero" .. "twenty"; "none", "no one" and
  "nobody" are 0). When a text names several numbers, the **last one that is not a time stamp** counts, and
  a time stamp only when there is nothing else. Why: a short answer names one number, so any rule reads it;
  a longer one mostly restates the question first or corrects itself, and ends on the count ("At 4.0 s
  there are 2 cars", "The number of people is 3", "two, no wait, three"); the times it echoes ("4.0 s",
  "ten seconds") are never the count, wherever they stand ("2 cars at 4.0 s"). "one" after a determiner
  ("a red one", "the one on the left") is a pronoun, not a number. Signs are not read ("1.5-3.5" is a
  span, not -3.5): counts and times are not negative.
* ``read_interval``: ``(start_s, end_s)`` from a pair, a dict with ``start_s``/``end_s``, or text: the first
  two numbers joined by "-", "to", "and", "until" or "," ("2.0-4.5 s", "from 2 to 4.5"), else the text's
  first two numbers ("start 2.0 s, end 4.5 s"). A reversed span ("4.5-2.0") is put in order: both ends
  are given, and which is first carries no other meaning. Fewer than two numbers, or a value that is not a
  finite number, is None.
* ``read_choice``: an option's text, its letter ("B", "(b)", "B. walk"), a number (by value when every
  option names a number, else a 0-based index), a number in a sentence when options are numbers, or the
  one option a sentence mentions ("a dog runs").
* ``normalize_label``: the comparison key of a label (case, punctuation, articles, word forms, synonyms and
  phrases via ``vidagent.words``); ``clean_label``: the label as the agent shows it.
* ``interval_iou``: temporal IoU. Zero-length spans follow the definition intersection / union: a point
  inside a span or two different points give 0 (they share no length); two equal points give 1 (the union
  is empty too, and they are the same moment). ``spans_overlap`` is the looser test of "shares some time"
  (a point inside a span does).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Collection, Sequence
from typing import Any

from vidagent.words import canonical, join_phrases

COUNTING_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                  "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                  "nineteen", "twenty")
NUMBER_WORDS: dict[str, int] = {**{w: i for i, w in enumerate(COUNTING_WORDS)}, "none": 0, "no one": 0,
                                "nobody": 0}
ARTICLES = frozenset({"a", "an", "the"})
# "one" right after these (or one word later: "a red one") is a pronoun; not "that", which is as often a
# conjunction ("I see that one car is red")
_DETERMINERS = frozenset({"a", "an", "the", "this", "which", "each", "every", "another"})

_DIGITS = r"(?<![\w.])\d+(?:\.\d+)?"  # no sign: in "1.5-3.5" the dash joins a span
_DIGITS_RE = re.compile(_DIGITS, re.ASCII)
_WORDS = "|".join(w.replace(" ", r"\s+") for w in sorted(NUMBER_WORDS, key=len, reverse=True))
# ASCII only: "ſix" is no "six", and "٣" is not read as 3
_NUMBER_RE = re.compile(rf"({_DIGITS})|\b({_WORDS})\b", re.IGNORECASE | re.ASCII)
_UNIT = r"\s*(?:s|secs?|seconds?)\b"
_UNIT_RE = re.compile(_UNIT, re.IGNORECASE | re.ASCII)
_SPAN_RE = re.compile(rf"({_DIGITS})(?:{_UNIT})?\s*(?:-|–|—|\bto\b|\band\b|\buntil\b|\btill\b|,)\s*({_DIGITS})",
                      re.IGNORECASE | re.ASCII)
_BARE_NUMBER_RE = re.compile(r"\s*\d+(?:\.\d+)?\s*\.?\s*", re.ASCII)
# "B", "(b)", "B." or "B)" alone, or a letter with punctuation before the option's text ("B. walk"); a bare
# "a dog" is not a letter
_LETTER_ALONE_RE = re.compile(r"\(?([a-z])\)?[.):]?", re.IGNORECASE | re.ASCII)
_LETTER_FIRST_RE = re.compile(r"\(?([a-z])[.):]\s", re.IGNORECASE | re.ASCII)


# -- numbers -------------------------------------------------------------------------------------------------

def read_number(prediction: Any) -> int | float | None:
    """The number a prediction names (see the module docstring for several), an int when whole; else None."""
    if isinstance(prediction, bool):
        return None
    if isinstance(prediction, int | float):
        return _tidy(prediction)
    found = _numbers(str(prediction))
    if not found:
        return None
    counts = [value for value, is_time in found if not is_time]
    return _tidy((counts or [value for value, _ in found])[-1])


def _numbers(text: str) -> list[tuple[float, bool]]:
    """Each number the text names, in order, with whether it is a time stamp (followed by a unit)."""
    found = []
    for match in _NUMBER_RE.finditer(text):
        digits, word = match.groups()
        if word is not None and word.lower() == "one" and _after_determiner(text, match.start()):
            continue
        value = float(digits) if digits is not None else float(NUMBER_WORDS[" ".join(word.lower().split())])
        found.append((value, _UNIT_RE.match(text, match.end()) is not None))
    return found


def _after_determiner(text: str, at: int) -> bool:
    return not _DETERMINERS.isdisjoint(re.findall(r"[a-z]+", text[:at].lower())[-2:])


def _tidy(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


# -- intervals -----------------------------------------------------------------------------------------------

def read_interval(prediction: Any) -> tuple[float, float] | None:
    """``(start_s, end_s)`` with start <= end from a pair, a dict or text (see the module docstring); else None."""
    ends = _endpoints(prediction)
    if ends is None or len(ends) < 2 or not all(math.isfinite(v) for v in ends):
        return None
    return (min(ends), max(ends))


def _endpoints(prediction: Any) -> list[float] | None:
    if isinstance(prediction, dict):
        values = [prediction.get("start_s"), prediction.get("end_s")]
    elif isinstance(prediction, list | tuple):
        values = list(prediction[:2])
    else:
        text = str(prediction)
        pair = _SPAN_RE.search(text)
        values = list(pair.groups()) if pair else _DIGITS_RE.findall(text)[:2]
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return None


def interval_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Temporal IoU of two ``(start, end)`` spans (ends in either order): intersection / union, 0 when they
    share no length, so a point inside a span gives 0; two equal points give 1 (see the module docstring)."""
    (a0, a1), (b0, b1) = sorted(a), sorted(b)
    union = max(a1, b1) - min(a0, b0)
    if union == 0:
        return 1.0  # the same point
    return max(0.0, min(a1, b1) - max(a0, b0)) / union


def spans_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two ``(start, end)`` spans share time: a stretch of some length, or a point lying within the
    other span, ends included. Spans that only touch (0-2 and 2-4) do not."""
    (a0, a1), (b0, b1) = sorted(a), sorted(b)
    lo, hi = max(a0, b0), min(a1, b1)
    return lo < hi or (lo == hi and (a0 == a1 or b0 == b1))


# -- choices -------------------------------------------------------------------------------------------------

def read_choice(prediction: Any, choices: Sequence[str]) -> str | None:
    """The option a prediction picks, or None when it names none or several (see the module docstring).

    Tried in order: the option's text, its letter, a number, a number in a sentence, a mention.
    """
    if isinstance(prediction, bool) or not choices:
        return None
    if isinstance(prediction, int | float):
        return _by_number(prediction, choices)
    text = str(prediction).strip()
    known = frozenset(w for c in choices for w in normalize_label(c).split())
    said = normalize_label(text, known)
    keys = [normalize_label(c, known) for c in choices]
    exact = [c for c, key in zip(choices, keys) if key and key == said]
    if len(exact) == 1:
        return exact[0]
    letter = _letter_index(text)
    if letter is not None and letter < len(choices):
        return choices[letter]
    number = read_number(text)
    if number is not None and (_BARE_NUMBER_RE.fullmatch(text) or _all_numbers(choices)):
        return _by_number(number, choices)
    mentioned = [c for c, key in zip(choices, keys) if key and f" {key} " in f" {said} "]
    return mentioned[0] if len(mentioned) == 1 else None


def _letter_index(text: str) -> int | None:
    """The 0-based index a letter names ("B", "(b)", "B. walk" -> 1), or None when the text is no letter."""
    letter = _LETTER_ALONE_RE.fullmatch(text) or _LETTER_FIRST_RE.match(text)
    return string.ascii_lowercase.index(letter.group(1).lower()) if letter else None


def _by_number(number: float, choices: Sequence[str]) -> str | None:
    """Among options that all name a number, the one of this value; otherwise the option at this 0-based
    index (a bare "1" among words is the second option)."""
    if _all_numbers(choices):
        found = [c for c in choices if read_number(c) == number]
        return found[0] if len(found) == 1 else None
    if not float(number).is_integer() or not 0 <= number < len(choices):
        return None
    return choices[int(number)]


def _all_numbers(choices: Sequence[str]) -> bool:
    return all(read_number(c) is not None for c in choices)


# -- labels and types ----------------------------------------------------------------------------------------

def normalize_label(text: Any, known: Collection[str] | None = None) -> str:
    """The comparison key of a label: lower case, no punctuation (decimal points kept) or articles, each
    word canonical (``vidagent.words.canonical``, toward ``known`` when given), phrases joined.
    ``normalize_label("The People are LYING on the ground!") == "person are lie"``."""
    text = re.sub(r"[^a-z0-9. ]+", " ", str(text).lower())
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep decimal points only
    return " ".join(join_phrases([canonical(w, known) for w in text.split() if w not in ARTICLES]))


def clean_label(text: str) -> str:
    """A label as the agent reports it: lower case, single spaces, no final "." or "!", no leading article.
    Word forms stay ("red cars"); ``normalize_label`` of it equals ``normalize_label`` of the text."""
    text = " ".join(text.lower().split()).rstrip(".! ")
    return re.sub(r"^(?:a|an|the)\s+", "", text)


def infer_type(text: str, choices: Sequence[str] | None = None) -> str:
    """The answer type a text reads as when none is given: ``choice`` with options; ``interval`` for a span
    of exactly two numbers ("2.0-4.5 s"); ``number`` for one number alone ("3", "three."); else ``label``.
    "none" alone stays a label: without a question it is as likely "nothing" as a count."""
    if choices:
        return "choice"
    if _SPAN_RE.search(text) and len(_DIGITS_RE.findall(text)) == 2:
        return "interval"
    if _BARE_NUMBER_RE.fullmatch(text) or text.strip().rstrip(".").strip().lower() in COUNTING_WORDS:
        return "number"
    return "label"
