"""Typed results of the default tools, shared by the real tools, the world's ground-truth tools and the
oracle programs. Plain dataclasses: no framework objects (ultralytics ``Results``, tensors) cross here.

Every result has ``to_text()`` for the model (bounded by ``MAX_OBSERVATION_CHARS``) and ``evidence()``
for the final answer (time spans, boxes, track ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_OBSERVATION_CHARS = 700


def bounded(text: str, limit: int = MAX_OBSERVATION_CHARS) -> str:
    """Cut ``text`` to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    suffix = f" ... [{len(text) - limit} more chars]"
    return text[: limit - len(suffix)] + suffix


@dataclass(frozen=True)
class TimeSpan:
    start_s: float
    end_s: float

    def __str__(self) -> str:
        return f"{self.start_s:.1f}-{self.end_s:.1f}s"


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels at time ``t_s``."""

    t_s: float
    x1: float
    y1: float
    x2: float
    y2: float
    label: str = ""
    track_id: int | None = None
    score: float = 1.0


def xyxy_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two boxes given as (x1, y1, x2, y2); 0 when they do not overlap."""
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Evidence:
    spans: list[TimeSpan] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    track_ids: list[int] = field(default_factory=list)

    def extend(self, other: Evidence) -> None:
        self.spans.extend(other.spans)
        self.boxes.extend(other.boxes)
        self.track_ids.extend(t for t in other.track_ids if t not in self.track_ids)


class ToolResult:
    """Protocol-ish base: subclasses are dataclasses that override ``render``."""

    def render(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def to_text(self) -> str:
        return bounded(self.render())

    def evidence(self) -> Evidence:
        """What the result cites by default: its own ``TimeSpan``/``Box`` fields (or lists of them) and a
        ``track_id``/``track_ids`` field. A user's tool that keeps the span it measured therefore cites it
        without overriding this; results with other evidence override it."""
        found = Evidence()
        for value in vars(self).values() if hasattr(self, "__dict__") else ():
            items = value if isinstance(value, list | tuple) else [value]
            for item in items:
                if isinstance(item, TimeSpan) and item not in found.spans:
                    found.spans.append(item)
                elif isinstance(item, Box) and item not in found.boxes:
                    found.boxes.append(item)
        for name in ("track_id", "track_ids"):
            ids = getattr(self, name, None)
            for t in ids if isinstance(ids, list | tuple) else [ids]:
                if isinstance(t, int) and not isinstance(t, bool) and t not in found.track_ids:
                    found.track_ids.append(t)
        return found


@dataclass
class Track:
    track_id: int
    label: str
    color: str
    first_s: float
    last_s: float
    boxes: list[Box] = field(default_factory=list)


@dataclass
class DetectionResult(ToolResult):
    span: TimeSpan
    tracks: list[Track]
    counts: dict[str, int]  # distinct tracks per class
    max_simultaneous: dict[str, int]  # most objects of a class visible in one sampled frame
    frames_used: int = 0

    def render(self) -> str:
        if not self.tracks:
            return f"No objects found in {self.span} ({self.frames_used} frames)."
        counts = ", ".join(f"{n} {label}" for label, n in sorted(self.counts.items()))
        lines = [f"In {self.span}: {counts} (max at once: "
                 + ", ".join(f"{label} {n}" for label, n in sorted(self.max_simultaneous.items())) + ")."]
        for t in self.tracks:
            lines.append(f"track {t.track_id}: {t.color} {t.label}, seen {t.first_s:.1f}-{t.last_s:.1f}s")
        return "\n".join(lines)

    def evidence(self) -> Evidence:
        boxes = [t.boxes[len(t.boxes) // 2] for t in self.tracks if t.boxes]
        return Evidence(spans=[self.span], boxes=boxes, track_ids=[t.track_id for t in self.tracks])


@dataclass(frozen=True)
class ScoredLabel:
    label: str
    score: float


@dataclass
class ActionResult(ToolResult):
    span: TimeSpan
    track_id: int | None
    actions: list[ScoredLabel]  # best first

    def render(self) -> str:
        who = f"track {self.track_id}" if self.track_id is not None else "the scene"
        if not self.actions:
            return f"No tracked objects in {self.span}, so no actions to recognise."
        top = ", ".join(f"{a.label} {a.score:.2f}" for a in self.actions)
        return f"Actions of {who} in {self.span}: {top}."

    def evidence(self) -> Evidence:
        return Evidence(spans=[self.span], track_ids=[] if self.track_id is None else [self.track_id])


@dataclass(frozen=True)
class ScoredSpan:
    start_s: float
    end_s: float
    score: float


@dataclass
class GroundingResult(ToolResult):
    query: str
    spans: list[ScoredSpan]  # best first

    def render(self) -> str:
        if not self.spans:
            return f'No moment matches "{self.query}".'
        top = ", ".join(f"{s.start_s:.1f}-{s.end_s:.1f}s ({s.score:.2f})" for s in self.spans)
        return f'Moments for "{self.query}": {top}.'

    def evidence(self) -> Evidence:
        return Evidence(spans=[TimeSpan(s.start_s, s.end_s) for s in self.spans[:1]])


@dataclass
class ObjectAt:
    label: str
    color: str
    box: Box
    position: str  # "left", "center", "right" (+ "top"/"bottom") for the model


@dataclass
class FrameDescription(ToolResult):
    t_s: float
    objects: list[ObjectAt]
    tags: list[str] = field(default_factory=list)  # scene tags (backends that have a tagger)
    texts: list[str] = field(default_factory=list)  # text read in the frame (backends that have OCR)

    def render(self) -> str:
        if not self.objects:
            text = f"At {self.t_s:.1f}s: no objects visible."
        else:
            parts = [f"{o.color} {o.label} ({o.position}"
                     + (f", track {o.box.track_id})" if o.box.track_id is not None else ")") for o in self.objects]
            text = f"At {self.t_s:.1f}s: " + "; ".join(parts) + "."
        if self.tags:
            text += " Scene: " + ", ".join(self.tags) + "."
        if self.texts:
            text += " Text: " + "; ".join(f'"{t}"' for t in self.texts) + "."
        return text

    def evidence(self) -> Evidence:
        return Evidence(spans=[TimeSpan(self.t_s, self.t_s)], boxes=[o.box for o in self.objects])


@dataclass
class TextSighting:
    text: str
    first_s: float
    last_s: float
    score: float
    box: Box  # where it was read first


@dataclass
class TextResult(ToolResult):
    span: TimeSpan
    lines: list[TextSighting]  # in order of first sighting
    frames_read: int

    def render(self) -> str:
        if not self.lines:
            return f"No text read in {self.span} ({self.frames_read} frames)."
        parts = [f'"{line.text}" {line.first_s:.1f}-{line.last_s:.1f}s ({line.score:.2f})' for line in self.lines]
        return f"Text in {self.span}: " + "; ".join(parts) + "."

    def evidence(self) -> Evidence:
        return Evidence(spans=[TimeSpan(line.first_s, line.last_s) for line in self.lines[:3]] or [self.span],
                        boxes=[line.box for line in self.lines[:3]])


@dataclass
class SceneTagsResult(ToolResult):
    span: TimeSpan
    tags: list[ScoredLabel]  # best first: mean score over the sampled frames
    frames_used: int

    def render(self) -> str:
        if not self.tags:
            return f"No confident scene tags in {self.span} ({self.frames_used} frames)."
        return f"Scene in {self.span}: " + ", ".join(f"{t.label} {t.score:.2f}" for t in self.tags) + "."

    def evidence(self) -> Evidence:
        return Evidence(spans=[self.span])


@dataclass
class Segment:
    """One shot, or one stretch of a long shot, with what the index saw in it."""

    start_s: float
    end_s: float
    objects: dict[str, int]  # distinct tracks per class
    tags: list[str] = field(default_factory=list)  # scene tags, best first
    texts: list[str] = field(default_factory=list)  # on-screen text read there

    def summary(self) -> str:
        parts = [", ".join(f"{n} {label}" for label, n in sorted(self.objects.items(), key=lambda kv: -kv[1]))
                 or "no objects"]
        if self.tags:
            parts.append("scene: " + ", ".join(self.tags))
        if self.texts:
            parts.append("text: " + ", ".join(repr(t) for t in self.texts))
        return f"{self.start_s:.1f}-{self.end_s:.1f}s: " + "; ".join(parts)


@dataclass
class SegmentsResult(ToolResult):
    span: TimeSpan
    segments: list[Segment]
    cuts: int  # shot cuts found in the span
    merged: bool = False  # neighbouring shots were grouped to keep the list short

    def render(self) -> str:
        head = (f"{len(self.segments)} segments in {self.span} ({self.cuts} shot cuts"
                + ("; shots grouped: call list_segments on a segment to see inside it" if self.merged else "") + "):")
        return "\n".join([head, *(s.summary() for s in self.segments)])

    def evidence(self) -> Evidence:
        return Evidence(spans=[TimeSpan(s.start_s, s.end_s) for s in self.segments])
