"""The environment of training and evaluation runs: a world's questions, its videos, and a toolbox.

Two tool profiles, one code path (the same default tools, the same graph, the same ``Toolbox.invoke``):

- ``world``: the default tools over the models trained on the world (``WorldModels``), on the pixels;
- ``world-truth``: the same tools over the world's ground truth (``WorldTruth``): the planner reads the
  identical prompt, argument checks, class names and error texts, only perception is exact. On a 2-core
  CPU this is what makes GRPO rollouts affordable: a call costs microseconds instead of a detector pass.
  It teaches the planner *how to use* the tools; how good the tools are is measured separately (the
  oracle-program row of ``vidagent eval`` with ``--tools world``). Ground-truth tools decode no frames.

User tools (``--tool module:attr``) join either profile.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError
from vidagent.tasks.questions import Question
from vidagent.tools.base import Tool
from vidagent.tools.profiles import PROFILES, profile_toolbox
from vidagent.tools.toolbox import Toolbox


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


# The tool profiles of training and evaluation runs: those of `vidagent ask` (vidagent.tools.profiles) and
# the world's ground truth, which needs the world.
TOOL_PROFILES: dict[str, str] = {
    **{name: about for name, (about, _) in PROFILES.items()},
    "world-truth": "the default tools answered from the world's ground truth (exact, instant, no frames)",
}
_RENAMED = {"real": "world", "oracle": "world-truth"}


def make_toolbox(profile: str, world: WorldData | None = None, extra: Iterable[Tool] = ()) -> Toolbox:
    """The toolbox of a run: the default tools over ``profile``'s perception, plus the user's ``extra`` tools.

    ``ask``, ``train`` and ``eval`` all build their toolbox this way, so a tool a user adds with ``--tool``
    is in the prompt of training rollouts exactly as at inference.
    """
    check_profile(profile)
    if profile == "world-truth":
        if world is None:
            raise ConfigError("the world-truth tools need a world directory", "pass --world DIR")
        from vidagent.tasks.world_truth import WorldTruth  # noqa: PLC0415

        return Toolbox.default(extra, perception=WorldTruth(world.truth_by_path()))
    return profile_toolbox(profile, extra)


def check_profile(profile: str) -> None:
    """``ConfigError`` with the fix unless ``profile`` names one of ``TOOL_PROFILES`` (an old name says its
    new one)."""
    if profile in _RENAMED:
        raise ConfigError(f"the tool profile {profile!r} was renamed", f"use --tools {_RENAMED[profile]}")
    if profile not in TOOL_PROFILES:
        raise ConfigError(f"unknown tool profile {profile!r}", f"use one of: {', '.join(TOOL_PROFILES)}")
