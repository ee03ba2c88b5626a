"""Ground truth of one world video: the pydantic schema (written as ``<video_id>.json``) and its derivation
from a simulated ``Scene``.

Conventions: frame ``k`` is shown at ``t = k / fps`` and lasts ``1 / fps``; a segment covering frames
``[start_frame, end_frame)`` spans ``[start_frame / fps, end_frame / fps)`` seconds. Boxes are in pixels,
clipped to the frame, one per frame in which the object is on screen (at least 30% of its box inside the
frame); ``occluded`` is the share of the box covered by boxes of nearer objects or scenery. An object is
*visible* in a frame when it is on screen and ``occluded < 0.8``.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from vidagent.errors import ConfigError
from vidagent.tasks.world.config import ACTIONS, CLASSES, COLORS, EVENTS, VERBS
from vidagent.tasks.world.scene import MAX_OCCLUDED, Scene

SCHEMA_VERSION = 1

# (frame, x1, y1, x2, y2, occluded)
FrameBox = tuple[int, float, float, float, float, float]


class WorldObject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    track_id: int = Field(description="stable id of the object over the whole video (1-based)")
    category: Literal[CLASSES] = Field(description="object class")  # type: ignore[valid-type]
    color: Literal[tuple(COLORS)] = Field(description="main color")  # type: ignore[valid-type]
    attributes: dict[str, str] = Field(default_factory=dict, description='e.g. {"size": "small"}')
    name: str = Field(description='unique reference in text, e.g. "the red car"')
    boxes: list[FrameBox] = Field(default_factory=list,
                                  description="(frame, x1, y1, x2, y2, occluded) for every on-screen frame")

    def visible_boxes(self) -> list[FrameBox]:
        return [b for b in self.boxes if b[5] < MAX_OCCLUDED]


class ActionSegment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    track_id: int
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    start_frame: int
    end_frame: int = Field(description="exclusive")
    start_s: float
    end_s: float
    caption: str = Field(description='e.g. "the red car stops"')


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal[EVENTS]  # type: ignore[valid-type]
    track_ids: list[int] = Field(description="actors; for collide: (hitter, hit)")
    frame: int
    t_s: float
    caption: str


class Lighting(BaseModel):
    gain: float
    tint: tuple[float, float, float]
    noise_std: float


class GroundTruth(BaseModel):
    """Everything true about one world video."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    video_id: str
    video_file: str = Field(description="mp4 file name, relative to this JSON file")
    seed: int = Field(description="video seed: regenerates this exact video; also decides the split")
    split: Literal["train", "val", "test"] | None = None
    width: int
    height: int
    fps: int
    num_frames: int
    duration_s: float
    background: str
    lighting: Lighting
    scenery: list[str] = Field(default_factory=list, description="static occluders in front (post, tree, bush)")
    objects: list[WorldObject]
    segments: list[ActionSegment]
    events: list[Event]

    # -- lookups used by questions and ground-truth tools ------------------------------------------------

    def object(self, track_id: int) -> WorldObject:
        for obj in self.objects:
            if obj.track_id == track_id:
                return obj
        raise KeyError(f"no object with track id {track_id} in {self.video_id}")

    def frame_of(self, t_s: float) -> int:
        """Index of the frame shown at time ``t_s`` (clamped to the video)."""
        return min(max(int(t_s * self.fps + 1e-6), 0), self.num_frames - 1)

    def frames_in(self, start_s: float, end_s: float) -> range:
        """Frames whose display interval overlaps ``[start_s, end_s)``; one frame if the span is a point."""
        if end_s <= start_s:
            k = self.frame_of(start_s)
            return range(k, k + 1)
        first = max(int(start_s * self.fps + 1e-6), 0)
        last = min(_ceil(end_s * self.fps), self.num_frames)
        return range(first, max(last, first))

    @cached_property
    def _visible_by_frame(self) -> list[dict[int, FrameBox]]:
        table: list[dict[int, FrameBox]] = [{} for _ in range(self.num_frames)]
        for obj in self.objects:
            for box in obj.visible_boxes():
                table[box[0]][obj.track_id] = box
        return table

    def visible_at(self, frame: int) -> dict[int, FrameBox]:
        """track id -> box of the objects visible in ``frame``."""
        return self._visible_by_frame[frame]

    def segments_of(self, track_id: int) -> list[ActionSegment]:
        return [s for s in self.segments if s.track_id == track_id]


def _ceil(value: float) -> int:
    whole = int(value)
    return whole if value - whole < 1e-6 else whole + 1


def caption(obj_name: str, action: str) -> str:
    return f"{obj_name} {VERBS[action]}"


def ground_truth(scene: Scene, video_file: str, split: str | None = None) -> GroundTruth:
    """Derive the ground truth of a simulated scene."""
    fps = scene.fps
    names = {spec.track_id: f"the {spec.color} {spec.category}" for spec in scene.objects}
    boxes: dict[int, list[FrameBox]] = {spec.track_id: [] for spec in scene.objects}
    labels: dict[int, dict[int, str]] = {spec.track_id: {} for spec in scene.objects}
    for k, frame in enumerate(scene.frames):
        for o in frame:
            if not o.on_screen:
                continue
            x1, y1, x2, y2 = o.box
            clipped = (max(x1, 0.0), max(y1, 0.0), min(x2, scene.width - 1.0), min(y2, scene.height - 1.0))
            boxes[o.track_id].append((k, *(round(v, 1) for v in clipped), round(o.occluded, 2)))
            labels[o.track_id][k] = o.pose.action
    segments: list[ActionSegment] = []
    events: list[Event] = []
    for spec in scene.objects:
        tid, frames = spec.track_id, sorted(labels[spec.track_id])
        run_start = None
        for index, k in enumerate(frames):
            if run_start is None:
                run_start = k
            nxt = frames[index + 1] if index + 1 < len(frames) else None
            action = labels[tid][k]
            if nxt is None or nxt != k + 1 or labels[tid][nxt] != action:
                segments.append(ActionSegment(track_id=tid, action=action, start_frame=run_start, end_frame=k + 1,
                                              start_s=round(run_start / fps, 3), end_s=round((k + 1) / fps, 3),
                                              caption=caption(names[tid], action)))
                run_start = None
        if frames and frames[0] > 0:
            events.append(Event(type="enter", track_ids=[tid], frame=frames[0], t_s=round(frames[0] / fps, 3),
                                caption=caption(names[tid], "enter")))
        if frames and frames[-1] < scene.num_frames - 1:
            k = frames[-1] + 1
            events.append(Event(type="leave", track_ids=[tid], frame=k, t_s=round(k / fps, 3),
                                caption=caption(names[tid], "leave")))
    for k, hitter, hit in scene.collisions:
        events.append(Event(type="collide", track_ids=[hitter, hit], frame=k, t_s=round(k / fps, 3),
                            caption=f"{names[hitter]} hits {names[hit]}"))
    segments.sort(key=lambda s: (s.start_frame, s.track_id))
    events.sort(key=lambda e: (e.frame, e.track_ids))
    objects = [WorldObject(track_id=s.track_id, category=s.category, color=s.color, attributes={"size": s.size},
                           name=names[s.track_id], boxes=boxes[s.track_id]) for s in scene.objects]
    return GroundTruth(video_id=scene.video_id, video_file=video_file, seed=scene.seed, split=split,
                       width=scene.width, height=scene.height, fps=fps, num_frames=scene.num_frames,
                       duration_s=round(scene.num_frames / fps, 3), background=scene.background,
                       lighting=Lighting(gain=round(scene.gain, 3), tint=tuple(round(v, 3) for v in scene.tint),
                                         noise_std=round(scene.noise_std, 2)),
                       scenery=[occ.kind for occ in scene.occluders], objects=objects, segments=segments,
                       events=events)


def save_ground_truth(truth: GroundTruth, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(truth.model_dump_json(), encoding="utf-8")
    return path


def load_ground_truth(path: str | Path) -> GroundTruth:
    """Read a ground-truth JSON file; a malformed file raises ``ConfigError`` naming the bad field."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"ground-truth file {path} does not exist",
                          "pass the <video_id>.json written by `vidagent world generate`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON ({error})", "regenerate it with `vidagent world generate`")
    try:
        return GroundTruth.model_validate(data)
    except ValidationError as error:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5])
        raise ConfigError(f"{path} is not a world ground-truth file: {fields}",
                          "regenerate it with `vidagent world generate` (schema in docs/world.md)") from None
