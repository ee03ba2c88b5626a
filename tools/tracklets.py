"""From ByteTrack's raw tracks to one track per object: the clean-up ``detect_objects`` runs before counting.

ByteTrack on a few frames per second breaks one object into several ids and, now and then, follows one
object twice. Counts are "distinct tracks per class", so each of these errors is an over-count. Measured on
the world's val split (``data`` of ``vidagent world generate``, 56 videos), the errors were:

* **duplicates**: one object detected as two classes at once (a white ball that is also a box), each
  tracked on its own: same boxes at the same times;
* **fragments whose color changed**: a person walking away shrinks to a few pixels and its color reads
  "black" (the few pixels left were its dark pants and hair), so the old rule "merge only same-color fragments" kept them apart;
* **fragments after a long occlusion**: hidden for more than ``max_gap_s``, re-found where it was hidden;
* **weak tracks**: a few low-confidence boxes on background texture.

Colors are voted with each box weighted by its area, so a track's color comes from where it was seen big.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from vidagent.tools.results import Box, Track, xyxy_iou


@dataclass
class Tracklet:
    """A track under construction: its boxes and the color read from each box."""

    track_id: int
    boxes: list[Box] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)

    @property
    def first_s(self) -> float:
        return self.boxes[0].t_s

    @property
    def last_s(self) -> float:
        return self.boxes[-1].t_s

    @property
    def label(self) -> str:
        """The class seen most often, ties broken by summed confidence."""
        weight: dict[str, tuple[int, float]] = {}
        for b in self.boxes:
            n, conf = weight.get(b.label, (0, 0.0))
            weight[b.label] = (n + 1, conf + b.score)
        return max(weight, key=lambda label: weight[label])

    @property
    def color(self) -> str:
        return area_vote(self.boxes, self.colors)

    @property
    def mean_conf(self) -> float:
        return float(np.mean([b.score for b in self.boxes]))

    def absorb(self, other: Tracklet, skip_shared_times: bool = False) -> None:
        """Take ``other``'s boxes (renumbered to this id), keeping time order."""
        mine = {b.t_s for b in self.boxes}
        pairs = [(Box(b.t_s, b.x1, b.y1, b.x2, b.y2, b.label, self.track_id, b.score), c)
                 for b, c in zip(other.boxes, other.colors, strict=True)
                 if not (skip_shared_times and b.t_s in mine)]
        merged = sorted([*zip(self.boxes, self.colors, strict=True), *pairs], key=lambda bc: bc[0].t_s)
        self.boxes, self.colors = [b for b, _ in merged], [c for _, c in merged]

    def to_track(self) -> Track:
        label = self.label
        boxes = [Box(b.t_s, b.x1, b.y1, b.x2, b.y2, label, self.track_id, b.score) for b in self.boxes]
        return Track(self.track_id, label, self.color, self.first_s, self.last_s, boxes)


def area_vote(boxes: list[Box], colors: list[str]) -> str:
    """The color with the largest summed box area ("unknown" only when nothing else was read)."""
    votes: dict[str, float] = {}
    for b, color in zip(boxes, colors, strict=True):
        if color != "unknown":
            votes[color] = votes.get(color, 0.0) + max(1.0, (b.x2 - b.x1) * (b.y2 - b.y1))
    return max(votes, key=lambda c: votes[c]) if votes else "unknown"


def _xyxy(b: Box) -> tuple[float, float, float, float]:
    return b.x1, b.y1, b.x2, b.y2


def merge_duplicates(tracklets: list[Tracklet], min_iou: float = 0.5, min_shared: int = 2) -> list[Tracklet]:
    """Fold a tracklet into a longer one that has boxes over it (mean IoU >= ``min_iou`` over at least
    ``min_shared`` common times), whatever the classes: one object seen as two classes is one object."""
    kept: list[Tracklet] = []
    for t in sorted(tracklets, key=lambda t: -len(t.boxes)):
        at = {b.t_s: b for b in t.boxes}
        host = None
        for longer in kept:
            ious = [xyxy_iou(_xyxy(b), _xyxy(at[b.t_s])) for b in longer.boxes if b.t_s in at]
            if len(ious) >= min(min_shared, len(t.boxes)) and ious and float(np.mean(ious)) >= min_iou:
                host = longer
                break
        if host is None:
            kept.append(t)
        else:
            host.absorb(t, skip_shared_times=True)
    return sorted(kept, key=lambda t: t.first_s)


def drop_weak(tracklets: list[Tracklet], min_frames: int, min_conf: float) -> list[Tracklet]:
    """Tracklets seen on fewer than ``min_frames`` samples, or with a mean confidence below ``min_conf``."""
    return [t for t in tracklets if len(t.boxes) >= min_frames and t.mean_conf >= min_conf]


def merge_fragments(tracklets: list[Tracklet], frame_width: int, max_gap_s: float = 3.0,
                    max_speed: float = 0.5, recolor_gap_s: float = 1.0,
                    still_gap_s: float = 8.0) -> list[Tracklet]:
    """Join fragments of one object: same class, the later one starting shortly after the earlier ended and
    near enough for the object to have moved there (at most ``max_speed`` frame widths per second, plus one
    box size). Same color: within ``max_gap_s``. Another color (colors of small boxes are unreliable): only
    a tight join, within ``recolor_gap_s``. An object re-found at the very place it was lost (within one box
    size) may have been hidden up to ``still_gap_s``."""
    merged: list[Tracklet] = []
    for t in sorted(tracklets, key=lambda t: t.first_s):
        target = None
        for earlier in merged:
            gap = t.first_s - earlier.last_s
            # a small negative gap: an id switch where the old track lingered a frame
            if earlier.label != t.label or gap <= -0.45:
                continue
            a, b = earlier.boxes[-1], t.boxes[0]
            distance = math.hypot((a.x1 + a.x2 - b.x1 - b.x2) / 2, (a.y1 + a.y2 - b.y1 - b.y2) / 2)
            size = max(a.x2 - a.x1, a.y2 - a.y1, b.x2 - b.x1, b.y2 - b.y1)
            reachable = distance <= size + frame_width * max_speed * max(gap, 0.0)
            same_color = earlier.color == t.color
            if ((same_color and gap <= max_gap_s and reachable) or (gap <= recolor_gap_s and reachable)
                    or (same_color and gap <= still_gap_s and distance <= size)):
                target = earlier
                break
        if target is None:
            merged.append(Tracklet(t.track_id, list(t.boxes), list(t.colors)))
        else:
            target.absorb(t, skip_shared_times=True)
    return merged
