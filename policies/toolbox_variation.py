"""Toolbox variation for training episodes: tools the planner must read, not remember.

A planner trained on one fixed toolbox learns four names and their positions; a tool a user registers is
then never called (issue: "a tool a user registers is never called"). Each varied episode gets:

- the tools in a random order;
- sometimes a default tool under another name (``find_objects`` for ``detect_objects``) and/or with its
  description in other words (``Tool.variant``: the same function and arguments);
- 0-2 distractor tools (novel tools the question does not need, ``vidagent.tasks.world.novel_tools``);
- for a novel-tool question, the tool it needs, whose card is the only clue; a novel tool (needed or
  distractor) sometimes goes by an opaque name (``probe_7``), so that only its description tells what it does.

The oracle's calls are renamed with the toolbox, so the replayed trajectory calls exactly the tools the
prompt lists. The held-out novel tools never appear here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vidagent.tools.base import Tool
from vidagent.tools.toolbox import Toolbox

# Other names and descriptions for the default tools (the same function and arguments).
ALIASES: dict[str, list[str]] = {
    "detect_objects": ["find_objects", "track_objects", "object_tracker"],
    "recognize_action": ["classify_action", "action_of", "what_is_happening"],
    "ground_moment": ["find_moment", "locate_event", "when_does"],
    "describe_frame": ["inspect_frame", "objects_at_time", "frame_contents"],
}
DESCRIPTIONS: dict[str, list[str]] = {
    "detect_objects": ["Find and follow the objects of a time span: for each one its class, colour, first and "
                       "last time seen, plus how many of each class.",
                       "Object tracks in a span of the video (class, color, when visible) and per-class counts."],
    "recognize_action": ["Say what one tracked object (track_id from the detector) or, without it, anyone in "
                         "the span is doing.",
                         "The most likely actions (walk, run, stop ...) of an object over a time span."],
    "ground_moment": ["Search the video for the time spans that best match a sentence describing an event.",
                      "Temporal grounding: given a short description of what happens, return when it happens."],
    "describe_frame": ["What is on screen at a single time: each object's class, color, place in the picture "
                       "and track id.",
                       "Objects visible at one timestamp, with position and color."],
}


OPAQUE_STEMS = ("probe", "tool", "op", "vision_op", "helper", "module", "fn", "skill")


def opaque_name(rng: np.random.Generator, taken: set[str]) -> str:
    """A tool name that says nothing of what the tool does (``probe_7``), unlike any name in ``taken``."""
    while True:
        name = f"{OPAQUE_STEMS[int(rng.integers(len(OPAQUE_STEMS)))]}_{int(rng.integers(1, 100))}"
        if name not in taken:
            return name


@dataclass(frozen=True)
class Variation:
    """How often each change is made (per episode, per tool)."""

    vary_share: float = 0.5  # episodes with a varied toolbox (the rest: the default tools as shipped)
    rename: float = 0.25  # per default tool of a varied episode: another name
    describe: float = 0.3  # per default tool of a varied episode: another description
    max_distractors: int = 2
    opaque_novel: float = 0.4  # per novel tool of a varied episode: an opaque name instead of its own


@dataclass
class EpisodeTools:
    toolbox: Toolbox
    names: dict[str, str] = field(default_factory=dict)  # original name -> the name this episode shows

    def rename(self, calls: Sequence[tuple[str, dict]]) -> list[tuple[str, dict]]:
        return [(self.names.get(name, name), args) for name, args in calls]


def vary_toolbox(base: Sequence[Tool], rng: np.random.Generator, variation: Variation, *,
                 needed: Sequence[Tool] = (), distractors: Sequence[Tool] = ()) -> EpisodeTools:
    """The toolbox of one episode: ``base`` (the default tools) plus ``needed`` (the tools the question needs
    beyond them), varied as ``variation`` says, with up to ``max_distractors`` of ``distractors``."""
    if rng.random() >= variation.vary_share:
        return EpisodeTools(Toolbox([*base, *needed]))
    names: dict[str, str] = {}
    tools: list[Tool] = []
    for t in base:
        name = description = None
        if t.name in ALIASES and rng.random() < variation.rename:
            name = ALIASES[t.name][int(rng.integers(len(ALIASES[t.name])))]
            names[t.name] = name
        if t.name in DESCRIPTIONS and rng.random() < variation.describe:
            description = DESCRIPTIONS[t.name][int(rng.integers(len(DESCRIPTIONS[t.name])))]
        tools.append(t.variant(name, description) if name or description else t)
    taken = {t.name for t in needed}
    pool = [d for d in distractors if d.name not in taken]
    k = int(rng.integers(0, min(variation.max_distractors, len(pool)) + 1)) if pool else 0
    extra = [pool[int(i)] for i in rng.choice(len(pool), k, replace=False)] if k else []
    for t in [*needed, *extra]:
        if rng.random() < variation.opaque_novel:
            names[t.name] = opaque_name(rng, taken={*names.values(), *(u.name for u in tools)})
            t = t.variant(names[t.name], None)
        tools.append(t)
    order = rng.permutation(len(tools))
    return EpisodeTools(Toolbox([tools[int(i)] for i in order]), names)
