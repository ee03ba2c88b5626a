"""Long world videos (0.1 to 60 minutes): ordinary world scenes played back to back as one H.264 video, with
ground truth in the short videos' schema and questions about the whole video.

``vidagent world long --out DIR --minutes 1 10`` writes a directory in the format of ``world generate``
(``generate.py``): ``world.json`` (``"kind": "long"``, the lengths, the seed, each video's scenes; every
video in split ``test``), ``<video_id>.mp4``, ``<video_id>.json`` (``truth.GroundTruth``) and
``questions.jsonl``, so ``vidagent eval --world DIR --suite world:test``, the oracle row and the world-truth
tools run on it unchanged.

A long video is a sequence of scenes, each simulated by ``scene.simulate`` with its own seed (derived from
the video's) and rendered with its own background and lighting; the last scene is cut so that the video has
exactly the requested length (and the one before it, when that leaves the last one under ``MIN_TAIL_S``).
Frames are streamed into one encoder, scene after scene: memory does not grow with the length.

Ground truth: the scenes' objects get new track ids, unique over the video, and their boxes, action
segments and events are moved by the scene's start. An object never continues from one scene into the
next: two scenes' red cars are two objects (so names such as "the red car" are unique within a scene only,
and a caption may repeat over the video). ``attributes`` says which scene an object is in (``"scene"``) and
whether a cut ended its presence early (``"cut": "yes"``). ``enter`` / ``leave`` events are those of the
scenes (an object walking in or out), not the scene changes. ``background`` is the scenes' one background
or ``"mixed"``, ``lighting`` is the first scene's; every scene's values are in ``world.json``.

Questions (``long_questions``) reuse the short world's families, templates and oracle programs
(``vidagent.tasks.questions``) over the whole video: ``count`` and ``existence`` of a class (+ color) in the
whole video, ``grounding`` of a moment whose caption occurs once in the video (the needle), ``order`` of two
such moments in different scenes far apart, ``appearance`` (new: when the first / last object of a class and
color is on screen), and ``attribute``, ``action``, ``multihop`` about uniquely described objects. Objects
visible under ``MIN_SEEN_S`` or cut short by a cut are never counted nor asked about, so every answer is
unique and follows from the ground truth. Every question has an oracle program; ``appearance``'s is
``detect_objects`` over the video and ``track_span`` (the ``[first_s, last_s]`` of the first / last matching
track), and its answer is that span as the world-truth tools report it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from vidagent.errors import ConfigError
from vidagent.tasks.oracle import Program, call, compose, ref
from vidagent.tasks.questions import (
    ATTR_AT,
    ATTR_VIDEO,
    COUNT_COLOR,
    COUNT_VIDEO,
    EXIST_VIDEO,
    GENERATOR_VERSION,
    IDLE,
    Question,
    QuestionGenerator,
    Span,
    _action,
    _Candidate,
    _Context,
    _fmt,
    _grounding,
    _Moment,
    _multihop,
    _order_pairs,
    _phrase,
    _yes_no,
    sample_questions,
    save_questions,
)
from vidagent.tasks.world.config import COLORS, PLURALS, WorldConfig
from vidagent.tasks.world.generate import (
    MANIFEST,
    QUESTIONS,
    STAGING,
    UNFINISHED,
    _delete_world_files,
    _write_json,
    render_frames,
)
from vidagent.tasks.world.scene import Scene, simulate
from vidagent.tasks.world.truth import (
    ActionSegment,
    Event,
    GroundTruth,
    WorldObject,
    ground_truth,
    save_ground_truth,
)

# Bump when a change here changes what a seed produces (scenes chosen, cuts, truth, questions).
LONG_VERSION = "long-v2"  # v2: appearance answers are [first_s, last_s] of the track, with a program
MIN_MINUTES, MAX_MINUTES = 0.1, 60.0
MIN_TAIL_S = 2.0  # the last scene of a video lasts at least this long
MIN_SEEN_S = 1.0  # an object visible for less than this is not counted nor asked about
SPLIT = "test"


# ---------------------------------------------------------------------------------------------------------
# Seeds and lengths


def _hash31(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 1


def long_video_seed(seed: int, minutes: float, index: int) -> int:
    """Seed of the ``index``-th long video of ``minutes`` minutes in a run with ``seed`` (31-bit)."""
    return _hash31(f"vidagent-world-long:{seed}:{minutes:g}:{index}")


def scene_seed(video_seed: int, index: int) -> int:
    """Seed of scene ``index`` of a long video; another hash than the short world's, so that no long video
    repeats the scenes of a ``world generate`` run."""
    return _hash31(f"vidagent-world-long-scene:{video_seed}:{index}")


def long_video_id(seed: int, minutes: float, index: int) -> str:
    return f"long-{seed}-{f'{minutes:g}'.replace('.', 'p')}min-{index:02d}"


def check_minutes(minutes: Sequence[float]) -> list[float]:
    """The lengths as floats, or ``ConfigError`` saying which is wrong and what to pass."""
    fix = f"pass lengths in minutes from {MIN_MINUTES:g} to {MAX_MINUTES:g}, e.g. --minutes 1 10"
    if not minutes:
        raise ConfigError("--minutes names no length", fix)
    found: list[float] = []
    for value in minutes:
        m = float(value)
        if not math.isfinite(m) or m <= 0:
            raise ConfigError(f"--minutes must be positive, got {m:g}", fix)
        if not MIN_MINUTES <= m <= MAX_MINUTES:
            raise ConfigError(f"--minutes {m:g} is outside {MIN_MINUTES:g}-{MAX_MINUTES:g} minutes", fix)
        if any(f"{m:g}" == f"{other:g}" for other in found):
            raise ConfigError(f"--minutes names {m:g} twice",
                              "name each length once (--videos-per-length makes several of one length)")
        found.append(m)
    return found


# ---------------------------------------------------------------------------------------------------------
# One long video


@dataclass
class ScenePiece:
    """One scene of a long video, as ``world.json`` records it."""

    index: int
    seed: int
    start_frame: int
    frames: int  # in the long video
    simulated_frames: int  # more than ``frames`` when the scene was cut
    background: str
    fps: int

    def as_json(self) -> dict[str, Any]:
        return {"scene": self.index, "seed": self.seed, "start_s": round(self.start_frame / self.fps, 3),
                "end_s": round((self.start_frame + self.frames) / self.fps, 3), "frames": self.frames,
                "simulated_frames": self.simulated_frames, "cut": self.frames < self.simulated_frames,
                "background": self.background}


@dataclass
class LongVideo:
    truth: GroundTruth
    questions: list[Question]
    scenes: list[ScenePiece]
    minutes: float
    seconds: float  # wall time
    bytes: int = 0


def _frames_to_take(simulated: int, remaining: int, tail: int) -> int:
    """How many frames of a scene of ``simulated`` frames to use when ``remaining`` frames are left."""
    if simulated >= remaining:
        return remaining
    if remaining - simulated < tail:  # the next scene would be a flash: leave it ``tail`` frames
        return max(1, remaining - tail)
    return simulated


def _cut(scene: Scene, frames: int) -> Scene:
    return dataclasses.replace(scene, frames=scene.frames[:frames], num_frames=frames,
                               collisions=[c for c in scene.collisions if c[0] < frames])


class _Pieces:
    """Ground truth of a long video, assembled scene by scene."""

    def __init__(self, fps: int):
        self.fps = fps
        self.objects: list[WorldObject] = []
        self.segments: list[ActionSegment] = []
        self.events: list[Event] = []
        self.next_id = 1

    def add(self, piece: GroundTruth, start: int, scene: int, cut_ids: set[int]) -> None:
        fps, ids = self.fps, {}
        actors = {t for e in piece.events for t in e.track_ids}
        for obj in piece.objects:
            if not obj.boxes and obj.track_id not in actors:  # not in this video (it came after the cut)
                continue
            ids[obj.track_id] = self.next_id
            self.next_id += 1
            attributes = {**obj.attributes, "scene": str(scene)}
            if obj.track_id in cut_ids:
                attributes["cut"] = "yes"
            self.objects.append(WorldObject(
                track_id=ids[obj.track_id], category=obj.category, color=obj.color, attributes=attributes,
                name=obj.name, boxes=[(b[0] + start, *b[1:]) for b in obj.boxes]))
        for s in piece.segments:
            a, b = s.start_frame + start, s.end_frame + start
            self.segments.append(ActionSegment(
                track_id=ids[s.track_id], action=s.action, start_frame=a, end_frame=b,
                start_s=round(a / fps, 3), end_s=round(b / fps, 3), caption=s.caption))
        for e in piece.events:
            k = e.frame + start
            self.events.append(Event(type=e.type, track_ids=[ids[t] for t in e.track_ids], frame=k,
                                     t_s=round(k / fps, 3), caption=e.caption))


def compose_long_video(config: WorldConfig, seed: int, video_id: str, frames: int, writer: Any = None
                       ) -> tuple[GroundTruth, list[ScenePiece]]:
    """Simulate scenes until ``frames`` frames are filled; paint them into ``writer`` (anything with
    ``write(frame)``; None: no pixels) one frame at a time; return the ground truth and the scenes."""
    fps = config.fps
    tail = max(1, round(MIN_TAIL_S * fps))
    pieces, scenes = _Pieces(fps), []
    lighting, scenery = None, set()
    used = 0
    while used < frames:
        index = len(scenes)
        scene = simulate(config, scene_seed(seed, index), f"{video_id}-scene{index:03d}")
        take = _frames_to_take(scene.num_frames, frames - used, tail)
        part = _cut(scene, take) if take < scene.num_frames else scene
        cut_ids = {o.track_id for frame in scene.frames[take:] for o in frame if o.visible}
        piece = ground_truth(part, "")
        pieces.add(piece, used, index, cut_ids)
        lighting = lighting or piece.lighting
        scenery.update(piece.scenery)
        if writer is not None:
            for image in render_frames(part):
                writer.write(image)
        scenes.append(ScenePiece(index, scene.seed, used, take, scene.num_frames, scene.background, fps))
        used += take
    backgrounds = sorted({s.background for s in scenes})
    truth = GroundTruth(
        video_id=video_id, video_file=f"{video_id}.mp4", seed=seed, split=SPLIT, width=config.width,
        height=config.height, fps=fps, num_frames=frames, duration_s=round(frames / fps, 3),
        background=backgrounds[0] if len(backgrounds) == 1 else "mixed", lighting=lighting,
        scenery=sorted(scenery), objects=pieces.objects,
        segments=sorted(pieces.segments, key=lambda s: (s.start_frame, s.track_id)),
        events=sorted(pieces.events, key=lambda e: (e.frame, e.track_ids)))
    return truth, scenes


def generate_long_video(config: WorldConfig, seed: int, video_id: str, minutes: float,
                        out_dir: str | Path | None, render: bool = True) -> LongVideo:
    """One long video of ``minutes`` minutes; with ``out_dir``, its ``.mp4`` (if ``render``) and ``.json``
    are written there through ``out_dir/.partial`` (the ground truth last, so a ``.json`` in ``out_dir``
    stands for a complete video)."""
    from vidagent.tasks.world.encode import H264Writer

    start = time.perf_counter()
    frames = round(minutes * 60 * config.fps)
    size = 0
    if out_dir is None:
        truth, scenes = compose_long_video(config, seed, video_id, frames)
    else:
        out = Path(out_dir)
        staging = out / STAGING
        staging.mkdir(parents=True, exist_ok=True)
        video, truth_file = staging / f"{video_id}.mp4", staging / f"{video_id}.json"
        try:
            if render:
                with H264Writer(video, config.width, config.height, config.fps, crf=config.crf) as writer:
                    truth, scenes = compose_long_video(config, seed, video_id, frames, writer)
                size = video.stat().st_size
                os.replace(video, out / video.name)
            else:
                truth, scenes = compose_long_video(config, seed, video_id, frames)
            save_ground_truth(truth, truth_file)
            os.replace(truth_file, out / truth_file.name)
        finally:  # interrupted: no half-written file stays behind
            video.unlink(missing_ok=True)
            truth_file.unlink(missing_ok=True)
    questions = long_questions(truth, config.questions_per_video, seed)
    return LongVideo(truth, questions, scenes, minutes, time.perf_counter() - start, size)


# ---------------------------------------------------------------------------------------------------------
# Whole-video questions

COUNT_KIND = ["How many {color} {plural} appear in the video?",
              "Count the {color} {plural} that show up in this video.",
              "How many different {color} {plural} can be seen in the video?"]
APPEAR_FIRST = ["When does a {color} {cls} first appear? Give the start and end of its time on screen.",
                "Find the first {color} {cls} that appears in the video: from when to when is it visible?",
                "During which seconds is the first {color} {cls} of the video on screen?"]
APPEAR_LAST = ["When does a {color} {cls} last appear? Give the start and end of its time on screen.",
               "Find the last {color} {cls} that appears in the video: from when to when is it visible?",
               "During which seconds is the last {color} {cls} of the video on screen?"]
APPEAR_ONLY = ["When is the {color} {cls} in the video? Give the start and end of its time on screen.",
               "During which seconds is the {color} {cls} visible?",
               "From when to when can the {color} {cls} be seen in the video?"]


class _LongContext(_Context):
    """``_Context`` of a long video, plus what the long generators need: each object's scene, the objects
    not to count or ask about, and the enter / leave events with captions unique over the video."""

    def __init__(self, gt: GroundTruth):
        super().__init__(gt)
        min_frames = MIN_SEEN_S * gt.fps
        self.unclear = {o.track_id for o in gt.objects
                        if o.attributes.get("cut") == "yes" or len(o.visible_boxes()) < min_frames}
        captions = Counter(m.caption for m in self.events)
        self.unique_events = [m for m in self.events if captions[m.caption] == 1]

    def scene_of(self, track_id: int) -> str:
        return self.gt.object(track_id).attributes.get("scene", "0")

    def all_of(self, category: str | None = None, color: str | None = None) -> list[Any]:
        """Every object of the ground truth (visible or not) of this class and color."""
        return [o for o in self.gt.objects
                if (category is None or o.category == category) and (color is None or o.color == color)]

    def clear(self, objects: list[Any]) -> bool:
        return not any(o.track_id in self.unclear for o in objects)


def _detect_all(ctx: _LongContext, category: str | None) -> list:
    args: dict[str, Any] = {"start_s": 0.0, "end_s": ctx.duration}
    if category is not None:
        args["classes"] = [category]
    return [call("det", "detect_objects", **args)]


def _long_count(ctx: _LongContext, rng: np.random.Generator) -> list[_Candidate]:
    """How many (color) objects of a class, or of a color, in the whole video."""
    out: list[_Candidate] = []
    kinds = sorted({(o.category, o.color) for o in ctx.gt.objects})
    absent = [(c, col) for c in PLURALS for col in COLORS if (c, col) not in kinds]
    if absent:  # one answer 0
        kinds.append(absent[int(rng.integers(len(absent)))])
    for category, color in kinds:
        if not ctx.clear(ctx.all_of(category, color)):
            continue
        objs = [o for o in ctx.objects if o.category == category and o.color == color]
        program = Program(calls=_detect_all(ctx, category),
                          answer=compose("count_tracks", result=ref("det"), label=category, color=color))
        out.append(("count", 1, _phrase(rng, COUNT_KIND, color=color, plural=PLURALS[category]), len(objs),
                    "number", [], [ctx.span_of(o) for o in objs], program))
    for category in sorted(ctx.by_class):
        if not ctx.clear(ctx.all_of(category)):
            continue
        objs = ctx.by_class[category]
        program = Program(calls=_detect_all(ctx, category),
                          answer=compose("count_tracks", result=ref("det"), label=category))
        out.append(("count", 1, _phrase(rng, COUNT_VIDEO, plural=PLURALS[category]), len(objs), "number", [],
                    [ctx.span_of(o) for o in objs], program))
    colors = sorted({o.color for o in ctx.objects})
    if colors:
        color = colors[int(rng.integers(len(colors)))]
        if ctx.clear(ctx.all_of(color=color)):
            objs = [o for o in ctx.objects if o.color == color]
            program = Program(calls=_detect_all(ctx, None),
                              answer=compose("count_tracks", result=ref("det"), color=color))
            out.append(("count", 1, _phrase(rng, COUNT_COLOR, color=color), len(objs), "number", [],
                        [ctx.span_of(o) for o in objs], program))
    return out


def _long_existence(ctx: _LongContext, rng: np.random.Generator) -> list[_Candidate]:
    """Is there a <color> <class> anywhere in the video: two present (one, if any, in a single scene: the
    needle), two absent."""
    out: list[_Candidate] = []
    present: dict[tuple[str, str], list[Any]] = {}
    for obj in ctx.objects:
        if obj.track_id not in ctx.unclear:
            present.setdefault((obj.category, obj.color), []).append(obj)
    kinds = sorted(present)
    rare = [k for k in kinds if len({ctx.scene_of(o.track_id) for o in present[k]}) == 1]
    chosen: list[tuple[str, str]] = []
    for pool in (rare, kinds):
        pool = [k for k in pool if k not in chosen]
        if pool:
            chosen.append(pool[int(rng.integers(len(pool)))])
    anywhere = {(o.category, o.color) for o in ctx.gt.objects}
    absent = [(c, col) for c in PLURALS for col in COLORS if (c, col) not in anywhere]
    for _ in range(2):
        if absent:
            chosen.append(absent.pop(int(rng.integers(len(absent)))))
    for category, color in chosen:
        yes = (category, color) in present
        program = Program(calls=_detect_all(ctx, category),
                          answer=compose("exists", result=ref("det"), label=category, color=color))
        text = _phrase(rng, EXIST_VIDEO, color=color, cls=category)
        evidence = [ctx.span_of(o) for o in present.get((category, color), [])]
        out.append(("existence", 1, text, _yes_no(yes), "label", [], evidence, program))
    return out


def _long_attribute(ctx: _LongContext, rng: np.random.Generator) -> list[_Candidate]:
    """The color of a class that appears once in the whole video, or of the one object of a class on screen
    at some time."""
    gt, out, end = ctx.gt, [], ctx.duration
    for category in sorted(ctx.by_class):
        everyone = ctx.all_of(category)
        if len(everyone) == 1 and ctx.clear(everyone):
            program = Program(calls=_detect_all(ctx, category),
                              answer=compose("color_of", result=ref("det"), label=category))
            out.append(("attribute", 1, _phrase(rng, ATTR_VIDEO, cls=category), everyone[0].color, "label",
                        [], [ctx.span_of(everyone[0])], program))
    classes = sorted(ctx.by_class)
    for _ in range(6):
        category = classes[int(rng.integers(len(classes)))]
        t = round(float(rng.uniform(0.5, end - 0.5)), 1)
        ids = ctx.stable(gt.frames_in(max(0.0, t - 0.4), min(end, t + 0.5)), category)
        if ids is None or len(ids) != 1 or ids & ctx.unclear:
            continue
        program = Program(calls=[call("frame", "describe_frame", t_s=t)],
                          answer=compose("color_of", result=ref("frame"), label=category))
        color = gt.object(next(iter(ids))).color
        out.append(("attribute", 1, _phrase(rng, ATTR_AT, cls=category, t=_fmt(t)), color, "label", [],
                    [Span(start_s=t, end_s=t)], program))
    return out


def _long_order(ctx: _LongContext, rng: np.random.Generator) -> list[_Candidate]:
    """Order of two moments with unique captions, in different scenes and far apart."""
    pool: list[_Moment] = [m for m in ctx.moments if m.kind not in IDLE] + ctx.unique_events
    far = min(60.0, ctx.duration / 4)

    def apart(a: _Moment, b: _Moment) -> bool:
        return ctx.scene_of(a.track_id) != ctx.scene_of(b.track_id) and abs(a.start_s - b.start_s) >= far

    return _order_pairs(pool, rng, 40, apart)


def _appearance(ctx: _LongContext, rng: np.random.Generator) -> list[_Candidate]:
    """When the first / last object of a class and color is on screen: ``[first_s, last_s]`` of its visible
    frames, which is what detect_objects over the whole video reports for its track and what the program's
    ``track_span`` step returns (first: earliest first frame; last: latest last frame). Asked only when the
    answer is unique: no other object of the kind starts (first) or ends (last) with it with another span,
    and the last one seen is also the last to appear (a later start and a latest end are two objects)."""
    out: list[_Candidate] = []
    fps = ctx.gt.fps
    kinds: dict[tuple[str, str], list[tuple[int, int, Any]]] = {}
    for obj in ctx.gt.objects:
        frames = [b[0] for b in obj.visible_boxes()]
        if frames:  # what the detector sees
            kinds.setdefault((obj.category, obj.color), []).append((frames[0], frames[-1], obj))
    for (category, color), seen in sorted(kinds.items()):
        first = min(seen, key=lambda s: (s[0], s[1]))
        last = max(seen, key=lambda s: (s[1], s[0]))
        firsts = {(a, b) for a, b, _ in seen if a == first[0]}
        lasts = {(a, b) for a, b, _ in seen if b == last[1]}
        if len(seen) == 1:
            asks = [(first, "first", APPEAR_ONLY)]
        else:
            asks = []
            if len(firsts) == 1:
                asks.append((first, "first", APPEAR_FIRST))
            latest = max(a for a, _, _ in seen)
            if len(lasts) == 1 and {(a, b) for a, b, _ in seen if a == latest} == lasts:
                asks.append((last, "last", APPEAR_LAST))
        for (a, b, obj), which, templates in asks:
            tied = [o for x, y, o in seen if (x, y) == (a, b)]
            if not ctx.clear(tied):
                continue
            program = Program(calls=_detect_all(ctx, category),
                              answer=compose("track_span", result=ref("det"), label=category, color=color,
                                             which=which))
            out.append(("appearance", 1, _phrase(rng, templates, color=color, cls=category),
                        [round(a / fps, 3), round(b / fps, 3)], "interval", [], [ctx.span_of(obj)], program))
    return out


LONG_GENERATORS: dict[str, QuestionGenerator] = {
    "count": _long_count, "existence": _long_existence, "grounding": _grounding, "order": _long_order,
    "appearance": _appearance, "attribute": _long_attribute, "action": _action, "multihop": _multihop,
}


def long_questions(gt: GroundTruth, count: int, seed: int) -> list[Question]:
    """Up to ``count`` whole-video questions about a long video, balanced over ``LONG_GENERATORS``'
    families, deterministic in ``seed``."""
    return sample_questions(_LongContext(gt), LONG_GENERATORS, count, np.random.default_rng([seed, 17]))


# ---------------------------------------------------------------------------------------------------------
# A directory of long videos


@dataclass
class LongSummary:
    out: Path
    videos: list[LongVideo]
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """What ``vidagent world long --json`` prints."""
        questions = [q for v in self.videos for q in v.questions]
        return {"directory": str(self.out), "kind": "long", "videos": len(self.videos),
                "frames": sum(v.truth.num_frames for v in self.videos),
                "duration_s": round(sum(v.truth.duration_s for v in self.videos), 3),
                "questions": len(questions),
                "families": dict(sorted(Counter(q.family for q in questions).items())),
                "seconds": round(self.seconds, 3), "bytes": sum(v.bytes for v in self.videos),
                "generator_version": GENERATOR_VERSION, "long_version": LONG_VERSION,
                "splits": {SPLIT: sorted(v.truth.video_id for v in self.videos)}}


def generate_long_world(out: str | Path, minutes: Sequence[float], seed: int = 0, videos_per_length: int = 2,
                        questions_per_video: int = 12, config: WorldConfig | None = None,
                        overwrite: bool = False, render: bool = True, progress: bool = True) -> LongSummary:
    """Write ``videos_per_length`` long videos of each length in ``minutes`` into the folder ``out`` (new or
    empty; ``overwrite`` deletes its world files first), then ``questions.jsonl`` and, last, ``world.json``.
    With ``progress``, one line per video on stderr."""
    lengths = check_minutes(minutes)
    if videos_per_length < 1:
        raise ConfigError(f"--videos-per-length must be at least 1, got {videos_per_length}",
                          "pass e.g. --videos-per-length 2")
    if questions_per_video < 0:
        raise ConfigError(f"--questions-per-video cannot be negative, got {questions_per_video}",
                          "pass e.g. --questions-per-video 12")
    fields = (config or WorldConfig()).model_dump()
    config = WorldConfig(**{**fields, "questions_per_video": questions_per_video})
    out = Path(out)
    _prepare(out, overwrite)
    jobs = [(m, i) for m in lengths for i in range(videos_per_length)]
    run = {"kind": "long", "long_version": LONG_VERSION, "seed": seed, "minutes": [float(m) for m in lengths],
           "videos_per_length": videos_per_length, "videos": len(jobs),
           "questions_per_video": questions_per_video, "config": json.loads(config.model_dump_json())}
    _write_json(out / UNFINISHED, {"format": "vidagent-world", "version": 1, **run})
    start = time.perf_counter()
    results: list[LongVideo] = []
    for number, (m, index) in enumerate(jobs, 1):
        video_id = long_video_id(seed, m, index)
        result = generate_long_video(config, long_video_seed(seed, m, index), video_id, m, out, render)
        results.append(result)
        if progress:
            print(f"world long: {number}/{len(jobs)} {video_id}: {result.truth.duration_s / 60:.2f} min, "
                  f"{len(result.scenes)} scenes, {result.truth.num_frames} frames, {len(result.questions)} "
                  f"questions, {result.seconds:.1f} s", file=sys.stderr, flush=True)
    results.sort(key=lambda r: r.truth.video_id)
    save_questions([q for r in results for q in r.questions], out / QUESTIONS)
    videos = {r.truth.video_id: {"minutes": r.minutes, "duration_s": r.truth.duration_s,
                                 "frames": r.truth.num_frames, "seed": r.truth.seed,
                                 "scenes": [s.as_json() for s in r.scenes]} for r in results}
    manifest = {"format": "vidagent-world", "version": 1, "generator_version": GENERATOR_VERSION, **run,
                "long_videos": videos,
                "splits": {"train": [], "val": [], SPLIT: sorted(videos)}}
    _write_json(out / MANIFEST, manifest)
    (out / UNFINISHED).unlink()
    shutil.rmtree(out / STAGING, ignore_errors=True)
    return LongSummary(out, results, time.perf_counter() - start)


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file", "pass a folder, new or empty")
    out.mkdir(parents=True, exist_ok=True)
    entries = sorted(path.name for path in out.iterdir())
    if not entries:
        return
    if overwrite:
        _delete_world_files(out, entries)
        return
    state = ("an unfinished world (an interrupted run)" if (out / UNFINISHED).is_file() and not
             (out / MANIFEST).is_file() else "a world" if (out / MANIFEST).is_file() else
             f"{len(entries)} entries ({', '.join(entries[:3])}{', ...' if len(entries) > 3 else ''})")
    raise ConfigError(f"--out {out} is not empty: it holds {state}",
                      "use a new --out, or pass --overwrite to delete its world files (*.mp4, *.json) first")
