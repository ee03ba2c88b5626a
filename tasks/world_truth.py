"""``WorldTruth``: the perception backend that answers from a world video's ground truth.

Exact and instant (a call costs microseconds, no frame is decoded), so GRPO rollouts on a 2-core CPU are
affordable, and oracle programs on it give every question's exact answer. It is only a backend: the
default tools (``vidagent.tools.default_tools``) make the observations, so the planner reads the same
class names, error texts and fields as from the models (the parity tests hold them together).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from vidagent.errors import ToolError
from vidagent.tasks.world.config import CLASSES
from vidagent.tasks.world.truth import GroundTruth
from vidagent.tools.perception import Sighting
from vidagent.tools.results import Box, ScoredLabel, ScoredSpan, Track
from vidagent.tools.video import VideoRef, VideoSession
from vidagent.words import canonical

_STOP_WORDS = frozenset({"the", "a", "an", "is", "does", "do", "when", "on", "of"})


def truth_video_ref(truth: GroundTruth) -> VideoRef:
    """A ``VideoRef`` for a ground truth without its video file (a world generated without videos)."""
    return VideoRef(path=f"world-truth:{truth.video_id}", sha256=f"world-truth:{truth.video_id}:{truth.seed}",
                    fps=float(truth.fps), frame_count=truth.num_frames, duration_s=truth.duration_s,
                    width=truth.width, height=truth.height, codec="none")


class WorldTruth:
    """Ground truth of the videos in ``truths`` (keyed by ``VideoRef.path``: the resolved file path, or
    ``truth_video_ref(truth).path``)."""

    name = "world-truth"

    def __init__(self, truths: Mapping[str, GroundTruth]):
        self.truths = dict(truths)

    def truth(self, video: VideoSession) -> GroundTruth:
        found = self.truths.get(video.ref.path) or self.truths.get(str(Path(video.ref.path).resolve()))
        if found is None:
            raise ToolError(f"no ground truth for {video.ref.path}",
                            "the world-truth tools answer only the videos of their world; use --tools world "
                            "for other videos")
        return found

    def fingerprint(self) -> str:
        return "truth"

    def classes(self) -> Sequence[str]:
        return CLASSES

    def sighting(self, video: VideoSession, start_s: float, end_s: float) -> Sighting:
        gt = self.truth(video)
        frames = gt.frames_in(start_s, end_s)
        boxes: dict[int, list[Box]] = {}
        for k in frames:
            for tid, (_, x1, y1, x2, y2, _) in gt.visible_at(k).items():
                boxes.setdefault(tid, []).append(Box(round(k / gt.fps, 3), x1, y1, x2, y2, gt.object(tid).category,
                                                     tid))
        tracks = []
        for tid in sorted(boxes):
            obj, seen = gt.object(tid), boxes[tid]
            tracks.append(Track(tid, obj.category, obj.color, seen[0].t_s, seen[-1].t_s, seen))
        return Sighting(tracks, [round(k / gt.fps, 3) for k in frames], frames_used=len(frames))

    def actions(self, video: VideoSession, start_s: float, end_s: float, tracks: list[Track]) -> list[ScoredLabel]:
        """Per track, the share of its frames in the span spent on each action; each label scores its best."""
        gt = self.truth(video)
        frames = gt.frames_in(start_s, end_s)
        best: dict[str, float] = {}
        for track in tracks:
            overlap: dict[str, int] = {}
            for seg in gt.segments_of(track.track_id):
                n = len(range(max(seg.start_frame, frames.start), min(seg.end_frame, frames.stop)))
                if n > 0:
                    overlap[seg.action] = overlap.get(seg.action, 0) + n
            total = sum(overlap.values()) or 1
            for label, n in overlap.items():
                best[label] = max(best.get(label, 0.0), round(n / total, 3))
        return [ScoredLabel(label, score) for label, score in sorted(best.items(), key=lambda item: (-item[1], item[0]))]

    def moments(self, video: VideoSession, query: str, top_k: int) -> list[ScoredSpan]:
        """Captions of segments and events scored by word overlap with the query (1.0 for the caption)."""
        gt = self.truth(video)
        wanted = " ".join(query.lower().strip(" .?!").split())
        tokens = _tokens(query)
        moments = [(s.caption, s.start_s, s.end_s) for s in gt.segments]
        moments += [(e.caption, e.t_s, round(e.t_s + 1.0 / gt.fps, 3)) for e in gt.events]
        scored: list[ScoredSpan] = []
        for caption, start, end in moments:
            if caption == wanted:
                score = 1.0
            else:
                other = _tokens(caption)
                score = 0.8 * len(tokens & other) / max(len(tokens | other), 1)
            if score > 0:
                scored.append(ScoredSpan(start, end, round(score, 3)))
        scored.sort(key=lambda s: (-s.score, s.start_s))
        unique: list[ScoredSpan] = []
        for span in scored:
            if all((span.start_s, span.end_s) != (u.start_s, u.end_s) for u in unique):
                unique.append(span)
        return unique[:top_k]


def _tokens(text: str) -> set[str]:
    return {canonical(w) for w in re.findall(r"[a-z]+", text.lower())} - _STOP_WORDS
