"""What the default tools perceive, behind one small protocol.

The default tools (``vidagent.tools.default_tools``) own everything the planner sees: argument checks,
class names and synonyms, the observation text and the error messages. What they *perceive* comes from
a ``Perception`` backend, so the same tool answers from:

* ``WorldModels`` (``vidagent.tools.world_models``): the detector, action model and grounder trained on
  the synthetic world, run on the pixels;
* ``WorldTruth`` (``vidagent.tasks.world_truth``): a world video's ground truth, exact and instant, for
  training rollouts and for the tools' upper bound;
* ``RealModels`` (``vidagent.tools.real_models``): pretrained COCO / pose / ImageNet / OCR models for real
  footage, with no change to the tools.

Two methods are optional: ``class_aliases()`` (everyday words for class names, e.g. COCO's "sports ball" is
"ball") and ``scene_at(video, t_s)`` (scene tags and text at a time, which ``describe_frame`` adds).

A backend answers in the project's own dataclasses (``Track``, ``ScoredLabel``, ``ScoredSpan``); it raises
``ToolError`` for what the model can act on (weights missing, a query it cannot read) and nothing else on
valid input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vidagent.tools.results import ScoredLabel, ScoredSpan, Track
from vidagent.tools.video import VideoSession


@dataclass
class Sighting:
    """The tracks seen in a time span: boxes at the sampled times, cut to the span."""

    tracks: list[Track]
    times_s: list[float]  # the sampled times inside the span (at least one: the nearest, for a point)
    frames_used: int  # frames decoded for this call (0 when served from memory or from ground truth)


class Perception(Protocol):
    """A perception backend of the default tools. ``name`` is what ``--tools`` calls it."""

    name: str

    def fingerprint(self) -> str:
        """Names the models and settings, so the result cache never serves another backend's answer."""
        ...

    def classes(self) -> Sequence[str]:
        """The object classes this backend can detect (canonical names)."""
        ...

    def sighting(self, video: VideoSession, start_s: float, end_s: float) -> Sighting:
        """Every tracked object in ``[start_s, end_s)``; a point span gives the sampled frame nearest it.
        Track ids agree across calls on one video."""
        ...

    def actions(self, video: VideoSession, start_s: float, end_s: float, tracks: list[Track]) -> list[ScoredLabel]:
        """What ``tracks`` (non-empty, from ``sighting``) do in the span: labels with scores, best first;
        over several tracks each label scores its best."""
        ...

    def moments(self, video: VideoSession, query: str, top_k: int) -> list[ScoredSpan]:
        """Up to ``top_k`` spans where the described moment happens, best first (possibly none)."""
        ...
