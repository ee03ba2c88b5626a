"""Reading world videos and their ground truth for training and evaluating the default tools.

A world directory holds ``<video_id>.mp4`` + ``<video_id>.json`` pairs (``vidagent world generate``).
The JSON is read as plain data here (the schema lives in ``vidagent.tasks.world.truth``), so the tools
package keeps depending on nothing else in the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidagent.errors import ConfigError

# The world's vocabulary, in the order the default models use (vidagent.tasks.world.config).
WORLD_CLASSES = ("person", "car", "bicycle", "dog", "ball", "bird", "box")
WORLD_ACTIONS = ("walk", "run", "jump", "fall", "lie", "stand", "wave", "drive", "ride", "stop", "still",
                 "roll", "bounce", "slide", "fly")
MAX_OCCLUDED = 0.8  # a box more hidden than this is not visible (the world's convention)


@dataclass
class WorldVideo:
    video: Path
    truth: dict[str, Any]

    @property
    def fps(self) -> float:
        return float(self.truth["fps"])

    def visible_boxes(self, frame: int) -> list[tuple[int, str, str, tuple[float, float, float, float]]]:
        """(track_id, class, color, box) of the objects visible in ``frame``."""
        out = []
        for obj in self.truth["objects"]:
            for f, x1, y1, x2, y2, occluded in obj["boxes"]:
                if f == frame and occluded < MAX_OCCLUDED:
                    out.append((obj["track_id"], obj["category"], obj["color"], (x1, y1, x2, y2)))
        return out

    def visible_frames(self, category: str) -> list[int]:
        """Frames in which at least one object of ``category`` is visible."""
        return sorted({b[0] for obj in self.truth["objects"] if obj["category"] == category
                       for b in obj["boxes"] if b[5] < MAX_OCCLUDED})

    def box_table(self, track_id: int) -> dict[int, tuple[float, float, float, float, float]]:
        """frame -> (x1, y1, x2, y2, occluded) of one object."""
        obj = next(o for o in self.truth["objects"] if o["track_id"] == track_id)
        return {b[0]: tuple(b[1:]) for b in obj["boxes"]}


def load_world(directory: str | Path, limit: int | None = None,
               splits: tuple[str, ...] | None = None) -> list[WorldVideo]:
    """Every video + ground truth pair in ``directory`` (sorted by id); with ``splits``, only those whose
    ground truth names one of them (videos without a split are kept)."""
    root = Path(directory)
    files = sorted(p for p in root.rglob("*.json") if not p.name.startswith(("questions", "manifest", "index")))
    videos = []
    other_splits: set[str] = set()
    for path in files:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or "objects" not in data or "video_file" not in data:
            continue  # question files and manifests live next to the truth files
        if splits is not None and data.get("split") is not None and data["split"] not in splits:
            other_splits.add(data["split"])
            continue
        videos.append(WorldVideo(path.parent / data["video_file"], data))
        if limit is not None and len(videos) >= limit:
            break
    if not videos and other_splits:
        raise ConfigError(f"no {'/'.join(splits or ())} videos under {root} (it has {', '.join(sorted(other_splits))})",
                          "pass a world directory that has that split, or generate more videos")
    if not videos:
        raise ConfigError(f"no world videos (mp4 + ground-truth json) under {root}",
                          f"generate them: vidagent world generate --videos 100 --seed 0 --out {root}")
    return videos


def read_frames(video: Path, indices: list[int]) -> np.ndarray:
    """Decode frames by index. [N,H,W,3] uint8 RGB"""
    from vidagent.tools.video import VideoRef, decode_frames  # noqa: PLC0415

    return decode_frames(VideoRef.open(video), indices)


def time_schedule(peak: float, elapsed_s: float, budget_s: float, step_share: float) -> float:
    """Warm-up then cosine decay over whichever runs out first, the time budget or the steps, so a run
    slowed down by a busy machine still ends annealed."""
    progress = min(1.0, max(elapsed_s / budget_s, step_share))
    if progress < 0.05:
        return peak * (0.1 + 0.9 * progress / 0.05)
    return peak * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * (progress - 0.05) / 0.95)))
