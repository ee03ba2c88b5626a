"""The four default tools, declared once: signature, docstring, checks, names, rendering and errors.

``DefaultTools(perception).tools()`` binds them to a perception backend (``vidagent.tools.perception``): the
world's ground truth, the world-trained models, or real-footage models answer the same call with
observations of the same form, because everything the planner reads is made here. Oracle programs,
prompt cards and docs take the argument lists from these signatures (``DEFAULT_TOOL_NAMES``,
``Tool.parameters_schema``), never from a copy.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Annotated

from pydantic import Field
from vidagent.errors import ToolError
from vidagent.tools.base import Tool
from vidagent.tools.perception import Perception, Sighting
from vidagent.tools.results import (
    ActionResult,
    DetectionResult,
    FrameDescription,
    GroundingResult,
    ObjectAt,
    TimeSpan,
    Track,
)
from vidagent.tools.video import VideoSession
from vidagent.words import canonical

# Bump when what the tools compute from a backend's answer changes, so cached results are recomputed.
TOOLS_VERSION = "tools-v3"  # v3: kinds of things in classes=[...] (CLASS_GROUPS)
DEFAULT_TOOL_NAMES: tuple[str, ...] = ("detect_objects", "recognize_action", "ground_moment", "describe_frame")
ACTION_TOP_K = 3  # actions reported per call
MAX_BOXES_PER_TRACK = 16  # boxes kept per track in a result (evidence and the report), evenly spread
# Words that mean "every class" in ``classes=[...]``: the planner asks for "objects" when it wants them all.
EVERY_CLASS = frozenset({"object", "objects", "thing", "things", "anything", "everything", "something", "all",
                         "any", "item", "items", "stuff"})
# Words for a kind of thing in ``classes=[...]``: the classes of that kind the backend knows ("What animal is in
# the video?" -> classes=["animal"]: a bird on a real clip, a dog or a bird in the world). Checked before the
# synonym table, which reads "vehicle" as the world's car.
_GROUPS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("animal", "animals", "creature", "creatures", "pet", "pets", "wildlife"):
        ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"),
    ("vehicle", "vehicles", "transport", "traffic"):
        ("bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"),
    ("food", "foods", "fruit", "fruits", "meal", "snack"):
        ("banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake"),
    ("furniture",): ("chair", "couch", "bed", "dining table", "bench", "toilet"),
    ("electronics", "device", "devices", "gadget", "gadgets", "screen", "screens"):
        ("tv", "laptop", "mouse", "remote", "keyboard", "cell phone"),
    ("appliance", "appliances"): ("microwave", "oven", "toaster", "sink", "refrigerator"),
    ("tableware", "dishes", "cutlery", "utensil", "utensils", "kitchenware"):
        ("bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl"),
    ("toy", "toys"): ("ball", "sports ball", "teddy bear", "kite", "frisbee"),
}
CLASS_GROUPS: dict[str, frozenset[str]] = {word: frozenset(classes) for words, classes in _GROUPS.items()
                                           for word in words}

# Error texts (``ToolError.problem`` / ``.fix``); tests assert on them.
UNKNOWN_CLASS = "unknown class {unknown}; the detector knows: {known}"
UNKNOWN_CLASS_FIX = "use one of the known class names, or omit classes for every class"
TRACK_NOT_SEEN = "track {track_id} is not seen in {span} (tracks there: {seen})"
TRACK_NOT_SEEN_FIX = "call detect_objects for this span and use one of its track ids"
EMPTY_QUERY = "the query is empty"
EMPTY_QUERY_FIX = 'describe the moment in words, e.g. "the red car stops"'

def position_words(cx: float, cy: float, width: int, height: int) -> str:
    """'left'/'center'/'right', with 'top'/'bottom' for the outer vertical thirds."""
    horizontal = "left" if cx < width / 3 else "right" if cx > 2 * width / 3 else "center"
    vertical = "top " if cy < height / 3 else "bottom " if cy > 2 * height / 3 else ""
    return vertical + horizontal


def resolve_classes(classes: list[str] | None, known: Sequence[str],
                    aliases: dict[str, str] | None = None) -> set[str] | None:
    """Requested names -> the backend's classes. None (every class) for no filter or a word like "objects";
    a kind ("animals", "vehicle") gives the classes of that kind the backend knows; plurals and synonyms
    resolve ("people", "automobiles"); an unknown name (or a kind the backend has no class of) raises
    ``ToolError``."""
    names = [" ".join(name.lower().split()) for name in classes or []]
    names = [name for name in names if name]
    if not names or any(name in EVERY_CLASS for name in names):
        return None
    resolved, unknown = set(), []
    for name in names:
        group = CLASS_GROUPS.get(name, frozenset()) & set(known)
        if group:
            resolved |= group
            continue
        match = _class_of(name, known, aliases or {})
        if match is None:
            unknown.append(name)
        else:
            resolved.add(match)
    if unknown:
        raise ToolError(UNKNOWN_CLASS.format(unknown=unknown, known=", ".join(known)), UNKNOWN_CLASS_FIX)
    return resolved


def _class_of(name: str, known: Collection[str], aliases: dict[str, str]) -> str | None:
    """The known class a name means: itself, its canonical form, or that of its last word ("red cars"),
    directly or through the backend's class aliases ("ball" is COCO's "sports ball")."""
    last = name.split()[-1]
    for candidate in (name, canonical(name, known), canonical(last, known)):
        for option in (candidate, aliases.get(candidate)):
            if option in known:
                return option
    return None


def thin(boxes: list, keep: int = MAX_BOXES_PER_TRACK) -> list:
    """At most ``keep`` items, evenly spread, first and last kept."""
    if len(boxes) <= keep:
        return boxes
    step = (len(boxes) - 1) / (keep - 1)
    return [boxes[round(i * step)] for i in range(keep)]


class DefaultTools:
    """The default tools over one perception backend. ``tools()`` gives them as ``Tool`` objects."""

    def __init__(self, perception: Perception):
        self.perception = perception

    def tools(self) -> list[Tool]:
        return [Tool(getattr(self, name), fingerprint=self.fingerprint) for name in DEFAULT_TOOL_NAMES]

    def fingerprint(self) -> str:
        return f"{TOOLS_VERSION}:{self.perception.name}:{self.perception.fingerprint()}"

    def detect_objects(self, video: VideoSession, start_s: float, end_s: float,
                       classes: list[str] | None = None) -> DetectionResult:
        """Detect and track objects in a time span: each track's class, color and when it is seen, with counts.

        Args:
            start_s: Start of the span in seconds.
            end_s: End of the span in seconds.
            classes: Only report these object classes (e.g. ["person", "car"]); every class when omitted or
                ["objects"].
        """
        start_s, end_s = video.ref.check_range(start_s, end_s)
        aliases = getattr(self.perception, "class_aliases", None)  # optional: COCO's "ball" = "sports ball"
        wanted = resolve_classes(classes, self.perception.classes(), aliases() if aliases else None)
        seen = self.perception.sighting(video, start_s, end_s)
        tracks = [t for t in seen.tracks if wanted is None or t.label in wanted]
        counts: dict[str, int] = {}
        for track in tracks:
            counts[track.label] = counts.get(track.label, 0) + 1
        at_once = {label: _most_at_once([t for t in tracks if t.label == label]) for label in counts}
        tracks = [Track(t.track_id, t.label, t.color, t.first_s, t.last_s, thin(t.boxes)) for t in tracks]
        return DetectionResult(TimeSpan(start_s, end_s), tracks, counts, at_once, seen.frames_used)

    def recognize_action(self, video: VideoSession, start_s: float, end_s: float,
                         track_id: int | None = None) -> ActionResult:
        """Recognise what an object (or, without track_id, anyone in the scene) is doing in a time span.

        Args:
            start_s: Start of the span in seconds.
            end_s: End of the span in seconds.
            track_id: The object to look at, a track id from detect_objects; omit it for the whole scene.
        """
        start_s, end_s = video.ref.check_range(start_s, end_s)
        span = TimeSpan(start_s, end_s)
        tracks = self.perception.sighting(video, start_s, end_s).tracks
        if track_id is not None:
            chosen = [t for t in tracks if t.track_id == track_id]
            if not chosen:
                seen = ", ".join(f"{t.track_id} ({t.label})" for t in tracks) or "none"
                raise ToolError(TRACK_NOT_SEEN.format(track_id=track_id, span=span, seen=seen), TRACK_NOT_SEEN_FIX)
            tracks = chosen
        if not tracks:
            return ActionResult(span, track_id, [])
        actions = self.perception.actions(video, start_s, end_s, tracks)
        return ActionResult(span, track_id, actions[:ACTION_TOP_K])

    def ground_moment(self, video: VideoSession, query: str,
                      top_k: Annotated[int, Field(ge=1, le=10)] = 3) -> GroundingResult:
        """Find when a described moment happens (e.g. "the red car stops"): the best matching time spans.

        Args:
            query: What happens, in a short sentence ("a person in blue jumps").
            top_k: How many candidate spans to return, best first (1-10).
        """
        query = " ".join(query.split())
        if not query:
            raise ToolError(EMPTY_QUERY, EMPTY_QUERY_FIX)
        return GroundingResult(query, self.perception.moments(video, query, top_k)[:top_k])

    def describe_frame(self, video: VideoSession, t_s: float) -> FrameDescription:
        """List the objects visible at one moment: class, color, position in the frame and track id.

        Args:
            t_s: The moment, in seconds from the start of the video.
        """
        video.ref.check_range(t_s, t_s + 1e-3)
        seen = self.perception.sighting(video, t_s, t_s)
        nearest = _nearest(seen, t_s)
        objects = []
        for track in seen.tracks:
            box = next((b for b in track.boxes if b.t_s == nearest), None)
            if box is not None:
                where = position_words((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2, video.ref.width,
                                       video.ref.height)
                objects.append(ObjectAt(track.label, track.color, box, where))
        objects.sort(key=lambda o: ((o.box.x1 + o.box.x2) / 2, o.box.track_id or 0))
        scene_at = getattr(self.perception, "scene_at", None)  # backends with a tagger / OCR (real footage)
        if scene_at is None:
            return FrameDescription(round(nearest, 2), objects)
        scene = scene_at(video, nearest)
        return FrameDescription(round(nearest, 2), objects, [t.name for t in scene.tags],
                                [line.text for line in scene.texts])


def _most_at_once(tracks: list[Track]) -> int:
    """Most of these tracks visible at one sampled time."""
    per_time: dict[float, int] = {}
    for track in tracks:
        for t in {b.t_s for b in track.boxes}:
            per_time[t] = per_time.get(t, 0) + 1
    return max(per_time.values(), default=0)


def _nearest(seen: Sighting, t_s: float) -> float:
    return min(seen.times_s, key=lambda t: abs(t - t_s)) if seen.times_s else t_s
