"""Paraphrases of world questions: the same question (answer, choices, evidence, program) in other words.

A planner trained on the generator's templates learns the templates. This module rewrites a world question
in words none of them use, from one of two disjoint **wording sets**:

- ``train``: what SFT and GRPO may see (``vidagent train sft --paraphrase-share``);
- ``heldout``: kept for validation only. Its question frames, object nouns, verb phrases, time phrases and
  hints are disjoint from ``train``'s, so its accuracy measures wording the planner never saw
  (``vidagent world paraphrase --wording heldout``, then ``vidagent eval --questions``).

How: a question's text is matched against the generator's own templates (``vidagent.tasks.questions``, and
the long videos' ``vidagent.tasks.world.long``), which gives its template group and fields (``{cls}``,
``{caption}``, ``{t}``...). The fields are paraphrased word by word from the wording's lexicon ("the red
car stops" -> "the red automobile halts"), put into one of the group's frames in that wording, and the
text gets surface noise (lower case, a dropped question mark, one swapped-letter typo in a frame word, a
style hint). Only the text changes: the oracle program still names the tools' words (``ground_moment``
gets "the red car stops"), so SFT on a paraphrase teaches the planner to turn a user's words into the
tools' words. A question that matches no template (a benchmark's) comes back unchanged, with
``meta["paraphrase"]`` unset.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vidagent.errors import ConfigError
from vidagent.tasks import questions as templates
from vidagent.tasks.questions import Question
from vidagent.tasks.world.config import PLURALS, VERBS

Wording = Literal["train", "heldout"]
WORDINGS: tuple[str, ...] = ("train", "heldout")

# ---------------------------------------------------------------------------------------------------
# The generator's template groups, read from its own lists (one source: a new template is parsed too).
# ``ORDER_YN`` mixes "before" and "after" questions, which need different frames: split by that word.


def _long_templates() -> dict[str, list[str]]:
    from vidagent.tasks.world import long  # noqa: PLC0415

    return {"count_kind": long.COUNT_KIND, "appear_first": long.APPEAR_FIRST, "appear_last": long.APPEAR_LAST,
            "appear_only": long.APPEAR_ONLY}


def template_groups() -> dict[str, list[str]]:
    """Template group -> the generator's templates of that group."""
    t = templates
    return {
        "count_video": t.COUNT_VIDEO, "count_color": t.COUNT_COLOR, "count_at": t.COUNT_AT,
        "count_all": t.COUNT_ALL, "count_all_at": t.COUNT_ALL_AT,
        "exist_video": t.EXIST_VIDEO, "exist_at": t.EXIST_AT,
        "attr_video": t.ATTR_VIDEO, "attr_at": t.ATTR_AT,
        "action_window": t.ACTION_WINDOW, "ground": t.GROUND,
        "order_before": [x for x in t.ORDER_YN if " before " in x],
        "order_after": [x for x in t.ORDER_YN if " after " in x],
        "order_first": t.ORDER_FIRST,
        "mh_count": t.MH_COUNT, "mh_action": t.MH_ACTION, "mh_color": t.MH_COLOR, "mh_exist": t.MH_EXIST,
        **_long_templates(),
    }


# Frames per group and wording. Fields: {plural} {cls} {color} {t} {a} {b} {name} {caption} {a_caption}
# {b_caption} ({base} fields of the generator are rewritten as captions). A time field is written by the
# wording's time phrase: ``{t}`` is a moment, ``{a}``/``{b}`` a span's ends, inserted as ready text.
FRAMES: dict[str, dict[str, list[str]]] = {
    "train": {
        "count_video": ["What's the total number of {plural} in this video?", "how many {plural} show up in the clip",
                        "Give me a count of the {plural} seen in the footage.",
                        "In this footage, how many {plural} are there?"],
        "count_color": ["How many things in the video are {color}?", "What number of {color} items show up?"],
        "count_at": ["How many {plural} are on screen {when}?", "{When}, what's the number of {plural} in view?"],
        "count_all": ["What's the total number of objects in this video?", "how many things show up in the clip",
                      "Count every object in the footage."],
        "count_all_at": ["How many objects are in view {when}?", "{When}, how many things are on screen?"],
        "exist_video": ["Does the footage contain a {color} {cls}?", "is a {color} {cls} anywhere in this clip",
                        "Do we ever see a {color} {cls}?"],
        "exist_at": ["Is a {cls} on screen {when}?", "{When}, do we see any {cls}?"],
        "attr_video": ["Which colour is the {cls}?", "what colour does the {cls} have", "The {cls} is what color?"],
        "attr_at": ["{When}, which colour is the {cls} in view?", "What's the colour of the {cls} on screen {when}?"],
        "action_window": ["What action does {name} carry out {span}?", "{Span}, what is {name} up to?",
                          "Tell me what {name} is doing {span}."],
        "ground": ["In which seconds {caption}?", "Give the time span in which {caption}.",
                   "when exactly {caption}", "Find the part of the video where {caption}."],
        "order_before": ["Is it true that {a_caption} earlier than {b_caption}?",
                         "Does it happen before {b_caption} that {a_caption}?"],
        "order_after": ["Is it true that {a_caption} later than {b_caption}?",
                        "Does it happen after {b_caption} that {a_caption}?"],
        "order_first": ["Which comes earlier: {a_caption}, or {b_caption}?",
                        "Of these two, which happens first: {a_caption} or {b_caption}?"],
        "mh_count": ["How many {plural} are in view at the moment {caption}?",
                     "At the moment {caption}, what's the number of {plural} on screen?"],
        "mh_action": ["What action is {name} carrying out at the moment {caption}?",
                      "At the moment {caption}, what is {name} up to?"],
        "mh_color": ["Which colour is the {cls} in view at the moment {caption}?",
                     "At the moment {caption}, the {cls} on screen is what colour?"],
        "mh_exist": ["Is a {cls} on screen at the moment {caption}?", "At the moment {caption}, do we see any {cls}?"],
        "count_kind": ["What's the number of {color} {plural} in this video?",
                       "how many {color} {plural} show up in the footage"],
        "appear_first": ["Give the time span of the first {color} {cls} on screen.",
                         "When do we first see a {color} {cls}? Start and end please."],
        "appear_last": ["Give the time span of the last {color} {cls} on screen.",
                        "When do we last see a {color} {cls}? Start and end please."],
        "appear_only": ["Give the time span in which the {color} {cls} is on screen.",
                        "During which seconds do we see the {color} {cls}?"],
    },
    "heldout": {
        "count_video": ["Tally up the {plural} that are shown.", "In total, how many {plural} does the recording contain?",
                        "number of {plural} that this recording features?"],
        "count_color": ["Tally the {color} stuff in the recording.", "How many {color}-coloured objects does it feature?"],
        "count_at": ["Tally the {plural} that are shown {when}.", "How many {plural} does the picture contain {when}?"],
        "count_all": ["Tally up all of the objects that are shown.", "In total, how many objects does the recording contain?"],
        "count_all_at": ["Tally every object shown {when}.", "How many objects does the picture contain {when}?"],
        "exist_video": ["Does the recording feature a {color} {cls} at all?", "Any {color} {cls} in the recording?",
                        "Would I spot a {color} {cls} in this recording?"],
        "exist_at": ["Would I spot a {cls} {when}?", "Any {cls} shown {when}?"],
        "attr_video": ["The {cls}: which hue is it?", "Name the hue of the {cls}.", "What hue does the {cls} have?"],
        "attr_at": ["Name the hue of the {cls} shown {when}.", "{When}, the {cls} shown has which hue?"],
        "action_window": ["{Span}, what activity is {name} engaged in?", "Name the activity of {name} {span}.",
                          "What's {name} busy with {span}?"],
        "ground": ["Pinpoint the seconds where {caption}.", "Over what stretch of time {caption}?",
                   "I need the start and end of the moment {caption}.", "timestamps for when {caption}?"],
        "order_before": ["Does {a_caption} come prior to {b_caption}? (i.e. does the first happen sooner)",
                         "True or false: {a_caption} prior to the moment {b_caption}."],
        "order_after": ["Does {a_caption} come following {b_caption}? (i.e. does the first happen later)",
                        "True or false: {a_caption} following the moment {b_caption}."],
        "order_first": ["Which of the two takes place sooner: {a_caption}, or {b_caption}?",
                        "Sooner in the recording: {a_caption} or {b_caption}?"],
        "mh_count": ["Tally the {plural} shown during the stretch where {caption}.",
                     "During the stretch where {caption}, how many {plural} does the picture contain?"],
        "mh_action": ["During the stretch where {caption}, what activity is {name} engaged in?",
                      "Name the activity of {name} during the stretch where {caption}."],
        "mh_color": ["During the stretch where {caption}, which hue does the {cls} shown have?",
                     "Name the hue of the {cls} shown during the stretch where {caption}."],
        "mh_exist": ["During the stretch where {caption}, would I spot a {cls}?",
                     "Any {cls} shown during the stretch where {caption}?"],
        "count_kind": ["Tally up the {color} {plural} that are shown.", "In total, how many {color} {plural} are featured?"],
        "appear_first": ["Pinpoint the stretch where a {color} {cls} is shown for the first time.",
                         "Earliest stretch showing a {color} {cls}: start and end?"],
        "appear_last": ["Pinpoint the stretch where a {color} {cls} is shown for the final time.",
                        "Final stretch showing a {color} {cls}: start and end?"],
        "appear_only": ["Pinpoint the stretch where the {color} {cls} is shown.",
                        "Over what stretch of time is the {color} {cls} shown?"],
    },
}

# Object nouns per wording (singular, plural); the world's own word is among them so that not every
# rewrite changes every noun.
NOUNS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "train": {
        "person": [("person", "people"), ("pedestrian", "pedestrians"), ("human", "humans")],
        "car": [("car", "cars"), ("vehicle", "vehicles"), ("automobile", "automobiles")],
        "bicycle": [("bicycle", "bicycles"), ("bike", "bikes")],
        "dog": [("dog", "dogs"), ("puppy", "puppies")],
        "ball": [("ball", "balls"), ("round ball", "round balls")],
        "bird": [("bird", "birds"), ("little bird", "little birds")],
        "box": [("box", "boxes"), ("crate", "crates")],
    },
    "heldout": {
        "person": [("individual", "individuals"), ("figure", "figures"), ("person", "persons")],
        "car": [("auto", "autos"), ("motorcar", "motorcars")],
        "bicycle": [("cycle", "cycles"), ("pushbike", "pushbikes")],
        "dog": [("hound", "hounds"), ("pup", "pups")],
        "ball": [("toy ball", "toy balls"), ("play ball", "play balls")],
        "bird": [("songbird", "songbirds"), ("feathered bird", "feathered birds")],
        "box": [("carton", "cartons"), ("package", "packages")],
    },
}

# Verb phrases per wording: the caption's verb ("stops", from ``VERBS``) -> third-person rewrites.
VERB_PHRASES: dict[str, dict[str, list[str]]] = {
    "train": {
        "walk": ["strolls", "is walking"], "run": ["sprints", "is running"], "jump": ["hops", "leaps"],
        "fall": ["falls down", "tumbles"], "lie": ["lies down", "is lying on the ground"],
        "stand": ["stands", "does not move"], "wave": ["is waving", "waves a hand"],
        "drive": ["is driving", "drives along"], "ride": ["rides along", "is ridden along"],
        "stop": ["halts", "brakes"], "still": ["is parked", "does not move"], "roll": ["is rolling"],
        "bounce": ["is bouncing", "bounces up and down"], "slide": ["is sliding", "slides along"],
        "fly": ["is flying", "flies around"], "enter": ["appears", "shows up"], "leave": ["exits", "disappears"],
        "collide": ["crashes into", "bumps into"],
    },
    "heldout": {
        "walk": ["paces along", "goes on foot"], "run": ["dashes", "races on foot"], "jump": ["springs up", "bounds"],
        "fall": ["topples over", "takes a spill"], "lie": ["is sprawled out", "rests flat"],
        "stand": ["remains upright", "waits in place"], "wave": ["gestures with an arm", "signals by waving"],
        "drive": ["cruises", "motors along"], "ride": ["coasts along", "is pedalled along"],
        "stop": ["pulls up", "comes to a standstill"], "still": ["stays put", "sits idle"],
        "roll": ["trundles along", "keeps rolling"], "bounce": ["rebounds", "keeps bouncing"],
        "slide": ["glides", "skids along"], "fly": ["soars", "takes wing"],
        "enter": ["comes into view", "turns up"], "leave": ["goes out of view", "departs"],
        "collide": ["smashes into", "runs into"],
    },
}

# How a moment ({t}) and a span ({a}, {b}) are written.
MOMENTS = {"train": ["at {t} s", "at {t} seconds", "at the {t}-second mark", "at t={t}s"],
           "heldout": ["at second {t}", "{t} sec in", "at the {t} s point"]}
SPANS = {"train": ["between {a} and {b} s", "from {a} to {b} seconds", "during {a}-{b}s"],
         "heldout": ["in the {a}-{b} sec window", "from second {a} until second {b}", "over {a}s..{b}s"]}
HINTS = {"train": ["Answer briefly.", "(one word)", "Be concise."],
         "heldout": ["Just the answer please.", "Keep it short."]}

NOISE = {"lower": 0.15, "no_mark": 0.15, "typo": 0.15, "hint": 0.2}

_VERB_OF = {phrase: action for action, phrase in VERBS.items()}
_VERB_OF.update({"hits": "collide"})
_CLASS_OF_PLURAL = {plural: cls for cls, plural in PLURALS.items()}


@dataclass(frozen=True)
class Parsed:
    group: str
    fields: dict[str, str]


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    out = []
    for part in parts:
        if re.fullmatch(r"\{\w+\}", part):
            out.append(f"(?P<{part[1:-1]}>.+?)")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")


_PATTERNS: list[tuple[str, re.Pattern[str]]] | None = None


def parse(text: str) -> Parsed | None:
    """The template group and fields of a world question's text; None when no template matches."""
    global _PATTERNS
    if _PATTERNS is None:
        _PATTERNS = [(group, _pattern(t)) for group, items in template_groups().items() for t in items]
    for group, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            return Parsed(group, match.groupdict())
    return None


# ---------------------------------------------------------------------------------------------------
# Rewriting


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _noun(cls: str, wording: str, rng: np.random.Generator, plural: bool = False) -> str:
    options = NOUNS[wording].get(cls)
    if not options:
        return PLURALS.get(cls, cls) if plural else cls
    singular, many = options[int(rng.integers(len(options)))]
    return many if plural else singular


def _name(name: str, wording: str, rng: np.random.Generator) -> str:
    """``the red car`` -> ``the red automobile``."""
    words = name.split()
    if len(words) == 3 and words[0] == "the":
        return f"the {words[1]} {_noun(words[2], wording, rng)}"
    return name


def _caption(caption: str, wording: str, rng: np.random.Generator) -> str:
    """A world caption ("the red car stops", "the red car hits the blue ball") in the wording's words."""
    match = re.match(r"^(the \w+ \w+) (.+?)(?: (the \w+ \w+))?$", caption)
    if not match:
        return caption
    subject, verb, other = match.groups()
    action = _VERB_OF.get(verb)
    if action is None:
        return caption
    phrase = _pick(rng, VERB_PHRASES[wording][action])
    text = f"{_name(subject, wording, rng)} {phrase}"
    return f"{text} {_name(other, wording, rng)}" if other else text


def _base_to_caption(base: str) -> str:
    """The generator's base-form moment ("the red car stop", "the red person lie on the ground") as its
    caption ("the red car stops")."""
    for action, verb in templates.BASE_VERBS.items():
        if base.endswith(" " + verb):
            return f"{base[: -len(verb) - 1]} {VERBS.get(action, verb)}"
    return base


def _typo(text: str, protected: Iterable[str], rng: np.random.Generator) -> str:
    """Swap two inner letters of one frame word of 5+ letters (never a field's word: the class, a color,
    a time)."""
    keep = {w.lower() for part in protected for w in re.findall(r"[A-Za-z]+", part)}
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", text) if m.group().lower() not in keep]
    if not words:
        return text
    word = words[int(rng.integers(len(words)))]
    i = word.start() + 1 + int(rng.integers(len(word.group()) - 3))
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def paraphrase_text(text: str, wording: str, rng: np.random.Generator, *, noise: bool = True) -> tuple[str, str] | None:
    """``(new text, template group)`` for a world question's text, or None when no template matches."""
    if wording not in FRAMES:
        raise ConfigError(f"unknown wording {wording!r}", f"use one of {', '.join(WORDINGS)}")
    parsed = parse(text)
    if parsed is None:
        return None
    fields = dict(parsed.fields)
    out: dict[str, str] = {}
    if "cls" in fields:
        out["cls"] = _noun(fields["cls"], wording, rng)
    if "plural" in fields:
        out["plural"] = _noun(_CLASS_OF_PLURAL.get(fields["plural"], fields["plural"]), wording, rng, plural=True)
    if "color" in fields:
        out["color"] = fields["color"]
    if "name" in fields:
        out["name"] = _name(fields["name"], wording, rng)
    for key in ("caption", "a_caption", "b_caption"):
        if key in fields:
            out[key] = _caption(fields[key], wording, rng)
    if "base" in fields:
        out["caption"] = _caption(_base_to_caption(fields["base"]), wording, rng)
    if "a_base" in fields:
        out["a_caption"] = _caption(_base_to_caption(fields["a_base"]), wording, rng)
    if "a" in parsed.fields and parsed.group not in ("order_first",):  # {a} {b}: a time span
        span = _pick(rng, SPANS[wording]).format(a=fields["a"], b=fields["b"])
        out["span"], out["Span"] = span, _cap(span)
    if parsed.group == "order_first":  # the generator's {a}/{b} there are captions
        out["a_caption"], out["b_caption"] = (_caption(fields["a"], wording, rng), _caption(fields["b"], wording, rng))
    if "t" in fields:
        when = _pick(rng, MOMENTS[wording]).format(t=fields["t"])
        out["when"], out["When"] = when, _cap(when)
    frame = _pick(rng, FRAMES[wording][parsed.group])
    rewritten = frame.format(**out)
    if not noise:
        return _cap(rewritten), parsed.group
    protected = [v for k, v in out.items() if k in ("cls", "plural", "color", "name", "when", "span")]
    protected += [out[k] for k in ("caption", "a_caption", "b_caption") if k in out]
    if rng.random() < NOISE["typo"]:
        rewritten = _typo(rewritten, protected, rng)
    if rng.random() < NOISE["hint"]:
        rewritten = f"{rewritten} {_pick(rng, HINTS[wording])}"
    if rng.random() < NOISE["no_mark"]:
        rewritten = rewritten.rstrip("?")
    rewritten = rewritten.lower() if rng.random() < NOISE["lower"] else _cap(rewritten)
    return rewritten, parsed.group


def _seed(question_id: str, wording: str, seed: int) -> list[int]:
    digest = hashlib.sha256(f"{question_id}|{wording}|{seed}".encode()).digest()
    return [int.from_bytes(digest[:8], "little"), seed]


def paraphrase(question: Question, wording: str, *, seed: int = 0, noise: bool = True) -> Question:
    """``question`` in the words of ``wording`` (same id, answer, choices, evidence and program; ``meta``
    records the wording and template group). Deterministic in (question id, wording, seed). A question no
    template matches comes back unchanged."""
    rng = np.random.default_rng(_seed(question.id, wording, seed))
    rewritten = paraphrase_text(question.text, wording, rng, noise=noise)
    if rewritten is None:
        return question
    text, group = rewritten
    meta = {**question.meta, "paraphrase": wording, "template": group, "original_text": question.text}
    return question.model_copy(update={"text": text, "meta": meta})


def paraphrase_all(questions: Iterable[Question], wording: str, *, seed: int = 0) -> list[Question]:
    return [paraphrase(q, wording, seed=seed) for q in questions]
