"""Open questions about a world video, answered with the default tools: what kind of thing is in it, and where
something is in the picture.

The world's own families name what they ask about ("How many dogs ...?"), so a planner trained on them
always passes a class to ``detect_objects``; asked "What animal is in the video?" it filtered on "animal"
or "object", got an error and guessed. These families make it look without a filter, or read a frame:

======= ============================================================ ===== ===================================
family  example                                                      hops  answer
======= ============================================================ ===== ===================================
object  What kind of animal appears in the video?                    1     label: the one animal class present
spatial Where in the picture is the red car at 4.0 s: left, center   1     choice: left / center / right
        or right?
======= ============================================================ ===== ===================================

The family names are those of the real-video QA set (``tasks/real_qa``), which asks the same kinds of
question. They are a separate question set (``vidagent world open``), not part of ``vidagent world
generate``, so adding them changes no world's questions; training mixes them in with ``--open-per-family``.
"""

from __future__ import annotations

import numpy as np

from vidagent.tasks.oracle import Program, call, compose, ref
from vidagent.tasks.questions import Question, Span, _Candidate, _Context, sample_questions
from vidagent.tasks.world.truth import GroundTruth
from vidagent.tools.default_tools import position_words

OPEN_FAMILIES = ("object", "spatial")
# what a question may call a group of classes, and the classes in it
KINDS: dict[str, tuple[str, ...]] = {"animal": ("dog", "bird"), "vehicle": ("car", "bicycle")}
POSITIONS = ["left", "center", "right"]
STABLE_S = 0.5  # a position is asked only if it holds this long either side of the time asked

OBJECT_TEMPLATES = ["What kind of {kind} appears in the video?", "Which {kind} can be seen in this clip?",
                    "What {kind} is in the video?", "There is one kind of {kind} in this video. Which is it?"]
SPATIAL_TEMPLATES = ["Where in the picture is {name} at {t} s: left, center or right?",
                     "At {t} seconds, is {name} on the left, in the center or on the right of the frame?",
                     "In which part of the frame is {name} at {t} s?"]


def _object(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    out: list[_Candidate] = []
    for kind, classes in KINDS.items():
        present = sorted({o.category for o in ctx.objects if o.category in classes})
        if len(present) != 1:  # none, or two kinds: no single answer
            continue
        label = present[0]
        program = Program(calls=[call("det", "detect_objects", start_s=0.0, end_s=ctx.duration)],
                          answer=compose("only_label", result=ref("det"), among=list(classes)))
        text = OBJECT_TEMPLATES[int(rng.integers(len(OBJECT_TEMPLATES)))].format(kind=kind)
        out.append(("object", 1, text, label, "label", list(classes),
                    [ctx.span_of(o) for o in ctx.by_class[label]], program))
    return out


def _horizontal(gt: GroundTruth, box: tuple) -> str:
    _, x1, y1, x2, y2, _ = box
    return position_words((x1 + x2) / 2, (y1 + y2) / 2, gt.width, gt.height).split()[-1]


def _spatial(ctx: _Context, rng: np.random.Generator) -> list[_Candidate]:
    gt, out = ctx.gt, []
    names = [o.name for o in ctx.objects]
    margin = int(STABLE_S * gt.fps)
    for obj in ctx.objects:
        if names.count(obj.name) != 1:
            continue
        boxes = obj.visible_boxes()
        frames = [b[0] for b in boxes]
        stable = [k for k in range(margin, len(boxes) - margin)
                  if frames[k + margin] - frames[k - margin] == 2 * margin  # seen in every frame around it
                  and len({_horizontal(gt, b) for b in boxes[k - margin:k + margin + 1]}) == 1]
        if not stable:
            continue
        k = stable[int(rng.integers(len(stable)))]
        t = round(frames[k] / gt.fps, 1)
        answer = _horizontal(gt, boxes[k])
        program = Program(calls=[call("frame", "describe_frame", t_s=t)],
                          answer=compose("position_of", result=ref("frame"), label=obj.category, color=obj.color))
        text = SPATIAL_TEMPLATES[int(rng.integers(len(SPATIAL_TEMPLATES)))].format(name=obj.name, t=f"{t:.1f}")
        out.append(("spatial", 1, text, answer, "choice", list(POSITIONS), [Span(start_s=t, end_s=t)], program))
    return out


GENERATORS = {"object": _object, "spatial": _spatial}


def open_questions(truths: dict[str, GroundTruth], *, per_family: int, seed: int = 0) -> list[Question]:
    """Up to ``per_family`` questions of each open family over the videos of ``truths`` (video id -> ground
    truth), at most one per video and family, in a seeded order; ids ``<video>-open-<family>``."""
    rng = np.random.default_rng([seed, 41])
    ids = sorted(truths)
    out: list[Question] = []
    for family, make in GENERATORS.items():
        made: list[Question] = []
        for video_id in [ids[int(i)] for i in rng.permutation(len(ids))]:
            if len(made) >= per_family:
                break
            picked = sample_questions(_Context(truths[video_id]), {family: make}, 1, rng)
            made += [q.model_copy(update={"id": f"{video_id}-open-{family}"}) for q in picked]
        out += made
    return out
