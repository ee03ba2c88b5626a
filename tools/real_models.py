"""``RealModels``: the perception backend for real footage, from pretrained models that install offline.

* objects and people: ``RealDetector`` (COCO SSD-MobileNetV2 + YOLO11n-pose, ByteTrack, natural colors);
* actions: keypoint rules for people, box motion for other objects (``vidagent.tools.pose_actions``);
* moments: the query's words resolved to objects, actions, scene tags and on-screen text
  (``vidagent.tools.real_grounding``);
* scene tags (EfficientNet-Lite3) and text (PP-OCRv6) for ``describe_frame``, ``tag_scene`` and
  ``read_text`` (``vidagent.tools.scene_models``).

Every model loads on first use; a missing package fails only the tools that need it, with its pip line.
"""

from __future__ import annotations

from collections.abc import Sequence
import time
from dataclasses import dataclass

import numpy as np

from vidagent.tools.coco import CLASS_ALIASES
from vidagent.tools.detector import box_key
from vidagent.tools.memo import Memo
from vidagent.tools.perception import Sighting
from vidagent.tools.pose_actions import MOVING, PoseFrame, object_motion, person_actions
from vidagent.tools.real_detector import RealDetector
from vidagent.tools.real_grounding import parse_query, require_concepts, spans_from_scores
from vidagent.tools.results import ScoredLabel, ScoredSpan, Track
from vidagent.tools.scene_models import SceneTagger, Tag, TextLine, TextReader
from vidagent.tools.video import VideoSession

VEHICLES_RIDDEN = ("bicycle", "motorcycle", "horse")
SCENE_FPS = 1.0  # tags and text are sampled at this rate for moments and tags (OCR costs 0.05-0.9 s a frame)
TEXT_FPS = 4.0  # read_text samples denser: a sign is often on screen for under a second
MAX_SCENE_FRAMES = 120  # at most this many tag/OCR frames per call: a longer span reads the index's
# The index's tag/OCR rate: SCENE_FPS up to LONG_VIDEO_S, thinner beyond (an hour at 1 frame/s is 3600 OCR
# frames, ~8 min on 2 cores; at 0.25 it is 2, which keeps the whole index of an hour under 15 minutes).
INDEX_SCENE_FPS, LONG_INDEX_SCENE_FPS, LONG_VIDEO_S = SCENE_FPS, 0.25, 300.0


@dataclass
class SceneAt:
    t_s: float
    tags: list[Tag]
    texts: list[TextLine]


class RealModels:
    """Pretrained COCO / pose / ImageNet / OCR models behind the default tools (``--tools real``)."""

    name = "real"

    def __init__(self, detector: RealDetector | None = None, tagger: SceneTagger | None = None,
                 reader: TextReader | None = None):
        self.detector = detector or RealDetector()
        self.tagger = tagger or SceneTagger()
        self.reader = reader or TextReader()
        self._scene_chunks: Memo[tuple[str, int, str], list[SceneAt]] = Memo(512)

    def fingerprint(self) -> str:
        return f"{self.detector.fingerprint()}|{self.tagger.fingerprint()}|{self.reader.fingerprint()}|actions-v1"

    def classes(self) -> Sequence[str]:
        return self.detector.class_names

    def class_aliases(self) -> dict[str, str]:
        return CLASS_ALIASES

    def sighting(self, video: VideoSession, start_s: float, end_s: float) -> Sighting:
        tracks, times, frames_used = self.detector.tracks_in_span(video, start_s, end_s)
        return Sighting(tracks, times, frames_used)

    # -- actions --------------------------------------------------------------------------------------
    def actions(self, video: VideoSession, start_s: float, end_s: float, tracks: list[Track]) -> list[ScoredLabel]:
        everything = self.sighting(video, start_s, end_s).tracks
        vehicles = [t for t in everything if t.label in VEHICLES_RIDDEN]
        best: dict[str, float] = {}
        for track in tracks:
            if track.label == "person":
                labels = person_actions(self.pose_frames(video, track), vehicles)
            else:
                labels = object_motion(track)
            for label in labels:
                best[label.label] = max(best.get(label.label, 0.0), label.score)
        return [ScoredLabel(k, v) for k, v in sorted(best.items(), key=lambda kv: -kv[1])]

    def pose_frames(self, video: VideoSession, track: Track) -> list[PoseFrame]:
        """The track's boxes with the keypoints the pose model gave them (boxes without keypoints: none)."""
        frames = []
        for box in track.boxes:
            chunk, _ = self.detector.tracked_chunk(video, int(box.t_s // self.detector.chunk_s))
            points = chunk.keypoints.get(box_key(box))
            if points is not None:
                frames.append(PoseFrame(box.t_s, (box.x1, box.y1, box.x2, box.y2), points))
        return frames

    # -- scene: tags and text -------------------------------------------------------------------------
    def scene_times(self, video: VideoSession, start_s: float, end_s: float, rate: float = SCENE_FPS
                    ) -> list[tuple[int, float, np.ndarray]]:
        """(frame index, time, RGB frame) sampled for tags/text in the span (at least one frame)."""
        duration = max(1e-3, end_s - start_s)
        fps = min(rate, MAX_SCENE_FRAMES / duration, video.ref.fps)
        if duration * fps < 1:
            middle = min(video.ref.duration_s - 1e-3, (start_s + end_s) / 2)
            frames = video.sample(middle, min(video.ref.duration_s, middle + 1e-3), count=1)
        else:
            frames = video.sample(start_s, end_s, fps=fps)
        return list(zip(frames.indices, frames.times_s, frames.images, strict=True))

    def scene_at(self, video: VideoSession, t_s: float) -> SceneAt:
        index, time_s, image = self.scene_times(video, t_s, t_s)[0]
        key = (video.ref.sha256, index)
        return SceneAt(round(time_s, 2), self.tagger.tags(key, image), self.reader.read(key, image))

    def scenes(self, video: VideoSession, start_s: float, end_s: float, *, tags: bool = True,
               texts: bool = True, rate: float = SCENE_FPS) -> list[SceneAt]:
        """Tags and text over a span: from the video's scene index when its rate is enough or the span is
        long (more than ``MAX_SCENE_FRAMES`` at ``rate``), else sampled now at ``rate`` (a closer look)."""
        index_rate = self.index_scene_rate(video)
        if rate <= index_rate or (end_s - start_s) * rate > MAX_SCENE_FRAMES:
            found = [scene for scene in self.indexed_scenes(video, start_s, end_s) if start_s <= scene.t_s < end_s]
            if found:
                return [SceneAt(s.t_s, s.tags if tags else [], s.texts if texts else []) for s in found]
        out = []
        for index, time_s, image in self.scene_times(video, start_s, end_s, rate):
            key = (video.ref.sha256, index)
            out.append(SceneAt(round(time_s, 2), self.tagger.tags(key, image) if tags else [],
                               self.reader.read(key, image) if texts else []))
        return out

    # -- the scene layer of the video index ----------------------------------------------------------------
    def index_scene_rate(self, video: VideoSession) -> float:
        rate = LONG_INDEX_SCENE_FPS if video.ref.duration_s > LONG_VIDEO_S else INDEX_SCENE_FPS
        return min(rate, video.ref.fps)

    def scene_fingerprint(self, video: VideoSession) -> str:
        return f"scene-v1:{self.tagger.fingerprint()}:{self.reader.fingerprint()}:rate={self.index_scene_rate(video):g}"

    def indexed_scenes(self, video: VideoSession, start_s: float, end_s: float) -> list[SceneAt]:
        """The index's tag/text samples of every chunk the span touches (computed now where missing)."""
        chunk_s = self.detector.chunk_s
        first, last = int(start_s // chunk_s), int(max(start_s, end_s - 1e-6) // chunk_s)
        out: list[SceneAt] = []
        for chunk_index in range(first, last + 1):
            out += self.scene_chunk(video, chunk_index)
        return out

    def scene_chunk(self, video: VideoSession, chunk_index: int) -> list[SceneAt]:
        """Tags and text of one chunk at the index's scene rate: from the index, or computed and stored."""
        fingerprint = self.scene_fingerprint(video)
        key = (video.ref.sha256, chunk_index, fingerprint)
        known = self._scene_chunks.get(key)
        index = video.index
        if known is None and index is not None:
            payload = index.get("scene", chunk_index, fingerprint)
            if payload is not None:
                known = [SceneAt(t, [Tag(name, tuple(names), score) for name, names, score in tags],
                                 [TextLine(text, score, tuple(box)) for text, score, box in texts])
                         for t, tags, texts in payload]
        elif known is not None and index is not None and not index.has("scene", chunk_index, fingerprint):
            index.put("scene", chunk_index, fingerprint, _scene_payload(known), frames=len(known))  # computed earlier
        if known is not None:
            self._scene_chunks.put(key, known)
            return known
        started = time.perf_counter()
        start = chunk_index * self.detector.chunk_s
        end = min(video.ref.duration_s, start + self.detector.chunk_s)
        frames = video.sample(start, end, fps=self.index_scene_rate(video), indexing=True)
        scenes = []
        for frame_index, time_s, image in zip(frames.indices, frames.times_s, frames.images, strict=True):
            key_i = (video.ref.sha256, frame_index)
            scenes.append(SceneAt(round(time_s, 2), self.tagger.tags(key_i, image), self.reader.read(key_i, image)))
        self._scene_chunks.put(key, scenes)
        if index is not None:
            index.put("scene", chunk_index, fingerprint, _scene_payload(scenes), frames=len(frames),
                      seconds=time.perf_counter() - started)
        return scenes

    # -- moments --------------------------------------------------------------------------------------
    def moments(self, video: VideoSession, query: str, top_k: int) -> list[ScoredSpan]:
        parsed = parse_query(query, self.tagger.words())
        require_concepts(query, parsed)
        kinds = {c.kind for c in parsed.concepts} | ({"tag"} if any(c.tag for c in parsed.concepts) else set())
        end = video.ref.duration_s
        seen = self.sighting(video, 0.0, end)
        times = sorted(seen.times_s)
        step = times[1] - times[0] if len(times) > 1 else end
        scenes = (self.scenes(video, 0.0, end, tags="tag" in kinds, texts="text" in kinds)
                  if kinds & {"tag", "text"} else [])
        actions = self._actions_by_time(video, seen.tracks, times) if kinds & {"action", "motion"} else {}
        scores = []
        for t in times:
            scene = min(scenes, key=lambda s: abs(s.t_s - t)) if scenes else None
            here = [tr for tr in seen.tracks if any(abs(b.t_s - t) < 1e-6 for b in tr.boxes)]
            parts = [self._holds(c, here, scene, actions.get(t, {})) for c in parsed.concepts]
            scores.append(float(np.mean(parts)))
        return [ScoredSpan(s, e, score) for s, e, score in spans_from_scores(times, scores, step, end, top_k)]

    def _actions_by_time(self, video: VideoSession, tracks: list[Track], times: list[float]
                         ) -> dict[float, dict[str, float]]:
        """Action scores in a 2 s window around each sampled time, best over the tracks there."""
        out: dict[float, dict[str, float]] = {}
        for t in times:
            window = [Track(tr.track_id, tr.label, tr.color, tr.first_s, tr.last_s,
                            [b for b in tr.boxes if abs(b.t_s - t) <= 1.0]) for tr in tracks]
            window = [tr for tr in window if tr.boxes and any(abs(b.t_s - t) < 1e-6 for b in tr.boxes)]
            if window:
                out[t] = {a.label: a.score for a in self.actions(video, max(0.0, t - 1.0), t + 1.0, window)}
        return out

    @staticmethod
    def _holds(concept, tracks: list[Track], scene: SceneAt | None, actions: dict[str, float]) -> float:
        if concept.kind == "object":
            seen = any((not concept.value or t.label == concept.value)
                       and (concept.color is None or t.color == concept.color) for t in tracks)
            tagged = concept.tag is not None and scene is not None and _tagged(scene, concept.tag)
            return float(seen or tagged)
        if concept.kind == "action":
            return actions.get(concept.value, 0.0)
        if concept.kind == "motion":
            labels = MOVING if concept.value == "moving" else ("still",)
            return max((actions.get(label, 0.0) for label in labels), default=0.0)
        if scene is None:
            return 0.0
        if concept.kind == "tag":
            return float(_tagged(scene, concept.value))
        if not concept.value:
            return float(bool(scene.texts))
        return float(any(concept.value in line.text.lower() for line in scene.texts))


def _scene_payload(scenes: list[SceneAt]) -> list:
    return [[s.t_s, [[t.name, list(t.synonyms), t.score] for t in s.tags],
             [[line.text, line.score, [round(v, 1) for v in line.box]] for line in s.texts]] for s in scenes]


def _tagged(scene: SceneAt, word: str) -> bool:
    return any(word in name.lower().split() for tag in scene.tags for name in tag.synonyms)
