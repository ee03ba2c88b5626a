"""The environment of training and evaluation runs: a world's questions, its videos, and a toolbox.

Two tool backends, one code path (the same graph, the same ``Toolbox.invoke``):

- ``real``: the default vision tools (``vidagent.tools.defaults``) on the pixels;
- ``oracle``: the same four tools, with the real tools' names, signatures and docstrings (so the planner
  sees the identical prompt), answered from the world's ground truth by ``GroundTruthTools``. On a 2-core
  CPU this is what makes GRPO rollouts affordable: a call costs microseconds instead of a detector pass.
  It teaches the planner *how to use* the tools; how good the tools are is measured separately (the
  oracle-program row of ``vidagent eval`` with ``--tools real``). Oracle tools decode no frames, so frame
  counts are 0 with this backend.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError, ToolError
from vidagent.tasks.oracle import GroundTruthTools
from vidagent.tasks.questions import Question
from vidagent.tools.base import Tool
from vidagent.tools.results import ActionResult, DetectionResult, FrameDescription, GroundingResult
from vidagent.tools.toolbox import Toolbox
from vidagent.tools.video import VideoSession


@dataclass
class WorldData:
    """A loaded world directory: questions and the ground truth of every video, by video path."""

    world: Any  # vidagent.tasks.world.generate.World

    @classmethod
    def load(cls, root: str | Path) -> WorldData:
        from vidagent.tasks.world.generate import load_world  # noqa: PLC0415

        if not str(root):
            raise ConfigError("no world directory given", "pass --world DIR (make one with `vidagent world generate`)")
        return cls(load_world(root))

    def questions(self, split: str, limit: int | None = None, seed: int = 0,
                  require_program: bool = True) -> list[Question]:
        """Questions of ``split`` in a seeded order (the same for every row of an eval and every run)."""
        found = [q for q in self.world.split(split) if q.program is not None or not require_program]
        if not found:
            raise ConfigError(f"the world {self.world.root} has no {split} questions",
                              "generate more videos (about 10% of videos go to val and to test)")
        random.Random(seed).shuffle(found)
        return found[:limit] if limit is not None else found

    def video_path(self, question: Question) -> str:
        return str(self.world.video_path(question.video).resolve())

    def truth_by_path(self) -> dict[str, Any]:
        return {str(self.world.video_path(vid).resolve()): gt for vid, gt in self.world.truths.items()}


def make_toolbox(backend: str, world: WorldData | None = None) -> Toolbox:
    """The toolbox of a run: ``real`` (the default vision tools) or ``oracle`` (ground truth of ``world``)."""
    if backend == "real":
        return Toolbox.default()
    if backend == "oracle":
        if world is None:
            raise ConfigError("the oracle tool backend needs a world directory", "pass --world DIR")
        return oracle_toolbox(world.truth_by_path())
    raise ConfigError(f"unknown tool backend {backend!r}", "use oracle or real")


def oracle_toolbox(truths: dict[str, Any]) -> Toolbox:
    """The four default tools answered from ground truth. ``truths`` maps resolved video paths to
    ``GroundTruth``; the tools find the truth of the run's video through the ``VideoSession``."""
    from vidagent.tools.action import ActionRecognizer  # noqa: PLC0415  (cheap: weights load in setup())
    from vidagent.tools.describe import FrameDescriber  # noqa: PLC0415
    from vidagent.tools.detector import ObjectDetector  # noqa: PLC0415
    from vidagent.tools.grounding import MomentGrounder  # noqa: PLC0415

    def oracle(video: VideoSession) -> GroundTruthTools:
        truth = truths.get(str(Path(video.ref.path).resolve()))
        if truth is None:
            raise ToolError(f"no ground truth for {video.ref.path}", "oracle tools answer only world videos")
        return GroundTruthTools(truth)

    def detect_objects(video: VideoSession, start_s: float, end_s: float,
                       classes: list[str] | None = None) -> DetectionResult:
        start_s, end_s = video.ref.check_range(start_s, end_s)
        return oracle(video).detect_objects(start_s, end_s, classes)

    def recognize_action(video: VideoSession, start_s: float, end_s: float,
                         track_id: int | None = None) -> ActionResult:
        start_s, end_s = video.ref.check_range(start_s, end_s)
        return oracle(video).recognize_action(start_s, end_s, track_id)

    def ground_moment(video: VideoSession, query: str, top_k: int = 3) -> GroundingResult:
        if not query.strip():
            raise ToolError("the query is empty", 'describe the moment in words, e.g. "the red car stops"')
        if not 1 <= top_k <= 10:
            raise ToolError(f"top_k must be within 1-10, got {top_k}", "use e.g. top_k=3")
        return oracle(video).ground_moment(query, top_k)

    def describe_frame(video: VideoSession, t_s: float) -> FrameDescription:
        video.ref.check_range(t_s, t_s + 1e-3)
        return oracle(video).describe_frame(t_s)

    # The real tools' docstrings: the planner's prompt is identical with either backend.
    pairs = [(detect_objects, ObjectDetector), (recognize_action, ActionRecognizer),
             (ground_moment, MomentGrounder), (describe_frame, FrameDescriber)]
    tools = []
    for fn, real in pairs:
        fn.__doc__ = real.run.__doc__
        tools.append(Tool(fn, name=real.name, fingerprint="oracle"))
    return Toolbox(tools)
