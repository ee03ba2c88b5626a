"""``ground_moment`` over real footage, without CLIP: the query's words become things the real models
perceive, and the moments are the sampled times where all of them hold.

A word (read through ``vidagent.words``: forms, synonyms; plus COCO's own aliases, ``vidagent.tools.coco``)
becomes one of:

* an **object**: a COCO class, with the color word before it if any ("the white van" -> truck, white);
* an **action** of a person ("walks", "sitting") from the keypoint rules (``vidagent.tools.pose_actions``);
* a **scene tag**: a word of an ImageNet class name ("taxi", "fountain", "streetcar");
* **text**: a quoted or upper-case word ("the sign saying 'EXIT'", "TAXI") that OCR must read, or "text",
  "sign", "words", "title" for any text at all.

Event words ("appears", "is visible", "shows up") add nothing: a moment is when the rest holds. A query with
no perceivable word raises ``ToolError`` naming the words, so the planner never reads a guess as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vidagent.errors import ToolError
from vidagent.tools.coco import CLASS_ALIASES, COCO_CLASSES
from vidagent.tools.colors import NATURAL_COLORS
from vidagent.tools.pose_actions import PERSON_ACTIONS
from vidagent.words import canonical

FILLER = frozenset(
    "the a an this that these those is are was were be being been does do did one some any in of on at to by "
    "with its their his her and or when while where what who whom which moment time first last video clip "
    "scene frame there here it they someone somebody something appear appears appeared visible seen shown "
    "show shows showing enter enters entered arrive comes come up into onto from out screen view camera "
    "picture shot can see find".split())
ANY_TEXT = frozenset({"text", "sign", "signs", "word", "words", "title", "titles", "caption", "captions",
                      "writing", "written", "letters", "label", "says", "saying", "reads", "reading"})
MOTION = {"moving": "moving", "move": "moving", "moves": "moving", "drive": "moving", "drives": "moving",
          "driving": "moving", "still": "still", "stop": "still", "stops": "still", "parked": "still"}
_QUOTED = re.compile(r"[\"'“”‘’]([^\"'“”‘’]{1,40})[\"'“”‘’]")


@dataclass
class Concept:
    kind: str  # object | action | tag | text | motion
    value: str  # class, action, tag word, text ("" = any text), motion label
    color: str | None = None
    words: tuple[str, ...] = ()  # the query words it came from
    # an object word that is also a scene-tag word ("streetcar": COCO's train, ImageNet's streetcar): either
    # model seeing it counts, since the detector misses what the tagger names and the other way round
    tag: str | None = None


@dataclass
class ParsedQuery:
    concepts: list[Concept] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _class_of(phrase: str) -> str | None:
    if phrase in COCO_CLASSES:
        return phrase
    if phrase in CLASS_ALIASES:
        return CLASS_ALIASES[phrase]
    word = canonical(phrase, COCO_CLASSES)
    if word in COCO_CLASSES:
        return word
    return CLASS_ALIASES.get(word)


def parse_query(query: str, tag_words: frozenset[str]) -> ParsedQuery:
    """The concepts of a query; ``tag_words`` are the words of the tagger's class names."""
    parsed = ParsedQuery()
    for quoted in _QUOTED.findall(query):
        parsed.concepts.append(Concept("text", quoted.strip().lower(), words=(quoted,)))
    rest = _QUOTED.sub(" ", query)
    for upper in re.findall(r"\b[A-Z0-9]{2,}\b", rest):  # "TAXI": text on screen
        parsed.concepts.append(Concept("text", upper.lower(), words=(upper,)))
        rest = rest.replace(upper, " ")
    words = re.findall(r"[a-z0-9]+", rest.lower())
    color: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        two = f"{word} {words[i + 1]}" if i + 1 < len(words) else ""
        if two and _class_of(two):  # "traffic light", "cell phone"
            parsed.concepts.append(Concept("object", _class_of(two) or "", color, (word, words[i + 1])))
            color, i = None, i + 2
            continue
        lemma = canonical(word, (*COCO_CLASSES, *PERSON_ACTIONS, *NATURAL_COLORS))
        if word in FILLER:  # before the tag words: ImageNet names hold "the", "on", "of"...
            i += 1
            continue
        if lemma in NATURAL_COLORS or word == "grey":
            color = "gray" if word == "grey" else lemma
        elif _class_of(word):
            tag = word if word in tag_words and word not in COCO_CLASSES else None
            parsed.concepts.append(Concept("object", _class_of(word) or "", color, (word,), tag))
            color = None
        elif lemma in PERSON_ACTIONS:
            parsed.concepts.append(Concept("action", lemma, words=(word,)))
        elif word in MOTION:
            parsed.concepts.append(Concept("motion", MOTION[word], words=(word,)))
        elif word in ANY_TEXT:
            if not any(c.kind == "text" for c in parsed.concepts):
                parsed.concepts.append(Concept("text", "", words=(word,)))
        elif word in tag_words or lemma in tag_words:
            parsed.concepts.append(Concept("tag", word if word in tag_words else lemma, words=(word,)))
        elif lemma not in FILLER:
            parsed.unknown.append(word)
        i += 1
    if color is not None:  # "something red": a color with no object after it
        parsed.concepts.append(Concept("object", "", color, (color,)))
    if any(c.kind == "text" and c.value for c in parsed.concepts):  # a named text replaces "any text"
        parsed.concepts = [c for c in parsed.concepts if not (c.kind == "text" and not c.value)]
    return parsed


CANNOT_PERCEIVE = "cannot perceive {words!r}: the real models see COCO objects, colors, people's actions, " \
                  "scene tags (ImageNet) and on-screen text"
CANNOT_PERCEIVE_FIX = 'describe the moment with objects, colors, actions or text, e.g. "a person walks"'


def require_concepts(query: str, parsed: ParsedQuery) -> None:
    if not parsed.concepts:
        words = parsed.unknown or query.split()
        raise ToolError(CANNOT_PERCEIVE.format(words=" ".join(words)), CANNOT_PERCEIVE_FIX)


def spans_from_scores(times: list[float], scores: list[float], step_s: float, end_s: float,
                      top_k: int) -> list[tuple[float, float, float]]:
    """Runs of sampled times scoring near the best (at least 0.5 and 75% of it) -> (start, end, score)."""
    best = max(scores, default=0.0)
    if best <= 0.0:
        return []
    threshold = max(0.5 * best, min(0.5, best), 0.75 * best)
    runs: list[list[int]] = []
    for index, score in enumerate(scores):
        if score >= threshold:
            if runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            else:
                runs.append([index])
    spans = []
    for run in runs:
        start, stop = times[run[0]], min(end_s, times[run[-1]] + step_s)
        spans.append((round(start, 2), round(stop, 2), round(sum(scores[i] for i in run) / len(run), 2)))
    spans.sort(key=lambda s: (-s[2], -(s[1] - s[0]), s[0]))
    return spans[:top_k]
