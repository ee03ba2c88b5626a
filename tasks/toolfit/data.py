"""World videos paired with their ground truth, for training and evaluating the default tools.

A world directory (``vidagent world generate``) is read with the world's own loader
(``vidagent.tasks.world.generate.load_world``) into its own schema (``vidagent.tasks.world.truth.GroundTruth``);
``WorldVideo`` only pairs one video file with its ``GroundTruth`` and adds the per-video lookups the trainers
use. Visibility is the world's convention (``WorldObject.visible_boxes``), not a copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vidagent.errors import ConfigError

if TYPE_CHECKING:
    from vidagent.tasks.world.generate import World
    from vidagent.tasks.world.truth import FrameBox, GroundTruth

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class WorldVideo:
    """One world video file and its ground truth."""

    video: Path
    truth: GroundTruth

    @property
    def fps(self) -> float:
        return float(self.truth.fps)

    def visible_boxes(self, frame: int) -> list[tuple[int, str, str, Box]]:
        """(track_id, class, color, box) of the objects visible in ``frame``."""
        visible = self.truth.visible_at(frame)
        return [(obj.track_id, obj.category, obj.color, tuple(visible[obj.track_id][1:5]))
                for obj in self.truth.objects if obj.track_id in visible]

    def visible_frames(self, category: str) -> list[int]:
        """Frames in which at least one object of ``category`` is visible."""
        return sorted({box[0] for obj in self.truth.objects if obj.category == category
                       for box in obj.visible_boxes()})

    def box_table(self, track_id: int, visible: bool = False) -> dict[int, tuple[float, float, float, float, float]]:
        """frame -> (x1, y1, x2, y2, occluded) of one object: every on-screen frame, or with ``visible`` only
        the frames in which it is visible."""
        obj = self.truth.object(track_id)
        boxes: list[FrameBox] = obj.visible_boxes() if visible else obj.boxes
        return {box[0]: tuple(box[1:]) for box in boxes}


def world_videos(world: World, splits: tuple[str, ...] | None = None, limit: int | None = None) -> list[WorldVideo]:
    """The videos of a loaded world (sorted by id); with ``splits``, only those of these splits."""
    chosen = sorted(video_id for name, ids in world.manifest.get("splits", {}).items()
                    if splits is None or name in splits for video_id in ids)
    if not chosen:
        others = sorted(name for name, ids in world.manifest.get("splits", {}).items() if ids)
        if splits is not None and others:
            raise ConfigError(f"no {'/'.join(splits)} videos under {world.root} (it has {', '.join(others)})",
                              "pass a world directory that has that split, or generate more videos")
        raise ConfigError(f"no world videos under {world.root}",
                          f"generate them: vidagent world generate --videos 100 --seed 0 --out {world.root}")
    chosen = chosen[:limit] if limit is not None else chosen
    return [WorldVideo(world.video_path(video_id), world.truths[video_id]) for video_id in chosen]


# Videos a trainer's defaults need: train_detector / train_action hold out 40 train videos for validation
# and ~80% of a world's videos are train videos (vidagent.tasks.splits)
WORLD_VIDEOS_NEEDED = {"detector": 100, "action": 100, "clip": 20}


def too_small_world(trainer: str) -> str:
    """The fix for a world too small to train ``trainer`` on: how big a world to generate."""
    videos = WORLD_VIDEOS_NEEDED[trainer]
    return (f"generate a bigger world, e.g. vidagent world generate --videos {videos} --seed 0 --out "
            f"data/world_train (the shipped weights used 600 videos)")


def load_videos(directory: str | Path, splits: tuple[str, ...] | None = None,
                limit: int | None = None) -> list[WorldVideo]:
    """Load the world in ``directory`` and return its videos (see ``world_videos``)."""
    from vidagent.tasks.world.generate import load_world  # noqa: PLC0415  (keeps `vidagent --help` light)

    return world_videos(load_world(directory), splits, limit)


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
