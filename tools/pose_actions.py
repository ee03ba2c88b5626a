"""What real people do, read from keypoint tracks by rules; how other objects move, from their boxes.

No video action model installs offline (see the README's models table), so actions of people come from
YOLO11n-pose's 17 COCO keypoints over time: body geometry (torso and thigh angles) says lie / sit / stand,
motion of the hips in body heights per second says walk / run, wrists above the shoulders say wave, the
whole body rising and coming back says jump, upright then lying says fall, a bicycle or motorcycle under the
person says ride. Scores are ramps in [0, 1], not probabilities. Motion is measured in the image, so a
moving camera reads as motion (the known weakness of rules without ego-motion compensation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidagent.tools.results import ScoredLabel, Track, xyxy_iou

# COCO-pose keypoint indices
NOSE, L_SHOULDER, R_SHOULDER, L_WRIST, R_WRIST = 0, 5, 6, 9, 10
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 11, 12, 13, 14, 15, 16
VISIBLE = 0.5  # keypoint confidence that counts as seen
PERSON_ACTIONS = ("walk", "run", "stand", "sit", "lie", "fall", "jump", "wave", "ride")
MOVING = ("moving-left", "moving-right", "approaching", "receding")  # an object's labels other than "still"


@dataclass
class PoseFrame:
    t_s: float
    box: tuple[float, float, float, float]
    keypoints: np.ndarray  # [17, 3]


def _ramp(value: float, low: float, high: float) -> float:
    """0 below ``low``, 1 above ``high``, linear between."""
    if high == low:
        return float(value >= high)
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _mid(points: np.ndarray, a: int, b: int) -> np.ndarray | None:
    seen = [points[i, :2] for i in (a, b) if points[i, 2] >= VISIBLE]
    return np.mean(seen, axis=0) if seen else None


def _angle_from_vertical(top: np.ndarray | None, bottom: np.ndarray | None) -> float | None:
    if top is None or bottom is None:
        return None
    dx, dy = bottom - top
    return float(np.degrees(np.arctan2(abs(dx), abs(dy) + 1e-6)))


def person_actions(frames: list[PoseFrame], vehicles: list[Track] | None = None) -> list[ScoredLabel]:
    """Scored actions of one person over time (frames sorted by time), best first."""
    if not frames:
        return []
    heights = np.array([f.box[3] - f.box[1] for f in frames])
    height = float(np.median(heights)) or 1.0
    torso, thigh, lying_shape = [], [], []
    hips, raised, wrist_x = [], [], []
    for f in frames:
        k = f.keypoints
        shoulders, hip = _mid(k, L_SHOULDER, R_SHOULDER), _mid(k, L_HIP, R_HIP)
        torso.append(_angle_from_vertical(shoulders, hip))
        knee = _mid(k, L_KNEE, R_KNEE)
        thigh.append(_angle_from_vertical(hip, knee))
        width = f.box[2] - f.box[0]
        lying_shape.append(width / max(1.0, f.box[3] - f.box[1]))
        centre = hip if hip is not None else np.array([(f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2])
        hips.append((f.t_s, centre))
        up = [w for w, s in ((L_WRIST, L_SHOULDER), (R_WRIST, R_SHOULDER))
              if k[w, 2] >= VISIBLE and k[s, 2] >= VISIBLE and k[w, 1] < k[s, 1] - 0.05 * height]
        raised.append(bool(up))
        wrist_x.append(float(k[up[0], 0]) if up else np.nan)
    lie_now = [(_ramp(a, 45, 70) if a is not None else 0.0) * 0.7 + 0.3 * _ramp(r, 1.0, 1.6)
               for a, r in zip(torso, lying_shape, strict=True)]
    lie = float(np.median(lie_now))
    thighs = [a for a in thigh if a is not None]
    sit = _ramp(float(np.median(thighs)), 35, 65) * (1 - lie) if thighs else 0.0
    # hip speed in body heights per second, over the whole track (robust to one bad keypoint frame)
    speed = 0.0
    if len(hips) >= 2 and hips[-1][0] > hips[0][0]:
        steps = [np.linalg.norm(b[1] - a[1]) / max(1e-3, b[0] - a[0]) for a, b in zip(hips, hips[1:])]
        net = np.linalg.norm(hips[-1][1] - hips[0][1]) / (hips[-1][0] - hips[0][0])
        speed = float(min(np.median(steps), 1.5 * net + 0.2)) / height
    upright = 1 - max(lie, sit)
    moving = _ramp(speed, 0.15, 0.4)
    run = upright * _ramp(speed, 0.9, 1.6)
    walk = upright * moving * (1 - run)
    stand = upright * (1 - moving)
    scores = {"walk": walk, "run": run, "stand": stand, "sit": sit, "lie": lie}
    share_raised = float(np.mean(raised))
    swing = float(np.nanstd(wrist_x)) / height if sum(raised) >= 2 else 0.0
    scores["wave"] = _ramp(share_raised, 0.2, 0.5) * (0.5 + 0.5 * _ramp(swing, 0.02, 0.08))
    if len(lie_now) >= 3:
        third = max(1, len(lie_now) // 3)
        scores["fall"] = float(np.clip(np.mean(lie_now[-third:]) - np.mean(lie_now[:third]), 0, 1))
    if len(hips) >= 3:  # the body rises by a good part of its height and comes back down
        ys = np.array([c[1] for _, c in hips])
        rise = (np.median(ys) - ys.min()) / height
        back = ys[-1] - ys.min() > 0.5 * (np.median(ys) - ys.min())
        scores["jump"] = _ramp(rise, 0.12, 0.3) * float(back) * upright
    if vehicles:
        scores["ride"] = max(_riding(frames, v) for v in vehicles)
    if all(a is None for a in torso):  # no torso seen: only the box moved; say so with lower confidence
        scores = {k: v * 0.6 for k, v in scores.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    return [ScoredLabel(label, round(score, 2)) for label, score in ranked if score > 0.05]


def _riding(frames: list[PoseFrame], vehicle: Track) -> float:
    """Share of the person's frames with the vehicle's box overlapping their lower half."""
    by_time = {b.t_s: b for b in vehicle.boxes}
    hits, seen = 0, 0
    for f in frames:
        box = min(by_time.values(), key=lambda b: abs(b.t_s - f.t_s), default=None)
        if box is None or abs(box.t_s - f.t_s) > 0.6:
            continue
        seen += 1
        x1, y1, x2, y2 = f.box
        lower = (x1, (y1 + y2) / 2, x2, y2 + 0.3 * (y2 - y1))
        hits += xyxy_iou(lower, (box.x1, box.y1, box.x2, box.y2)) > 0.15
    return round(hits / seen, 2) if seen else 0.0


def object_motion(track: Track) -> list[ScoredLabel]:
    """How a non-person object moves: still, moving-left, moving-right, approaching or receding (boxes)."""
    boxes = track.boxes
    if len(boxes) < 2 or boxes[-1].t_s <= boxes[0].t_s:
        return [ScoredLabel("still", 0.5)]
    duration = boxes[-1].t_s - boxes[0].t_s
    width = float(np.median([b.x2 - b.x1 for b in boxes])) or 1.0
    dx = ((boxes[-1].x1 + boxes[-1].x2) - (boxes[0].x1 + boxes[0].x2)) / 2
    scale = (boxes[-1].x2 - boxes[-1].x1) / max(1.0, boxes[0].x2 - boxes[0].x1)
    speed = abs(dx) / width / duration  # object widths per second
    moving = max(_ramp(speed, 0.1, 0.5), _ramp(abs(np.log(scale)) / duration, 0.1, 0.4))
    labels = [ScoredLabel("still", round(1 - moving, 2))]
    if moving > 0.05:
        direction = ("moving-right" if dx > 0 else "moving-left") if speed >= abs(np.log(scale)) / duration \
            else ("approaching" if scale > 1 else "receding")  # one token per label, as the world's actions
        labels.append(ScoredLabel(direction, round(moving, 2)))
    return sorted(labels, key=lambda s: -s.score)
