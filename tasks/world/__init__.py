"""The world: procedural videos with ground truth (see docs/world.md)."""

from vidagent.tasks.world.config import ACTIONS, BACKGROUNDS, CLASSES, COLORS, EVENTS, WorldConfig
from vidagent.tasks.world.truth import GroundTruth, load_ground_truth

__all__ = ["ACTIONS", "BACKGROUNDS", "CLASSES", "COLORS", "EVENTS", "GroundTruth", "WorldConfig",
           "load_ground_truth"]
