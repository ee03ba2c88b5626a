"""Shared helpers for the vision-tool tests: a fake YOLO model that "detects" the moving square of the
``tiny_video`` fixture, so tracking, counting and the tools built on tracks run without trained weights."""

from __future__ import annotations

import numpy as np

from vidagent.tools import Tool
from vidagent.tools.default_tools import DefaultTools
from vidagent.tools.detector import Detections, ObjectDetector
from vidagent.tools.world_models import WorldModels


def square_box(frame: int) -> tuple[float, float, float, float]:
    """Where conftest.moving_square_frames draws the white square in ``frame`` (320x240 video)."""
    x = (frame * 3) % (320 - 30)
    return (float(x), 80.0, float(x + 30), 110.0)


class FakeYolo:
    """Stands in for ``YoloModel``: one 'person' box on the white square, found by its pixels."""

    names = {0: "person", 1: "car", 2: "ball"}

    def __init__(self, drop: set[int] | None = None):
        self.drop = drop or set()  # call indices to return nothing (an occlusion)
        self.calls = 0

    def detect(self, images: np.ndarray, batch_size: int = 16) -> list[Detections]:
        out = []
        for image in images:
            index = self.calls
            self.calls += 1
            white = (image.min(axis=2) > 200)
            ys, xs = np.nonzero(white)
            if index in self.drop or len(xs) == 0:
                out.append(Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int)))
                continue
            box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
            out.append(Detections(box, np.array([0.9], np.float32), np.array([0])))
        return out


def fake_detector(**kwargs) -> ObjectDetector:
    detector = ObjectDetector("unused.pt", **kwargs)
    detector.model = FakeYolo()  # type: ignore[assignment]
    return detector


def tools_over(detector: ObjectDetector | None = None, **models) -> dict[str, Tool]:
    """The default tools over ``WorldModels(detector, ...)``, by name."""
    return {t.name: t for t in DefaultTools(WorldModels(detector, **models)).tools()}
