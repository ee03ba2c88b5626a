"""``list_segments``: the coarse view of a video from its index, for the planner to zoom in from.

Deep Video Discovery's "global browse" and VideoTree's coarse level: one call lists the shots of a span
(cuts from the index's shots layer) with what the index saw in each (objects, scene tags, text), at most
``MAX_SEGMENTS`` of them: a long stretch is split, many short shots are grouped. Calling it again on one
segment lists what is inside that segment, so a one-hour video is narrowed to a moment in two or three
calls, none of which decodes the video again once it is indexed.
"""

from __future__ import annotations

from vidagent.tools.base import Tool
from vidagent.tools.indexing import shot_cuts, shots_of
from vidagent.tools.results import Segment, SegmentsResult, TimeSpan
from vidagent.tools.video import VideoSession

INDEX_TOOL_NAMES = ("list_segments",)
MAX_SEGMENTS = 8  # lines per call: the observation stays under its 700 characters
MAX_CLASSES, MAX_TAGS, MAX_TEXTS = 3, 2, 2
MIN_SPLIT_S = 20.0  # a shot shorter than this is never split: it is one thing to look at


def boundaries(start_s: float, end_s: float, cuts: list[float], most: int = MAX_SEGMENTS) -> tuple[list[float], bool]:
    """Segment edges from the cuts inside the span: neighbours grouped when there are more than ``most``,
    the longest split in halves while there are fewer and one is over twice the even share (and
    ``MIN_SPLIT_S``)."""
    shortest = min(1.0, (end_s - start_s) / (4 * most))  # a sliver at an edge is no segment of its own
    edges = [start_s]
    for cut in sorted(c for c in cuts if start_s + shortest <= c <= end_s - shortest):
        if cut - edges[-1] >= shortest:
            edges.append(cut)
    edges.append(end_s)
    merged = False
    if len(edges) - 1 > most:  # keep the cuts nearest to ``most`` even steps
        inner = edges[1:-1]
        step = (end_s - start_s) / most
        chosen = sorted({min(inner, key=lambda c: abs(c - (start_s + k * step))) for k in range(1, most)})
        edges, merged = [start_s, *chosen, end_s], True
    share = (end_s - start_s) / most
    while len(edges) - 1 < most:
        widths = [b - a for a, b in zip(edges, edges[1:], strict=False)]
        longest = max(range(len(widths)), key=widths.__getitem__)
        if widths[longest] <= max(2 * share, MIN_SPLIT_S):
            break
        edges.insert(longest + 1, round(edges[longest] + widths[longest] / 2, 2))
    return edges, merged


class SegmentTools:
    """``list_segments`` over a perception backend with a detector (and, for real footage, scene tags/text)."""

    def __init__(self, perception):
        self.perception = perception

    def tools(self) -> list[Tool]:
        return [Tool(getattr(self, name), fingerprint=self.fingerprint) for name in INDEX_TOOL_NAMES]

    def fingerprint(self) -> str:
        return f"segments-v1:{self.perception.name}:{self.perception.fingerprint()}"

    def list_segments(self, video: VideoSession, start_s: float = 0.0, end_s: float | None = None) -> SegmentsResult:
        """List the shots of a time span, each with the objects, scene and text seen in it: the overview of a
        long video; call it again on one segment to see inside it.

        Args:
            start_s: Start of the span in seconds (default: the start of the video).
            end_s: End of the span in seconds (default: the end of the video).
        """
        start_s, end_s = video.ref.check_range(start_s, video.ref.duration_s if end_s is None else end_s)
        detector = self.perception.detector
        first, last = int(start_s // detector.chunk_s), int(max(start_s, end_s - 1e-6) // detector.chunk_s)
        chunks = [shots_of(video, detector, c) for c in range(first, last + 1)]
        cuts = [c for c in shot_cuts(chunks) if start_s < c < end_s]
        edges, merged = boundaries(start_s, end_s, cuts)
        segments = [self._segment(video, a, b) for a, b in zip(edges, edges[1:], strict=False)]
        return SegmentsResult(TimeSpan(start_s, end_s), segments, len(cuts), merged)

    def _segment(self, video: VideoSession, start_s: float, end_s: float) -> Segment:
        counts: dict[str, int] = {}
        for track in self.perception.sighting(video, start_s, end_s).tracks:
            counts[track.label] = counts.get(track.label, 0) + 1
        top = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_CLASSES])
        tags: list[str] = []
        texts: list[str] = []
        if hasattr(self.perception, "indexed_scenes"):
            scenes = [s for s in self.perception.indexed_scenes(video, start_s, end_s) if start_s <= s.t_s < end_s]
            totals: dict[str, float] = {}
            for scene in scenes:
                for tag in scene.tags:
                    totals[tag.name] = totals.get(tag.name, 0.0) + tag.score
                for line in scene.texts:
                    if line.text not in texts and len(texts) < MAX_TEXTS:
                        texts.append(line.text)
            tags = sorted(totals, key=lambda name: -totals[name])[:MAX_TAGS]
        return Segment(round(start_s, 2), round(end_s, 2), top, tags, texts)
