"""Tool profiles: the perception backends the default tools run on, by the name ``--tools`` takes.

A profile changes what the tools perceive, never their names, arguments or observation format, so a
planner trained on one profile meets the same tools on another. ``world-truth`` (the world's ground
truth) needs a world directory and is built by ``vidagent.policies.environment.make_toolbox``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from vidagent.errors import ConfigError
from vidagent.tools.perception import Perception
from vidagent.tools.toolbox import Toolbox, ToolLike


def _world_models() -> Perception:
    from vidagent.tools.world_models import WorldModels  # noqa: PLC0415  (models load lazily anyway)

    return WorldModels()


def _real_models() -> Perception:
    from vidagent.tools.real_models import RealModels  # noqa: PLC0415

    return RealModels()


# name -> (what it is, how to build its perception); the first is the default of `vidagent ask`
PROFILES: dict[str, tuple[str, Callable[[], Perception]]] = {
    "real": ("pretrained models for real footage: COCO SSD-MobileNetV2 + YOLO11n-pose (80 classes, people's "
             "keypoint actions), EfficientNet-Lite3 scene tags, PP-OCRv6 text; adds read_text and tag_scene",
             _real_models),
    "world": ("the models trained on the synthetic world (tools/weights): 7 classes, 15 actions", _world_models),
    "real-long": ("real, plus list_segments (the shots of a span from the video's index) for long videos",
                  _real_models),
}
# Profiles that add ``list_segments``. Not in ``real`` itself: the shipped planner was not trained with it,
# and one more tool card changed its replies (the README's 2-call example stopped answering).
SEGMENT_PROFILES = frozenset({"real-long"})
DEFAULT_PROFILE = next(iter(PROFILES))


def profile_tools(perception: Perception) -> list[ToolLike]:
    """The tools a backend adds to the four default ones (real footage: read_text, tag_scene)."""
    from vidagent.tools.real_models import RealModels  # noqa: PLC0415

    if isinstance(perception, RealModels):
        from vidagent.tools.footage_tools import FootageTools  # noqa: PLC0415

        return list(FootageTools(perception).tools())
    return []


def profile_toolbox(profile: str = DEFAULT_PROFILE, extra: Iterable[ToolLike] = ()) -> Toolbox:
    """The default tools over ``profile``'s perception (plus what the profile adds), and the user's ``extra``."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown tool profile {profile!r}", f"use one of: {', '.join(PROFILES)}")
    perception = PROFILES[profile][1]()
    added = profile_tools(perception)
    if profile in SEGMENT_PROFILES:
        from vidagent.tools.index_tools import SegmentTools  # noqa: PLC0415

        added += SegmentTools(perception).tools()
    return Toolbox.default([*added, *extra], perception=perception)
