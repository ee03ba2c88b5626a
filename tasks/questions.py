"""Questions: the schema shared by the world and the real benchmarks, and the world's question generators.

Every world question is derived from a video's ground truth and carries its gold answer, the evidence
(time spans) and an oracle program (``vidagent.tasks.oracle``). Families (``WORLD_FAMILIES``):

=========== ===================================================== ===== ==============================
family      example                                               hops  answer type
=========== ===================================================== ===== ==============================
count       How many people appear in the video?                  1     number (or choice)
existence   Is there a green dog in the video?                    1     label yes/no (or choice)
attribute   What color is the car?                                1     label color (or choice)
action      What is the red person doing between 2.0 and 4.0 s?   2     label action (or choice)
grounding   When does the blue car stop?                          1     interval [start_s, end_s]
order       Does the dog jump before the red car stops?           2     label yes/no, or choice
multihop    How many people are visible when the dog jumps?       2-3   number / label / choice
=========== ===================================================== ===== ==============================

Each family has several phrasings so that a planner cannot key on one template. Long world videos
(``vidagent.tasks.world.long``) reuse these families and templates over whole videos and add
``appearance`` (when a class+color is first / last seen).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from vidagent.errors import ConfigError
from vidagent.tasks.oracle import Program, call, compose, ref
from vidagent.tasks.world.config import CLASS_ACTIONS, COLORS, PLURALS

AnswerType = Literal["number", "choice", "interval", "label"]
WORLD_FAMILIES = ("count", "existence", "attribute", "action", "grounding", "order", "multihop")
# Families only long world videos have (``vidagent.tasks.world.long``): "When is a green person first seen?"
LONG_FAMILIES = ("appearance",)
# Families that real benchmarks add (NExT-QA causal/temporal/descriptive, ActivityNet-QA answer types;
# "text": words shown on screen, in tasks/real_qa).
BENCHMARK_FAMILIES = ("causal", "temporal", "descriptive", "spatial", "object", "location", "yesno", "text",
                      "other")
# Questions that only a user-style tool answers (``vidagent.tasks.world.novel_tools``): "Which way does the
# blue car travel?"; ``meta["tool"]`` names the tool.
TOOL_FAMILIES = ("tool",)
FAMILIES = WORLD_FAMILIES + LONG_FAMILIES + BENCHMARK_FAMILIES + TOOL_FAMILIES
CHOICE_LETTERS = "ABCDEFGH"

# The version of the world generator: scene simulation, rendering, ground truth and the question generators
# below. Bump it whenever a change to generation changes what a seed produces (scenes, pixels, ground truth,
# questions, answers, ids): worlds and eval rows record it, so results made from different generators are
# never put side by side under the same question ids. Worlds written before the stamp existed carry none and
# load as ``UNVERSIONED`` (they may come from any earlier generator, e.g. before the count templates changed).
GENERATOR_VERSION = "world-v2"
UNVERSIONED = "unversioned"


class Span(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_s: float
    end_s: float


class Question(BaseModel):
    """One question about one video, with a verifiable answer."""

    model_config = ConfigDict(extra="forbid")

    id: str
    video: str = Field(description="video id (world: file stem of <video>.mp4)")
    video_file: str | None = Field(None, description="video path, relative to the questions file or absolute")
    source: str = Field("world", description="world | nextqa | charades-sta | activitynet-qa")
    family: str
    hops: int = Field(1, ge=1, description="tool calls the oracle program makes (1 for real benchmarks)")
    text: str
    answer: int | float | str | list[float] = Field(description="number, label / choice text, or [start_s, end_s]")
    answer_type: AnswerType
    choices: list[str] = Field(default_factory=list)
    evidence: list[Span] = Field(default_factory=list)
    program: Program | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    generator_version: str | None = Field(
        None, description="GENERATOR_VERSION of the world generator that made it; None for benchmark "
                          "questions and world questions from before the stamp")

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; fix: use one of {list(FAMILIES)}")
        kind = self.answer_type
        if kind == "interval":
            if not (isinstance(self.answer, list) and len(self.answer) == 2 and self.answer[0] <= self.answer[1]):
                raise ValueError(f"interval answer must be [start_s, end_s] with start <= end, got {self.answer!r}")
        elif kind == "number":
            if isinstance(self.answer, str | list):
                raise ValueError(f"number answer must be a number, got {self.answer!r}")
        elif isinstance(self.answer, list):
            raise ValueError(f"{kind} answer must be text, got {self.answer!r}")
        if kind == "choice":
            if len(self.choices) < 2 or str(self.answer) not in self.choices:
                raise ValueError(f"choice answer {self.answer!r} must be one of at least two choices {self.choices}")
        elif self.choices:
            raise ValueError(f"choices given for a {kind} question; fix: set answer_type='choice'")
        return self

    def prompt(self) -> str:
        """The question as shown to a model: text, then lettered choices if any."""
        if not self.choices:
            return self.text
        lines = [self.text] + [f"{CHOICE_LETTERS[i]}. {c}" for i, c in enumerate(self.choices)]
        return "\n".join(lines)


def save_questions(questions: Iterable[Question], path: str | Path) -> Path:
    path = Path(path)
    with path.open("w", encoding="utf-8") as handle:
        for q in questions:
            handle.write(q.model_dump_json(exclude_none=True) + "\n")
    return path


def load_questions(path: str | Path) -> list[Question]:
    """Read a questions JSONL file; a bad line raises ``ConfigError`` naming the line and field."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"questions file {path} does not exist", "pass the questions.jsonl of a world directory")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            questions.append(Question.model_validate_json(line))
        except ValidationError as error:
            fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'question'}: {e['msg']}"
                               for e in error.errors()[:3])
            raise ConfigError(f"{path}:{number} is not a valid question: {fields}",
                              "regenerate the file or fix that line (schema in docs/world.md)") from None
    return questions


# ---------------------------------------------------------------------------------------------------------
# Text helpers

BASE_VERBS = {"walk": "walk", "run": "run", "jump": "jump", "fall": "fall", "lie": "lie on the ground",
              "stand": "stand still", "wave": "wave", "drive": "drive", "ride": "roll along", "stop": "stop",
              "still": "stay still", "roll": "roll", "bounce": "bounce", "slide": "slide", "fly": "fly",
              "enter": "enter", "leave": "leave"}
IDLE = {"stand", "still", "lie"}


def _fmt(t: float) -> str:
    return f"{t:.1f}"


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


class _Moment:
    """A uniquely captioned moment (segment or event) usable in grounding / order / multi-hop questions."""

    def __init__(self, track_id: int, kind: str, start_frame: int, end_frame: int, fps: int, caption: str,
                 base: str):
        self.track_id, self.kind = track_id, kind
        self.start_frame, self.end_frame = start_frame, end_frame
        self.start_s, self.end_s = start_frame / fps, end_frame / fps
        self.caption, self.base = caption, base  # "the red car stops" / "the red car stop"


class _Context:
    """Precomputed facts about one video that all generators use."""

    def __init__(self, gt: Any):
        self.gt = gt
        self.duration = gt.duration_s
        self.objects = [o for o in gt.objects if o.visible_boxes()]
        self.by_class: dict[str, list[Any]] = {}
        for obj in self.objects:
            self.by_class.setdefault(obj.category, []).append(obj)
        names = {o.track_id: o.name for o in gt.objects}
        counts: dict[str, int] = {}
        for s in gt.segments:
            counts[s.caption] = counts.get(s.caption, 0) + 1
        self.moments: list[_Moment] = []
        for s in gt.segments:
            if counts[s.caption] == 1 and s.end_frame - s.start_frame >= max(2, int(0.8 * gt.fps)):
                self.moments.append(_Moment(s.track_id, s.action, s.start_frame, s.end_frame, gt.fps, s.caption,
                                            f"{names[s.track_id]} {BASE_VERBS[s.action]}"))
        self.events: list[_Moment] = []
        for e in gt.events:
            if e.type in ("enter", "leave"):
                tid = e.track_ids[0]
                self.events.append(_Moment(tid, e.type, e.frame, e.frame + 1, gt.fps, e.caption,
                                           f"{names[tid]} {BASE_VERBS[e.type]}"))

    def span_of(self, obj: Any) -> Span:
        boxes = obj.visible_boxes()
        return Span(start_s=boxes[0][0] / self.gt.fps, end_s=(boxes[-1][0] + 1) / self.gt.fps)

    def visible_ids(self, frames: range, category: str | None = None) -> list[set[int]]:
        """Per frame, ids of visible objects (of ``category``)."""
        return [{tid for tid in self.gt.visible_at(k) if category is None or self.gt.object(tid).category == category}
                for k in frames]

    def stable(self, frames: range, category: str | None = None) -> set[int] | None:
        """The set of visible objects if it is the same in every frame of ``frames``, else None."""
        sets = self.visible_ids(frames, category)
        return sets[0] if sets and all(s == sets[0] for s in sets) else None


_Candidate = tuple[str, int, str, Any, str, list[str], list[Span], Program]
# (family, hops, text, answer, answer_type, choices, evidence, program)


def _number_choices(rng: np.random.Generator, answer: int) -> list[str]:
    options = {answer}
    while len(options) < 4:
        options.add(max(0, answer + int(rng.integers(-2, 4))))
    return [str(v) for v in sorted(options)]


def _label_choices(rng: np.random.Generator, answer: str, pool: Iterable[str], k: int = 4) -> list[str]:
    others = [p for p in dict.fromkeys(pool) if p != answer]
    rng.shuffle(others)
    choices = [answer] + others[: k - 1]
    rng.shuffle(choices)
    return choices


def _phrase(rng: np.random.Generator, templates: list[str], **fields: str) -> str:
    return templates[int(rng.integers(len(templates)))].format(**fields)


# ---------------------------------------------------------------------------------------------------------
# Families. Each returns candidates; ``generate_questions`` samples among them.

COUNT_VIDEO = ["How many {plural} appear in the video?", "Count the {plural} that show up in this video.",
               "How many different {plural} can be seen in the video?", "What is the number of {plural} in the clip?"]
COUNT_COLOR = ["How many {color} objects appear in the video?", "Count the {color} things in this video."]
COUNT_AT = ["How many {plural} are visible at {t} s?", "At {t} seconds, how many {plural} can you see?",
            "Count the {plural} on screen at {t} s."]
COUNT_ALL = ["How many objects appear in the video in total?", "Count all the objects that show up in the video.",
             "How many different things (people, animals, vehicles, objects) appear in the clip?"]
COUNT_ALL_AT = ["How many objects are visible at {t} s?", "At {t} seconds, how many things are on screen?"]


def _count(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    gt, out = ctx.gt, []
    end = ctx.duration
    for category in sorted({o.category for o in gt.objects} | {str(rng.choice(list(PLURALS)))}):
        objs = ctx.by_class.get(category, [])
        program = Program(calls=[call("det", "detect_objects", start_s=0.0, end_s=end, classes=[category])],
                          answer=compose("count_tracks", result=ref("det"), label=category))
        text = _phrase(rng, COUNT_VIDEO, plural=PLURALS[category])
        out.append(("count", 1, text, len(objs), "number", [], [ctx.span_of(o) for o in objs], program))
    colors = sorted({o.color for o in ctx.objects})
    if colors:
        color = str(rng.choice(colors))
        objs = [o for o in ctx.objects if o.color == color]
        program = Program(calls=[call("det", "detect_objects", start_s=0.0, end_s=end)],
                          answer=compose("count_tracks", result=ref("det"), color=color))
        out.append(("count", 1, _phrase(rng, COUNT_COLOR, color=color), len(objs), "number", [],
                    [ctx.span_of(o) for o in objs], program))
    program = Program(calls=[call("det", "detect_objects", start_s=0.0, end_s=end)],
                      answer=compose("count_tracks", result=ref("det")))
    out.append(("count", 1, _phrase(rng, COUNT_ALL), len(ctx.objects), "number", [],
                [ctx.span_of(o) for o in ctx.objects], program))
    for _ in range(2):
        t = round(float(rng.uniform(0.5, end - 0.5)), 1)
        ids = ctx.stable(gt.frames_in(max(0.0, t - 0.4), min(end, t + 0.5)))
        if ids is not None:
            program = Program(calls=[call("frame", "describe_frame", t_s=t)],
                              answer=compose("count_tracks", result=ref("frame")))
            out.append(("count", 1, _phrase(rng, COUNT_ALL_AT, t=_fmt(t)), len(ids), "number", [],
                        [Span(start_s=t, end_s=t)], program))
            break
    for _ in range(3):
        t = round(float(rng.uniform(0.5, end - 0.5)), 1)
        category = str(rng.choice(list(ctx.by_class) or ["person"]))
        near = gt.frames_in(max(0.0, t - 0.4), min(end, t + 0.5))
        ids = ctx.stable(near, category)
        if ids is None:
            continue
        program = Program(calls=[call("frame", "describe_frame", t_s=t)],
                          answer=compose("count_tracks", result=ref("frame"), label=category))
        out.append(("count", 1, _phrase(rng, COUNT_AT, plural=PLURALS[category], t=_fmt(t)), len(ids), "number",
                    [], [Span(start_s=t, end_s=t)], program))
    return out


EXIST_VIDEO = ["Is there a {color} {cls} in the video?", "Does a {color} {cls} appear at any point?",
               "Can you see a {color} {cls} in this clip?", "Is a {color} {cls} shown in the video?"]
EXIST_AT = ["Is any {cls} visible at {t} s?", "At {t} seconds, is there a {cls} on screen?",
            "Can a {cls} be seen at {t} s?"]


def _existence(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    gt, out, end = ctx.gt, [], ctx.duration
    present = {(o.category, o.color) for o in ctx.objects}
    for positive in (True, False):
        if positive and ctx.objects:
            obj = ctx.objects[int(rng.integers(len(ctx.objects)))]
            category, color, evidence = obj.category, obj.color, [ctx.span_of(obj)]
        else:
            for _ in range(20):
                category, color = str(rng.choice(list(PLURALS))), str(rng.choice(list(COLORS)))
                if (category, color) not in present:
                    break
            evidence = []
        program = Program(calls=[call("det", "detect_objects", start_s=0.0, end_s=end, classes=[category])],
                          answer=compose("exists", result=ref("det"), label=category, color=color))
        out.append(("existence", 1, _phrase(rng, EXIST_VIDEO, color=color, cls=category),
                    _yes_no((category, color) in present), "label", [], evidence, program))
    for _ in range(2):
        t = round(float(rng.uniform(0.5, end - 0.5)), 1)
        category = str(rng.choice(list(ctx.by_class) + list(PLURALS)))
        ids = ctx.stable(gt.frames_in(max(0.0, t - 0.4), min(end, t + 0.5)), category)
        if ids is None:
            continue
        program = Program(calls=[call("frame", "describe_frame", t_s=t)],
                          answer=compose("exists", result=ref("frame"), label=category))
        out.append(("existence", 1, _phrase(rng, EXIST_AT, cls=category, t=_fmt(t)), _yes_no(bool(ids)), "label",
                    [], [Span(start_s=t, end_s=t)], program))
    return out


ATTR_VIDEO = ["What color is the {cls}?", "What is the color of the {cls} in the video?",
              "Which color does the {cls} have?", "Tell me the color of the {cls}."]
ATTR_AT = ["What color is the {cls} visible at {t} s?", "At {t} seconds, what color is the {cls} on screen?"]


def _attribute(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    gt, out, end = ctx.gt, [], ctx.duration
    for category, objs in ctx.by_class.items():
        if len(objs) == 1:
            program = Program(calls=[call("det", "detect_objects", start_s=0.0, end_s=end, classes=[category])],
                              answer=compose("color_of", result=ref("det"), label=category))
            out.append(("attribute", 1, _phrase(rng, ATTR_VIDEO, cls=category), objs[0].color, "label", [],
                        [ctx.span_of(objs[0])], program))
        else:
            for _ in range(3):
                t = round(float(rng.uniform(0.5, end - 0.5)), 1)
                ids = ctx.stable(gt.frames_in(max(0.0, t - 0.4), min(end, t + 0.5)), category)
                if ids is None or len(ids) != 1:
                    continue
                program = Program(calls=[call("frame", "describe_frame", t_s=t)],
                                  answer=compose("color_of", result=ref("frame"), label=category))
                out.append(("attribute", 1, _phrase(rng, ATTR_AT, cls=category, t=_fmt(t)),
                            gt.object(next(iter(ids))).color, "label", [], [Span(start_s=t, end_s=t)], program))
                break
    return out


ACTION_WINDOW = ["What is {name} doing between {a} and {b} s?", "What does {name} do from {a} s to {b} s?",
                 "Which action does {name} perform during {a}-{b} s?", "Describe the action of {name} in {a}-{b} s."]


def _window(seg: Any, fps: int) -> tuple[float, float] | None:
    """A window inside the segment (0.1 s margins), at least 0.5 s long, on the 0.1 s grid."""
    a = round(seg.start_frame / fps + 0.1, 1)
    b = round(seg.end_frame / fps - 0.1, 1)
    return (a, b) if b - a >= 0.5 else None


def _action_program(category: str, color: str, a: float | dict, b: float | dict, prefix: list) -> Program:
    calls = prefix + [call("det", "detect_objects", start_s=a, end_s=b, classes=[category]),
                      call("act", "recognize_action", start_s=a, end_s=b,
                           track_id=ref(f"det.tracks[color={color}].track_id"))]
    return Program(calls=calls, answer=compose("top_action", result=ref("act")))


def _track_visible(ctx: _Context, track_id: int, frames: range) -> bool:
    return any(track_id in ctx.gt.visible_at(k) for k in frames)


def _action(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    gt, out = ctx.gt, []
    for seg in gt.segments:
        window = _window(seg, gt.fps)
        if window is None or (seg.action in IDLE and rng.random() < 0.6):
            continue
        a, b = window
        obj = gt.object(seg.track_id)
        frames = gt.frames_in(a, b)
        if not _track_visible(ctx, seg.track_id, frames):
            continue
        program = _action_program(obj.category, obj.color, a, b, [])
        text = _phrase(rng, ACTION_WINDOW, name=obj.name, a=_fmt(a), b=_fmt(b))
        choices = _label_choices(rng, seg.action, list(CLASS_ACTIONS[obj.category]) + ["walk", "run", "jump"])
        out.append(("action", 2, text, seg.action, "label", choices, [Span(start_s=a, end_s=b)], program))
    return out


GROUND = ["When does {base}?", "Find the moment when {caption}.", "During which seconds does {base}?",
          "Locate the interval in which {caption}. Answer with start and end in seconds.",
          "At what time does {base}? Give the start and end."]


def _grounding(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    out = []
    for m in ctx.moments:
        if m.kind in IDLE and rng.random() < 0.7:
            continue
        program = Program(calls=[call("moment", "ground_moment", query=m.caption)],
                          answer=compose("top_span", result=ref("moment")))
        text = _phrase(rng, GROUND, base=m.base, caption=m.caption)
        out.append(("grounding", 1, text, [m.start_s, m.end_s], "interval", [], [Span(start_s=m.start_s,
                                                                                        end_s=m.end_s)], program))
    return out


ORDER_YN = ["Does {a_base} before {b_caption}?", "Is it true that {a_caption} before {b_caption}?",
            "Does {a_base} after {b_caption}?", "Is it true that {a_caption} after {b_caption}?"]
ORDER_FIRST = ["Which happens first: {a} or {b}?", "What happens earlier, {a} or {b}?",
               "Which comes first in the video: {a}, or {b}?"]


def _order(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    pool = [m for m in ctx.moments if m.kind not in IDLE] + ctx.events
    return _order_pairs(pool, rng, 6, lambda a, b: a.track_id != b.track_id and abs(a.start_s - b.start_s) >= 1.0)


def _order_pairs(pool: list[_Moment], rng: np.random.Generator, tries: int,
                 apart: Callable[[_Moment, _Moment], bool]) -> list[_Candidate]:
    """Order candidates from ``tries`` random pairs of ``pool`` (moments with unique captions); a pair is
    asked about only when ``apart(a, b)``."""
    out = []
    for _ in range(tries):
        if len(pool) < 2:
            break
        i, j = rng.choice(len(pool), 2, replace=False)
        a, b = pool[int(i)], pool[int(j)]
        if not apart(a, b):
            continue
        calls = [call("a", "ground_moment", query=a.caption), call("b", "ground_moment", query=b.caption)]
        evidence = [Span(start_s=m.start_s, end_s=m.end_s) for m in (a, b)]
        if rng.random() < 0.6:
            template = ORDER_YN[int(rng.integers(len(ORDER_YN)))]
            after = " after " in template
            op = "is_after" if after else "is_before"
            truth = a.start_s > b.start_s if after else a.start_s < b.start_s
            text = template.format(a_base=a.base, a_caption=a.caption, b_caption=b.caption)
            program = Program(calls=calls, answer=compose(op, a=ref("a"), b=ref("b")))
            out.append(("order", 2, text, _yes_no(truth), "label", [], evidence, program))
        else:
            options = [a.caption, b.caption]
            first = options[0] if a.start_s <= b.start_s else options[1]
            text = _phrase(rng, ORDER_FIRST, a=a.caption, b=b.caption)
            program = Program(calls=calls, answer=compose("first_of", a=ref("a"), b=ref("b"), options=options))
            out.append(("order", 2, text, first, "choice", list(options), evidence, program))
    return out


MH_COUNT = ["How many {plural} are visible when {caption}?", "When {caption}, how many {plural} can be seen?",
            "Count the {plural} on screen while {caption}."]
MH_ACTION = ["What is {name} doing when {caption}?", "While {caption}, what does {name} do?"]
MH_COLOR = ["What color is the {cls} that is visible when {caption}?",
            "When {caption}, what color is the {cls} on screen?"]
MH_EXIST = ["Is any {cls} visible when {caption}?", "When {caption}, can you see a {cls}?"]


def _multihop(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    gt, out = ctx.gt, []
    moments = [m for m in ctx.moments if m.kind not in IDLE]
    rng.shuffle(moments)
    for m in moments[:6]:
        frames = range(m.start_frame, m.end_frame)
        ground = call("moment", "ground_moment", query=m.caption)
        start, end = ref("moment.spans.0.start_s"), ref("moment.spans.0.end_s")
        evidence = [Span(start_s=m.start_s, end_s=m.end_s)]
        category = str(rng.choice(list(PLURALS) if rng.random() < 0.2 else list(ctx.by_class)))
        ids = ctx.stable(frames, category)
        if ids is not None:
            program = Program(calls=[ground, call("det", "detect_objects", start_s=start, end_s=end,
                                                  classes=[category])],
                              answer=compose("count_tracks", result=ref("det"), label=category))
            out.append(("multihop", 2, _phrase(rng, MH_COUNT, plural=PLURALS[category], caption=m.caption),
                        len(ids), "number", [], evidence, program))
            program = Program(calls=[ground, call("det", "detect_objects", start_s=start, end_s=end,
                                                  classes=[category])],
                              answer=compose("exists", result=ref("det"), label=category))
            out.append(("multihop", 2, _phrase(rng, MH_EXIST, cls=category, caption=m.caption), _yes_no(bool(ids)),
                        "label", [], evidence, program))
            if len(ids) == 1:
                program = Program(calls=[ground, call("frame", "describe_frame", t_s=start)],
                                  answer=compose("color_of", result=ref("frame"), label=category))
                out.append(("multihop", 2, _phrase(rng, MH_COLOR, cls=category, caption=m.caption),
                            gt.object(next(iter(ids))).color, "label", [], evidence, program))
        for other in ctx.objects:
            if other.track_id == m.track_id:
                continue
            segs = [s for s in gt.segments_of(other.track_id)
                    if s.start_frame <= m.start_frame and s.end_frame >= m.end_frame]
            if not segs or not all(other.track_id in gt.visible_at(k) for k in frames):
                continue
            if segs[0].action in IDLE and rng.random() < 0.5:
                continue
            program = _action_program(other.category, other.color, start, end, [ground])
            choices = _label_choices(rng, segs[0].action, list(CLASS_ACTIONS[other.category]) + ["walk", "jump"])
            out.append(("multihop", 3, _phrase(rng, MH_ACTION, name=other.name, caption=m.caption),
                        segs[0].action, "label", choices, evidence, program))
            break
    return out


QuestionGenerator = Callable[[_Context, np.random.Generator], list[_Candidate]]
GENERATORS: dict[str, QuestionGenerator] = {
    "count": _count, "existence": _existence, "attribute": _attribute, "action": _action,
    "grounding": _grounding, "order": _order, "multihop": _multihop,
}
MULTIPLE_CHOICE_SHARE = 0.35


def _as_question(candidate: _Candidate, gt: Any, index: int, rng: np.random.Generator) -> Question:
    family, hops, text, answer, answer_type, choices, evidence, program = candidate
    # Label and number candidates become multiple choice at random; ``choices`` of a label candidate are
    # the options to offer in that case.
    if answer_type in ("number", "label"):
        options: list[str] = []
        if rng.random() < MULTIPLE_CHOICE_SHARE:
            if answer_type == "number":
                options = _number_choices(rng, int(answer))
            elif answer in ("yes", "no"):
                options = ["yes", "no"]
            elif answer in COLORS:
                options = _label_choices(rng, answer, list(COLORS))
            else:
                options = choices
        choices = options
        if options:
            answer_type, answer = "choice", str(answer)
    return Question(id=f"{gt.video_id}-q{index:02d}", video=gt.video_id, video_file=gt.video_file, family=family,
                    hops=hops, text=text, answer=answer, answer_type=answer_type, choices=choices,
                    evidence=evidence, program=program, generator_version=GENERATOR_VERSION)


def generate_questions(gt: Any, count: int, seed: int) -> list[Question]:
    """Up to ``count`` questions about one video, balanced over families (round robin), deterministic."""
    rng = np.random.default_rng([seed, 7])
    return sample_questions(_Context(gt), GENERATORS, count, rng)


def sample_questions(ctx: _Context, generators: dict[str, QuestionGenerator], count: int,
                     rng: np.random.Generator) -> list[Question]:
    """Up to ``count`` questions from the candidates of ``generators`` (family -> generator), round robin over
    the families in a random order, no text twice; what ``generate_questions`` does with ``GENERATORS``."""
    gt = ctx.gt
    pools = {family: make(ctx, rng) for family, make in generators.items()}
    for family, pool in pools.items():
        rng.shuffle(pool)  # type: ignore[arg-type]
        # Most classes appear once, so "1" would dominate count answers and make a strong prior: pick such
        # candidates last more often than not (``pop`` takes from the end).
        late = {id(c) for c in pool if c[4] == "number" and c[3] == 1 and rng.random() < 0.6}
        pool.sort(key=lambda c: id(c) not in late)
    chosen: list[_Candidate] = []
    texts: set[str] = set()
    order = list(generators)
    while len(chosen) < count and any(pools.values()):
        rng.shuffle(order)
        for family in order:
            while pools[family] and len(chosen) < count:
                candidate = pools[family].pop()
                if candidate[2] not in texts:
                    texts.add(candidate[2])
                    chosen.append(candidate)
                    break
    return [_as_question(c, gt, i, rng) for i, c in enumerate(chosen)]
