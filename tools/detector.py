"""The world detector: ultralytics YOLO + ByteTrack over a video, tracks with colors (for ``detect_objects``).

ultralytics is AGPL-3.0: it is imported only inside this module (and ``vidagent.tasks.toolfit``'s detector
training and evaluation), never at import time of ``vidagent.tools``.

How it works:

* The video is tracked in chunks of ``chunk_s`` seconds at ``sample_fps`` (YOLO on batches of frames,
  then ByteTrack frame by frame, with ``track_buffer`` scaled to the sample rate). Each chunk is tracked
  once per process and memoised, so track ids are stable across calls and shared with
  ``recognize_action(track_id=...)`` and ``describe_frame``.
* Raw tracks are cleaned up before counting (``vidagent.tools.tracklets``): one object tracked twice
  as two classes is folded into one track, weak tracks are dropped, and fragments of one object (broken
  by an occluder, or by a color read that changed as it shrank) are joined.
* Each track gets a color by voting over its boxes, weighted by box area; each box's color is its sprite's
  paint, not its dark parts (pants, tires) or the background (``vidagent.tools.colors``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vidagent.tools.colors import COLOR_VERSION, box_color
from vidagent.tools.defaults import (
    CONFIGS_DIR,
    DETECTOR_WEIGHTS,
    REBUILD,
    corrupt_weights,
    require_weights,
    weights_fingerprint,
)
from vidagent.tools.memo import Memo
from vidagent.tools.results import Box, Track
from vidagent.tools.tracklets import Tracklet, drop_weak, merge_duplicates, merge_fragments
from vidagent.tools.progress import chunk_progress
from vidagent.tools.video import VideoSession

TRACK_ID_VERSION = "ids2"  # tracks numbered from 1 per chunk (``renumbered``); older indexes hold ByteTrack's ids

TRACKER_CONFIG = CONFIGS_DIR / "bytetrack.yaml"


@dataclass
class Detections:
    """Detections of one frame as numpy arrays; the duck type ultralytics' BYTETracker reads."""

    xyxy: np.ndarray  # [K, 4] pixels
    conf: np.ndarray  # [K]
    cls: np.ndarray  # [K]
    keypoints: np.ndarray | None = None  # [K, J, 3] x, y, visibility, from a pose model (NaN rows: none)

    @property
    def xywh(self) -> np.ndarray:  # [K, 4] centre x, centre y, width, height
        wh = self.xyxy[:, 2:] - self.xyxy[:, :2]
        return np.concatenate([self.xyxy[:, :2] + wh / 2, wh], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, mask: Any) -> Detections:
        keypoints = None if self.keypoints is None else self.keypoints[mask]
        return Detections(self.xyxy[mask], self.conf[mask], self.cls[mask], keypoints)


@dataclass
class TrackedChunk:
    """The tracks of one chunk of video, every class, before filtering by span or class."""

    tracks: list[Track]
    times_s: list[float]  # the sampled times
    frames_used: int
    # keypoints of the boxes that have them (a pose model's), keyed by ``box_key(box)``
    keypoints: dict[tuple[float, float, float], np.ndarray] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """Plain JSON for the video index: boxes as rows, keypoints beside the key of their box."""
        return {"times_s": self.times_s, "frames_used": self.frames_used,
                "tracks": [[t.track_id, t.label, t.color, t.first_s, t.last_s,
                            [[b.t_s, b.x1, b.y1, b.x2, b.y2, b.score] for b in t.boxes]] for t in self.tracks],
                "keypoints": [[*key, np.round(points, 1).tolist()] for key, points in self.keypoints.items()]}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> TrackedChunk:
        tracks = [Track(track_id, label, color, first_s, last_s,
                        [Box(t, x1, y1, x2, y2, label, track_id, score) for t, x1, y1, x2, y2, score in boxes])
                  for track_id, label, color, first_s, last_s, boxes in data["tracks"]]
        keypoints = {(t, x1, y1): np.asarray(points, np.float32) for t, x1, y1, points in data["keypoints"]}
        return cls(tracks, list(data["times_s"]), int(data["frames_used"]), keypoints)


def renumbered(tracks: list[Track], id_offset: int = 0) -> list[Track]:
    """The tracks numbered 1, 2, 3... (plus the chunk's offset) in the order given. ByteTrack's own ids count
    every short-lived candidate, so the kept tracks of a real clip come out as 57, 111, 113: a small planner
    reads such a number as the answer to "how many" (measured on the real-QA set, session 10)."""
    out = []
    for number, t in enumerate(tracks, start=id_offset + 1):
        boxes = [replace(b, track_id=number) for b in t.boxes]
        out.append(replace(t, track_id=number, boxes=boxes))
    return out


def box_key(box: Box) -> tuple[float, float, float]:
    """A box's identity inside a chunk: its time and top-left corner (fragments merge, boxes stay)."""
    return (box.t_s, box.x1, box.y1)


class YoloModel:
    """A loaded ultralytics detection model, run directly on batches of RGB frames."""

    def __init__(self, weights: Path, imgsz: int, conf: float, iou: float, task: str = "detect"):
        from vidagent.offline import prepare_ultralytics  # noqa: PLC0415

        prepare_ultralytics()
        import torch  # noqa: PLC0415
        from ultralytics import YOLO  # noqa: PLC0415

        try:
            self.yolo = YOLO(str(weights), task=task)
            self.yolo.fuse()
        except Exception as error:  # ultralytics raises many types for a bad file
            raise corrupt_weights(weights, "detector", REBUILD["detector"], error) from None
        self.net = self.yolo.model.float().eval()
        self.names: dict[int, str] = dict(self.yolo.names)
        self.imgsz, self.conf, self.iou = imgsz, conf, iou
        self.stride = max(32, int(self.net.stride.max()))
        self.end2end = bool(getattr(self.net.model[-1], "end2end", False))  # YOLO26-style heads skip NMS
        self.torch = torch

    def _letterbox(self, images: np.ndarray) -> tuple[Any, float]:
        """[N,H,W,3] uint8 RGB -> [N,3,h,w] float in [0,1]; long side = imgsz, padded to the stride."""
        torch = self.torch
        height, width = images.shape[1:3]
        scale = self.imgsz / max(height, width)
        new_h, new_w = round(height * scale), round(width * scale)
        pad_h, pad_w = -new_h % self.stride, -new_w % self.stride
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255  # [N,3,H,W]
        if (new_h, new_w) != (height, width):
            x = torch.nn.functional.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False,
                                                antialias=scale < 1)
        x = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), value=114 / 255)  # [N,3,h,w]
        return x, scale

    def detect(self, images: np.ndarray, batch_size: int = 16) -> list[Detections]:
        """Detections per frame, boxes in the frames' pixel coordinates."""
        from ultralytics.utils.nms import non_max_suppression  # noqa: PLC0415

        out: list[Detections] = []
        with self.torch.inference_mode():
            for start in range(0, len(images), batch_size):
                x, scale = self._letterbox(images[start : start + batch_size])
                preds = self.net(x)
                rows = non_max_suppression(preds, self.conf, self.iou, max_det=100, end2end=self.end2end,
                                           nc=len(self.names))  # list of [K, 6]: x1 y1 x2 y2 conf cls
                for row in rows:
                    row = row.numpy()
                    out.append(Detections(row[:, :4] / scale, row[:, 4], row[:, 5].astype(int)))
        return out

    def detect_one_by_one(self, images: np.ndarray) -> list[Detections]:
        """The ultralytics predictor called frame by frame (the baseline batching is measured against)."""
        out = []
        for image in images:
            result = self.yolo.predict(image[..., ::-1], imgsz=self.imgsz, conf=self.conf, iou=self.iou,
                                       verbose=False)[0]  # ultralytics reads numpy frames as BGR
            boxes = result.boxes.cpu().numpy()
            out.append(Detections(boxes.xyxy, boxes.conf, boxes.cls.astype(int)))
        return out


class ObjectDetector:
    """YOLO + ByteTrack. ``weights`` is any ultralytics detection checkpoint (default: the world model)."""

    def __init__(self, weights: str | Path | None = None, *, imgsz: int = 320, conf: float = 0.25,
                 iou: float = 0.6, sample_fps: float = 5.0, chunk_s: float = 60.0, batch_size: int = 16,
                 min_track_frames: int = 4, min_track_conf: float = 0.0, merge_gap_s: float = 5.0,
                 recolor_gap_s: float = 2.0, still_gap_s: float = 8.0, duplicate_iou: float = 0.5,
                 association_scale: float = 2.0, tracker_config: str | Path = TRACKER_CONFIG):
        self.weights = Path(weights).expanduser() if weights is not None else DETECTOR_WEIGHTS
        self.imgsz, self.conf, self.iou = imgsz, conf, iou
        self.sample_fps, self.chunk_s, self.batch_size = sample_fps, chunk_s, batch_size
        # track clean-up before counting (``vidagent.tools.tracklets``; values tuned on the world's val split)
        self.min_track_frames, self.min_track_conf = min_track_frames, min_track_conf
        self.merge_gap_s, self.recolor_gap_s, self.still_gap_s = merge_gap_s, recolor_gap_s, still_gap_s
        self.duplicate_iou = duplicate_iou
        # ByteTrack associates by IoU; boxes grown by this factor (for association only) still overlap
        # between samples when a small object moves more than its own width (a runner at 5 frames/s)
        self.association_scale = association_scale
        self.tracker_config = Path(tracker_config)
        self.model: YoloModel | None = None
        # tracked chunks per (video, chunk, model): track ids stay stable across calls; 512 chunks of 60 s
        # are about 8 hours of video, a few MB of boxes
        self._chunks: Memo[tuple[str, int, str], TrackedChunk] = Memo(512)

    # -- lifecycle ------------------------------------------------------------------------------------
    def setup(self) -> None:
        if self.model is None:
            require_weights(self.weights, "detector", REBUILD["detector"])
            self.model = YoloModel(self.weights, self.imgsz, self.conf, self.iou)

    def fingerprint(self) -> str:
        # the color version too: track colors (and the fragment joins that compare them) depend on it
        return (f"yolo:{weights_fingerprint(self.weights)}:{COLOR_VERSION}:{TRACK_ID_VERSION}:{self.imgsz}:{self.conf}:{self.iou}:"
                f"{self.sample_fps}:{self.chunk_s}:{self.min_track_frames}:{self.min_track_conf}:{self.merge_gap_s}:"
                f"{self.recolor_gap_s}:{self.still_gap_s}:{self.duplicate_iou}:{self.association_scale}")

    @property
    def class_names(self) -> list[str]:
        self.setup()
        assert self.model is not None
        return list(self.model.names.values())

    # -- tracking -------------------------------------------------------------------------------------
    def rate_for(self, video: VideoSession) -> float:
        """The sampling rate of this video's tracked chunks (never above the video's own rate)."""
        return min(self.sample_fps, video.ref.fps)

    def chunk_count(self, video: VideoSession) -> int:
        return max(1, math.ceil(video.ref.duration_s / self.chunk_s - 1e-9))

    def index_fingerprint(self, video: VideoSession) -> str:
        """What a tracked chunk of this video depends on: the models, the settings and the video's rate."""
        return f"{self.fingerprint()}:rate={self.rate_for(video):g}"

    def tracks_in_span(self, video: VideoSession, start_s: float, end_s: float) -> tuple[list[Track], list[float], int]:
        """Tracks (cut to the span) of every chunk the span touches, the sampled times, frames decoded now."""
        tracks: list[Track] = []
        times: list[float] = []
        frames_used = 0
        first, last = int(start_s // self.chunk_s), int(max(start_s, end_s - 1e-6) // self.chunk_s)
        progress = chunk_progress(video, self, range(first, last + 1))
        for chunk_index in range(first, last + 1):
            chunk, used = self.tracked_chunk(video, chunk_index)
            progress.advance(used)
            frames_used += used
            times += [t for t in chunk.times_s if start_s <= t < end_s]
            for track in chunk.tracks:
                boxes = [b for b in track.boxes if start_s <= b.t_s < end_s]
                if boxes:
                    tracks.append(Track(track.track_id, track.label, track.color, boxes[0].t_s, boxes[-1].t_s, boxes))
        progress.close()
        if not times:  # a span shorter than the sampling step: fall back to the nearest sampled frame
            chunk, _ = self.tracked_chunk(video, first)
            nearest = min(chunk.times_s, key=lambda t: abs(t - start_s))
            times = [nearest]
            tracks = [Track(t.track_id, t.label, t.color, nearest, nearest, [b for b in t.boxes if b.t_s == nearest])
                      for t in chunk.tracks if any(b.t_s == nearest for b in t.boxes)]
        return tracks, times, frames_used

    def known_chunk(self, video: VideoSession, chunk_index: int) -> TrackedChunk | None:
        """A chunk already tracked: in this process's memo or in the video's index; None otherwise."""
        key = (video.ref.sha256, chunk_index, self.index_fingerprint(video))
        known = self._chunks.get(key)
        index = video.index
        if index is None:
            return known
        if known is None:
            payload = index.get("tracks", chunk_index, key[2])
            if payload is not None:
                known = TrackedChunk.from_payload(payload)
                self._chunks.put(key, known)
        elif not index.has("tracks", chunk_index, key[2]):  # tracked before this index existed (another store)
            index.put("tracks", chunk_index, key[2], known.to_payload(), frames=known.frames_used)
        return known

    def tracked_chunk(self, video: VideoSession, chunk_index: int) -> tuple[TrackedChunk, int]:
        """Track one chunk, once per video, chunk and model: from memory, from the video's index, or now
        (and then stored in both). Returns it and the frames sampled now."""
        known = self.known_chunk(video, chunk_index)
        if known is not None:
            return known, 0
        self.setup()
        started = time.perf_counter()
        start = chunk_index * self.chunk_s
        end = min(video.ref.duration_s, start + self.chunk_s)
        fps = self.rate_for(video)
        frames = video.sample(start, end, fps=fps, indexing=True)
        chunk = self.track_frames(frames.images, frames.times_s, fps, id_offset=chunk_index * 10_000)
        fingerprint = self.index_fingerprint(video)
        self._chunks.put((video.ref.sha256, chunk_index, fingerprint), chunk)
        if video.index is not None:
            video.index.put("tracks", chunk_index, fingerprint, chunk.to_payload(), frames=len(frames),
                            seconds=time.perf_counter() - started)
        return chunk, len(frames)

    def track_frames(self, images: np.ndarray, times_s: list[float], fps: float, id_offset: int = 0) -> TrackedChunk:
        """Detect on all frames in batches, then run a fresh ByteTrack over them in order."""
        assert self.model is not None
        detections = self.model.detect(images, self.batch_size)
        tracker = self.new_tracker(fps)
        raw: dict[int, list[tuple[Box, str]]] = {}
        keypoints: dict[tuple[float, float, float], np.ndarray] = {}
        for image, time_s, dets in zip(images, times_s, detections, strict=True):
            rows = tracker.update(grow(dets, self.association_scale), None)
            for row in rows:  # x1 y1 x2 y2 track_id score cls idx
                track_id, det_index = int(row[4]), int(row[7])
                x1, y1, x2, y2 = (float(v) for v in dets.xyxy[det_index])  # the detection, not the Kalman box
                label = self.model.names[int(dets.cls[det_index])]
                box = Box(round(time_s, 3), round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1), label,
                          track_id + id_offset, round(float(dets.conf[det_index]), 3))
                points = None if dets.keypoints is None else dets.keypoints[det_index]
                if points is not None and not np.isnan(points).all():
                    keypoints[box_key(box)] = points
                raw.setdefault(track_id + id_offset, []).append((box, self.color_of(image, (x1, y1, x2, y2), points)))
        tracklets = [Tracklet(track_id, [b for b, _ in items], [c for _, c in items])
                     for track_id, items in raw.items()]
        tracklets = merge_duplicates(tracklets, min_iou=self.duplicate_iou)
        tracklets = drop_weak(tracklets, self.min_track_frames, self.min_track_conf)
        tracklets = merge_fragments(tracklets, frame_width=images.shape[2], max_gap_s=self.merge_gap_s,
                                    recolor_gap_s=self.recolor_gap_s, still_gap_s=self.still_gap_s)
        tracks = sorted((t.to_track() for t in tracklets), key=lambda t: (t.first_s, t.track_id))
        return TrackedChunk(renumbered(tracks, id_offset), [round(t, 3) for t in times_s], len(images), keypoints)

    def color_of(self, image: np.ndarray, xyxy: tuple[float, float, float, float],
                 keypoints: np.ndarray | None) -> str:
        """The color name of one detected object (the world palette; real footage overrides this)."""
        return box_color(image, xyxy)[0]

    def new_tracker(self, fps: float) -> Any:
        """A fresh ByteTrack; ``track_buffer`` in the config is in frames at 30 fps, scaled to ``fps``."""
        from vidagent.offline import prepare_ultralytics  # noqa: PLC0415

        prepare_ultralytics()  # before ultralytics' first import: offline, or it looks up a host to test the network
        from ultralytics.trackers.byte_tracker import BYTETracker  # noqa: PLC0415
        from ultralytics.utils import YAML, IterableSimpleNamespace  # noqa: PLC0415

        config = IterableSimpleNamespace(**YAML.load(self.tracker_config))
        config.track_buffer = max(2, math.ceil(config.track_buffer * fps / 30.0))
        return BYTETracker(config)


def grow(dets: Detections, scale: float) -> Detections:
    """The same detections with boxes scaled about their centres (for IoU association only)."""
    if scale == 1.0 or not len(dets):
        return dets
    centre = (dets.xyxy[:, :2] + dets.xyxy[:, 2:]) / 2
    half = (dets.xyxy[:, 2:] - dets.xyxy[:, :2]) * scale / 2
    return Detections(np.concatenate([centre - half, centre + half], axis=1), dets.conf, dets.cls)
