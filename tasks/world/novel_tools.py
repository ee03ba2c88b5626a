"""Novel tools: user-style tools answered from a world video's ground truth, with the questions only they answer.

The planner must *read* a tool's card, not remember four names. These tools are written exactly as a user
writes one (``@tool``, a Google-style docstring; ``vidagent ask ... --tool
vidagent.tasks.world.novel_tools:motion_direction`` registers one), and each comes with a question generator
over the world's ground truth whose questions the default tools cannot answer (train: speed, time on screen,
the kind of place, collisions, size, time two objects share the screen, height in the picture, the most
crowded moment, closest approach, the biggest object; held out: direction of travel, lighting, grain,
entrances, scenery). Questions never name their tool: its docstring is the only clue.

Two disjoint sets (``NOVEL_TRAIN`` / ``NOVEL_HELDOUT``): training episodes see only the first; the held-out
five measure whether a tool the planner has never seen gets called when a question needs it
(``vidagent world novel --set heldout``, then ``vidagent eval --questions ... --tool ...``).

A tool reads the ground truth written next to the video (``DIR/<video_id>.json``), so it works on any
world video under any tool profile, and says so clearly on other videos.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidagent.errors import ToolError
from vidagent.tasks.questions import Question
from vidagent.tasks.world.truth import GroundTruth, WorldObject, load_ground_truth
from vidagent.tools.base import Tool, tool
from vidagent.tools.results import TimeSpan, ToolResult
from vidagent.tools.video import VideoSession

NOVEL_FAMILY = "tool"  # the question family of novel-tool questions (``vidagent.tasks.questions.FAMILIES``)
FAST_PX_S = 30.0  # mean speed above which an object "moves fast"
DIM_GAIN, BRIGHT_GAIN = 0.9, 1.05  # lighting gain thresholds (the world draws gains in 0.8-1.15)
GRAINY_NOISE = 2.5  # per-pixel noise std from which the picture counts as grainy (the world: 1-4)
MIN_TRAVEL_PX = 60.0  # horizontal travel below which an object has no direction of travel
NEAR_PX = 40.0  # closest distance between two objects' centers under which they "come near" each other


@functools.lru_cache(maxsize=512)
def _truth_file(path: str) -> GroundTruth:
    return load_ground_truth(path)


def truth_of(video: VideoSession) -> GroundTruth:
    """The ground truth written next to a world video (``DIR/<video_id>.json``); ``ToolError`` elsewhere."""
    candidate = Path(video.ref.path).with_suffix(".json")
    if not candidate.is_file():
        raise ToolError(f"this tool reads a world video's ground truth, and {candidate.name} is not next to the "
                        "video", "use it on videos made by `vidagent world generate`")
    return _truth_file(str(candidate.resolve()))


def _object(gt: GroundTruth, object_class: str, color: str) -> WorldObject:
    cls, col = object_class.strip().lower(), color.strip().lower()
    found = [o for o in gt.objects if o.category == cls and o.color == col and o.visible_boxes()]
    if not found:
        seen = ", ".join(f"{o.color} {o.category}" for o in gt.objects if o.visible_boxes()) or "none"
        raise ToolError(f"no {col} {cls} in this video (objects: {seen})", "pass the class and color of one of them")
    return found[0]


def _seen(obj: WorldObject, fps: int) -> dict[str, Any]:
    """The evidence of a reading about one object: where it is visible, and its track."""
    boxes = obj.visible_boxes()
    return {"span": TimeSpan(boxes[0][0] / fps, (boxes[-1][0] + 1) / fps), "track_id": obj.track_id}


def _whole(video: VideoSession) -> TimeSpan:
    return TimeSpan(0.0, video.ref.duration_s)


def _centers(obj: WorldObject) -> list[tuple[int, float, float]]:
    return [(k, (x1 + x2) / 2, (y1 + y2) / 2) for k, x1, y1, x2, y2, _ in obj.visible_boxes()]


@dataclass
class Reading(ToolResult):
    """A novel tool's answer: one line of text, plus what it rests on (cited by ``ToolResult.evidence``): the
    span it measured and the object's track."""

    text: str
    span: TimeSpan | None = None
    track_id: int | None = None

    def render(self) -> str:
        return self.text


# ---------------------------------------------------------------------------------------------------
# The tools. Each docstring is what the planner reads.


@tool
def object_speed(video: VideoSession, object_class: str, color: str) -> Reading:
    """Measure how fast one object moves across the picture: its mean speed in pixels per second.

    Args:
        object_class: The object's class, e.g. "car".
        color: The object's color, e.g. "red".
    """
    gt = truth_of(video)
    obj = _object(gt, object_class, color)
    speed = _speed(obj, gt.fps)
    kind = "fast" if speed > FAST_PX_S else "slow"
    return Reading(f"the {obj.color} {obj.category} moves at {speed:.0f} px/s on average ({kind})",
                   **_seen(obj, gt.fps))


def _speed(obj: WorldObject, fps: int) -> float:
    points = _centers(obj)
    if len(points) < 2:
        return 0.0
    path = sum(float(np.hypot(b[1] - a[1], b[2] - a[2])) for a, b in zip(points, points[1:], strict=False))
    return path / max((points[-1][0] - points[0][0]) / fps, 1e-6)


@tool
def time_on_screen(video: VideoSession, object_class: str, color: str) -> Reading:
    """Say for how long an object is visible in the video, in whole seconds, and from when to when.

    Args:
        object_class: The object's class, e.g. "dog".
        color: The object's color, e.g. "brown".
    """
    gt = truth_of(video)
    obj = _object(gt, object_class, color)
    boxes = obj.visible_boxes()
    seconds = round(len(boxes) / gt.fps)
    first, last = boxes[0][0] / gt.fps, (boxes[-1][0] + 1) / gt.fps
    return Reading(f"the {obj.color} {obj.category} is visible for about {seconds} s in all "
                   f"(first {first:.1f} s, last {last:.1f} s)", TimeSpan(first, last), obj.track_id)


@tool
def scene_type(video: VideoSession) -> Reading:
    """Classify the kind of place the video shows (street, park, plaza, beach).

    Args:
    """
    return Reading(f"place: {truth_of(video).background}", _whole(video))


def _count_events(video: VideoSession, start_s: float, end_s: float, kind: str, noun: str) -> Reading:
    """The ground truth's events of ``kind`` in the span, counted and listed with their times."""
    gt = truth_of(video)
    start_s, end_s = video.ref.check_range(start_s, end_s)
    hits = [e for e in gt.events if e.type == kind and start_s <= e.t_s <= end_s]
    listed = "; ".join(f"{e.caption} at {e.t_s:.1f} s" for e in hits)
    return Reading(f"{len(hits)} {noun}{'s' if len(hits) != 1 else ''} in {TimeSpan(start_s, end_s)}"
                   + (f": {listed}" if listed else ""), TimeSpan(start_s, end_s))


@tool
def count_collisions(video: VideoSession, start_s: float, end_s: float) -> Reading:
    """Count the collisions (one object hitting another) in a time span, with when they happen.

    Args:
        start_s: Start of the span in seconds.
        end_s: End of the span in seconds.
    """
    return _count_events(video, start_s, end_s, "collide", "collision")


@tool
def object_size(video: VideoSession, object_class: str, color: str) -> Reading:
    """Estimate the physical size of an animal or thing: small, medium or large.

    Args:
        object_class: The object's class, e.g. "dog", "ball" or "box".
        color: The object's color, e.g. "white".
    """
    gt = truth_of(video)
    obj = _object(gt, object_class, color)
    size = obj.attributes.get("size")
    if size is None:
        raise ToolError(f"no size is known for the {obj.color} {obj.category}", "ask about a dog, a ball or a box")
    return Reading(f"the {obj.color} {obj.category} is {size}", **_seen(obj, gt.fps))


@tool
def motion_direction(video: VideoSession, object_class: str, color: str) -> Reading:
    """Tell which way an object travels across the picture (left or right), from where it starts and ends.

    Args:
        object_class: The object's class, e.g. "car".
        color: The object's color, e.g. "blue".
    """
    gt = truth_of(video)
    obj = _object(gt, object_class, color)
    points = _centers(obj)
    dx = points[-1][1] - points[0][1]
    way = "right" if dx > MIN_TRAVEL_PX else "left" if dx < -MIN_TRAVEL_PX else "nowhere (it stays in place)"
    return Reading(f"the {obj.color} {obj.category} travels {way} (x {points[0][1]:.0f} -> {points[-1][1]:.0f} px)",
                   **_seen(obj, gt.fps))


@tool
def lighting_level(video: VideoSession) -> Reading:
    """Rate how brightly the video is lit: dim, normal or bright.

    Args:
    """
    gain = truth_of(video).lighting.gain
    level = "dim" if gain < DIM_GAIN else "bright" if gain > BRIGHT_GAIN else "normal"
    return Reading(f"lighting: {level} (gain {gain:.2f})", _whole(video))


@tool
def picture_noise(video: VideoSession) -> Reading:
    """Measure the sensor noise (grain) of the picture and say whether the footage is grainy.

    Args:
    """
    noise = truth_of(video).lighting.noise_std
    return Reading(f"noise std {noise:.1f}: {'grainy' if noise >= GRAINY_NOISE else 'clean'}", _whole(video))


@tool
def count_entrances(video: VideoSession, start_s: float, end_s: float) -> Reading:
    """Count how many times an object comes into the picture from outside it during a time span.

    Args:
        start_s: Start of the span in seconds.
        end_s: End of the span in seconds.
    """
    return _count_events(video, start_s, end_s, "enter", "entrance")


@tool
def list_scenery(video: VideoSession) -> Reading:
    """List the fixed scenery in front of the camera (posts, trees, bushes ...), which is not tracked as objects.

    Args:
    """
    kinds = sorted(set(truth_of(video).scenery))
    return Reading(f"scenery: {', '.join(kinds) if kinds else 'none'}", _whole(video))


@tool
def time_together(video: VideoSession, first_class: str, first_color: str, second_class: str,
                  second_color: str) -> Reading:
    """Measure for how many seconds two objects are both on screen at the same time.

    Args:
        first_class: Class of the first object, e.g. "car".
        first_color: Color of the first object, e.g. "blue".
        second_class: Class of the second object, e.g. "person".
        second_color: Color of the second object, e.g. "green".
    """
    gt = truth_of(video)
    a, b = _object(gt, first_class, first_color), _object(gt, second_class, second_color)
    shared = sorted({k for k, *_ in a.visible_boxes()} & {k for k, *_ in b.visible_boxes()})
    if not shared:
        return Reading(f"the {a.color} {a.category} and the {b.color} {b.category} are never on screen "
                       "together: 0 s")
    first, last = shared[0] / gt.fps, (shared[-1] + 1) / gt.fps
    return Reading(f"both on screen for about {round(len(shared) / gt.fps)} s (from {first:.1f} s to {last:.1f} s)",
                   TimeSpan(first, last))


@tool
def vertical_position(video: VideoSession, object_class: str, color: str) -> Reading:
    """Say whether an object stays mostly in the upper or the lower half of the picture.

    Args:
        object_class: The object's class, e.g. "bird".
        color: The object's color, e.g. "black".
    """
    gt = truth_of(video)
    obj = _object(gt, object_class, color)
    mean_y = float(np.mean([p[2] for p in _centers(obj)]))
    half = "upper" if mean_y < gt.height / 2 else "lower"
    return Reading(f"the {obj.color} {obj.category} is mostly in the {half} half (mean y {mean_y:.0f} of "
                   f"{gt.height} px)", **_seen(obj, gt.fps))


@tool
def busiest_moment(video: VideoSession) -> Reading:
    """Find when the most objects are on screen at once: that number and the time span it lasts.

    Args:
    """
    gt = truth_of(video)
    start, end, most = _busiest(gt)
    return Reading(f"most objects at once: {most}, from {start:.1f} s to {end:.1f} s", TimeSpan(start, end))


def _busiest(gt: GroundTruth) -> tuple[float, float, int]:
    """The first longest run of frames with the most objects visible: (start_s, end_s, how many)."""
    counts = [len(gt.visible_at(k)) for k in range(gt.num_frames)]
    most = max(counts, default=0)
    best, run_start, best_span = 0, None, (0, 0)
    for k, n in enumerate([*counts, -1]):
        if n == most and run_start is None:
            run_start = k
        elif n != most and run_start is not None:
            if k - run_start > best:
                best, best_span = k - run_start, (run_start, k)
            run_start = None
    return best_span[0] / gt.fps, best_span[1] / gt.fps, most


@tool
def closest_approach(video: VideoSession, first_class: str, first_color: str, second_class: str,
                     second_color: str) -> Reading:
    """Measure how close two objects come to each other: the smallest distance between their centers, in
    pixels, and when.

    Args:
        first_class: Class of the first object, e.g. "person".
        first_color: Color of the first object, e.g. "red".
        second_class: Class of the second object, e.g. "dog".
        second_color: Color of the second object, e.g. "white".
    """
    gt = truth_of(video)
    a, b = _object(gt, first_class, first_color), _object(gt, second_class, second_color)
    distance, frame = _closest(a, b)
    if frame is None:
        return Reading(f"the {a.color} {a.category} and the {b.color} {b.category} are never on screen together")
    t = frame / gt.fps
    return Reading(f"closest: {distance:.0f} px at {t:.1f} s ({'near' if distance < NEAR_PX else 'far'})",
                   TimeSpan(t, t + 1 / gt.fps), None)


def _closest(a: WorldObject, b: WorldObject) -> tuple[float, int | None]:
    at_b = {k: (x, y) for k, x, y in _centers(b)}
    pairs = [(float(np.hypot(x - at_b[k][0], y - at_b[k][1])), k) for k, x, y in _centers(a) if k in at_b]
    return min(pairs) if pairs else (float("inf"), None)


@tool
def biggest_on_screen(video: VideoSession) -> Reading:
    """Find the object that looks biggest in the picture (largest mean box area), with its area.

    Args:
    """
    gt = truth_of(video)
    objs = _visible(gt)
    if not objs:
        return Reading("no objects are visible", _whole(video))
    best = max(objs, key=_area)
    return Reading(f"biggest: the {best.color} {best.category} ({_area(best):.0f} px^2 on average)",
                   **_seen(best, gt.fps))


def _area(obj: WorldObject) -> float:
    return float(np.mean([(x2 - x1) * (y2 - y1) for _, x1, y1, x2, y2, _ in obj.visible_boxes()]))


# ---------------------------------------------------------------------------------------------------
# Their questions: (text, answer, answer_type, choices, calls), calls = [(tool, args)] as the oracle writes them.

Asked = tuple[str, Any, str, list[str], list[tuple[str, dict[str, Any]]]]


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _visible(gt: GroundTruth) -> list[WorldObject]:
    return [o for o in gt.objects if o.visible_boxes()]


def _ask_speed(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    objs = [o for o in _visible(gt) if len(o.visible_boxes()) > 5]
    out: list[Asked] = []
    if len(objs) >= 2:
        a, b = (objs[int(i)] for i in rng.choice(len(objs), 2, replace=False))
        sa, sb = _speed(a, gt.fps), _speed(b, gt.fps)
        if abs(sa - sb) > 5:
            names = [f"the {a.color} {a.category}", f"the {b.color} {b.category}"]
            text = _pick(rng, ["Which moves faster: {x} or {y}?", "Who is quicker across the picture, {x} or {y}?"])
            out.append((text.format(x=names[0], y=names[1]), names[0] if sa > sb else names[1], "choice", names,
                        [("object_speed", {"object_class": o.category, "color": o.color}) for o in (a, b)]))
    for o in objs[:2]:
        text = _pick(rng, ["Does the {c} {k} move fast or slowly?", "Is the {c} {k} quick or slow?"])
        out.append((text.format(c=o.color, k=o.category), "fast" if _speed(o, gt.fps) > FAST_PX_S else "slow",
                    "choice", ["fast", "slow"], [("object_speed", {"object_class": o.category, "color": o.color})]))
    return out


def _ask_time_on_screen(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    out: list[Asked] = []
    for o in _visible(gt)[:2]:
        text = _pick(rng, ["For how many seconds is the {c} {k} visible?", "How long can the {c} {k} be seen, in seconds?"])
        out.append((text.format(c=o.color, k=o.category), round(len(o.visible_boxes()) / gt.fps), "number", [],
                    [("time_on_screen", {"object_class": o.category, "color": o.color})]))
    return out


def _ask_scene(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    text = _pick(rng, ["What kind of place does this video show?", "Where was this filmed: a street, park, plaza or beach?"])
    return [(text, gt.background, "label", [], [("scene_type", {})])]


def _ask_collisions(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    n = sum(1 for e in gt.events if e.type == "collide")
    text = _pick(rng, ["How many collisions happen in the video?", "How many times does one object hit another?"])
    return [(text, n, "number", [], [("count_collisions", {"start_s": 0.0, "end_s": gt.duration_s})])]


def _ask_size(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    out: list[Asked] = []
    for o in _visible(gt):
        if "size" in o.attributes and o.category in ("dog", "ball", "box"):
            text = _pick(rng, ["Is the {c} {k} small, medium or large?", "How big is the {c} {k}: small, medium or large?"])
            out.append((text.format(c=o.color, k=o.category), o.attributes["size"], "choice",
                        ["small", "medium", "large"], [("object_size", {"object_class": o.category, "color": o.color})]))
    return out[:2]


def _ask_direction(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    out: list[Asked] = []
    for o in _visible(gt):
        points = _centers(o)
        dx = points[-1][1] - points[0][1]
        if abs(dx) > 2 * MIN_TRAVEL_PX:
            text = _pick(rng, ["Which way does the {c} {k} travel, left or right?",
                               "Is the {c} {k} heading to the left or to the right?"])
            out.append((text.format(c=o.color, k=o.category), "right" if dx > 0 else "left", "choice",
                        ["left", "right"], [("motion_direction", {"object_class": o.category, "color": o.color})]))
    return out[:2]


def _ask_lighting(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    gain = gt.lighting.gain
    level = "dim" if gain < DIM_GAIN else "bright" if gain > BRIGHT_GAIN else "normal"
    text = _pick(rng, ["Is the video dimly, normally or brightly lit?", "How bright is the lighting: dim, normal or bright?"])
    return [(text, level, "choice", ["dim", "normal", "bright"], [("lighting_level", {})])]


def _ask_noise(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    grainy = gt.lighting.noise_std >= GRAINY_NOISE
    text = _pick(rng, ["Is the footage grainy?", "Does the picture look noisy, like grainy film?"])
    return [(text, "yes" if grainy else "no", "label", [], [("picture_noise", {})])]


def _ask_entrances(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    n = sum(1 for e in gt.events if e.type == "enter")
    text = _pick(rng, ["How many times does something come into the picture?",
                       "How many objects walk, drive or fly into view during the video?"])
    return [(text, n, "number", [], [("count_entrances", {"start_s": 0.0, "end_s": gt.duration_s})])]


def _ask_scenery(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    present = set(gt.scenery)
    kind = _pick(rng, ["post", "tree", "bush"])
    text = _pick(rng, ["Is there a {s} in front of the camera?", "Does a {s} stand in the scenery?"])
    return [(text.format(s=kind), "yes" if kind in present else "no", "label", [], [("list_scenery", {})])]


def _ask_together(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    objs = _visible(gt)
    if len(objs) < 2:
        return []
    a, b = (objs[int(i)] for i in rng.choice(len(objs), 2, replace=False))
    shared = {k for k, *_ in a.visible_boxes()} & {k for k, *_ in b.visible_boxes()}
    text = _pick(rng, ["For how many seconds are the {a} and the {b} both on screen?",
                       "How long are the {a} and the {b} visible at the same time, in seconds?"])
    return [(text.format(a=f"{a.color} {a.category}", b=f"{b.color} {b.category}"), round(len(shared) / gt.fps),
             "number", [], [("time_together", {"first_class": a.category, "first_color": a.color,
                                               "second_class": b.category, "second_color": b.color})])]


def _ask_vertical(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    # Objects keep to the ground (nearly all in the lower half), so the question compares two of them.
    objs = _visible(gt)
    if len(objs) < 2:
        return []
    a, b = (objs[int(i)] for i in rng.choice(len(objs), 2, replace=False))
    ya, yb = (float(np.mean([p[2] for p in _centers(o)])) for o in (a, b))
    if abs(ya - yb) < 15:  # too close to call
        return []
    names = [f"the {a.color} {a.category}", f"the {b.color} {b.category}"]
    text = _pick(rng, ["Which is higher up in the picture: {x} or {y}?", "Which one stays nearer the top of the frame, {x} or {y}?"])
    return [(text.format(x=names[0], y=names[1]), names[0] if ya < yb else names[1], "choice", names,
             [("vertical_position", {"object_class": o.category, "color": o.color}) for o in (a, b)])]


def _ask_busiest(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    start, end, most = _busiest(gt)
    if most < 2 or end - start < 0.5:
        return []
    text = _pick(rng, ["When are the most objects on screen at the same time?",
                       "During which time span is the picture most crowded?"])
    return [(text, [round(start, 2), round(end, 2)], "interval", [], [("busiest_moment", {})])]


def _ask_closest(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    objs = _visible(gt)
    out: list[Asked] = []
    for i, a in enumerate(objs):
        for b in objs[i + 1:]:
            distance, frame = _closest(a, b)
            if frame is not None and abs(distance - NEAR_PX) > 12:  # clearly near or clearly far
                text = _pick(rng, ["Do the {a} and the {b} come near each other?",
                                   "Does the {a} ever get close to the {b}?"])
                out.append((text.format(a=f"{a.color} {a.category}", b=f"{b.color} {b.category}"),
                            "yes" if distance < NEAR_PX else "no", "label", [],
                            [("closest_approach", {"first_class": a.category, "first_color": a.color,
                                                   "second_class": b.category, "second_color": b.color})]))
    near = [q for q in out if q[1] == "yes"]
    far = [q for q in out if q[1] == "no"]
    return [near[0]] if near and (not far or rng.random() < 0.5) else far[:1]  # yes and no equally often


def _ask_biggest(gt: GroundTruth, rng: np.random.Generator) -> list[Asked]:
    objs = sorted(_visible(gt), key=_area, reverse=True)
    if len(objs) < 2 or _area(objs[0]) < 1.3 * _area(objs[1]):  # a clear winner only
        return []
    names = [f"the {o.color} {o.category}" for o in objs[:3]]
    order = [names[int(i)] for i in rng.permutation(len(names))]
    text = _pick(rng, ["Which object looks biggest on screen: {o}?", "Which of these appears largest in the picture: {o}?"])
    return [(text.format(o=", ".join(order)), names[0], "choice", order, [("biggest_on_screen", {})])]


@dataclass(frozen=True)
class NovelTool:
    tool: Tool
    ask: Callable[[GroundTruth, np.random.Generator], list[Asked]] = field(repr=False)

    @property
    def name(self) -> str:
        return self.tool.name


NOVEL_TRAIN: tuple[NovelTool, ...] = (
    NovelTool(object_speed, _ask_speed), NovelTool(time_on_screen, _ask_time_on_screen),
    NovelTool(scene_type, _ask_scene), NovelTool(count_collisions, _ask_collisions),
    NovelTool(object_size, _ask_size), NovelTool(time_together, _ask_together),
    NovelTool(vertical_position, _ask_vertical), NovelTool(busiest_moment, _ask_busiest),
    NovelTool(closest_approach, _ask_closest), NovelTool(biggest_on_screen, _ask_biggest),
)
NOVEL_HELDOUT: tuple[NovelTool, ...] = (
    NovelTool(motion_direction, _ask_direction), NovelTool(lighting_level, _ask_lighting),
    NovelTool(picture_noise, _ask_noise), NovelTool(count_entrances, _ask_entrances),
    NovelTool(list_scenery, _ask_scenery),
)
NOVEL_SETS = {"train": NOVEL_TRAIN, "heldout": NOVEL_HELDOUT}


def novel_set(name: str) -> tuple[NovelTool, ...]:
    if name not in NOVEL_SETS:
        from vidagent.errors import ConfigError  # noqa: PLC0415

        raise ConfigError(f"unknown novel-tool set {name!r}", f"use one of {', '.join(NOVEL_SETS)}")
    return NOVEL_SETS[name]


def tool_specs(name: str) -> list[str]:
    """The ``--tool`` flags that register a set's tools (``module:attr``)."""
    return [f"{__name__}:{n.name}" for n in novel_set(name)]


def novel_questions(truths: dict[str, GroundTruth], tools: tuple[NovelTool, ...], *, per_tool: int,
                    seed: int = 0) -> list[Question]:
    """Up to ``per_tool`` questions for each tool, over the videos of ``truths`` (video id -> ground truth) in
    a seeded order. ``meta["tool"]`` is the tool the question needs, ``meta["calls"]`` the oracle's calls."""
    rng = np.random.default_rng([seed, 31])
    ids = sorted(truths)
    out: list[Question] = []
    for novel in tools:
        order = [ids[int(i)] for i in rng.permutation(len(ids))]
        made: list[Question] = []
        for video_id in order:
            if len(made) >= per_tool:
                break
            gt = truths[video_id]
            asked = novel.ask(gt, rng)
            if not asked:
                continue
            text, answer, answer_type, choices, calls = asked[int(rng.integers(len(asked)))]
            made.append(Question(id=f"{video_id}-{novel.name}", video=video_id, video_file=gt.video_file,
                                 family=NOVEL_FAMILY, hops=len(calls), text=text, answer=answer,
                                 answer_type=answer_type, choices=choices,
                                 meta={"tool": novel.name, "calls": [[name, args] for name, args in calls]}))
        out += made
    return out

