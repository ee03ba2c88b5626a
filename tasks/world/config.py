"""The world's vocabulary (classes, colors, actions, events, backgrounds) and its generation settings.

Everything a question, a caption or a verifier may name comes from the tuples below: grep here first.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from vidagent.errors import ConfigError
from vidagent.tools.colors import PALETTE

# Object classes drawn as sprites (see ``render.py``), and their plural for question text.
CLASSES = ("person", "car", "bicycle", "dog", "ball", "bird", "box")
PLURALS = {"person": "people", "car": "cars", "bicycle": "bicycles", "dog": "dogs", "ball": "balls",
           "bird": "birds", "box": "boxes"}

# Color names -> RGB. A sprite's main part (shirt, car body, bicycle frame, fur, ball) has this color. It is
# the palette the color tool names boxes with, defined once in ``vidagent.tools.colors`` (tools are upstream).
COLORS: dict[str, tuple[int, int, int]] = PALETTE

# Durative actions: every visible frame of an object carries exactly one of these labels.
ACTIONS = ("walk", "run", "jump", "fall", "lie", "stand", "wave",  # person (dog: walk, run, jump, stand)
           "drive", "ride", "stop", "still",  # car, bicycle (stop = braking to a halt), parked things
           "roll", "bounce", "slide", "fly")  # ball, box (pushed), bird
# Instantaneous events.
EVENTS = ("enter", "leave", "collide")

# What each class can do; the first action is its idle one.
CLASS_ACTIONS: dict[str, tuple[str, ...]] = {
    "person": ("stand", "walk", "run", "jump", "wave", "fall", "lie"),
    "dog": ("stand", "walk", "run", "jump"),
    "car": ("still", "drive", "stop"),
    "bicycle": ("still", "ride", "stop"),
    "ball": ("still", "roll", "bounce"),
    "bird": ("stand", "fly"),
    "box": ("still", "slide"),
}

# Caption verbs ("the red car stops"); questions reuse them.
VERBS = {"walk": "walks", "run": "runs", "jump": "jumps", "fall": "falls", "lie": "lies on the ground",
         "stand": "stands still", "wave": "waves", "drive": "drives", "ride": "rolls along", "stop": "stops",
         "still": "stays still", "roll": "rolls", "bounce": "bounces", "slide": "slides", "fly": "flies",
         "enter": "enters", "leave": "leaves"}

BACKGROUNDS = ("street", "park", "plaza", "beach")


def _unknown(field: str, bad: list[str], known: tuple[str, ...] | list[str]) -> str:
    return f"unknown {field} {bad}; fix: use only {list(known)}"


class WorldConfig(BaseModel):
    """Settings for generating world videos. Invalid values raise ``ConfigError`` naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(320, description="frame width in pixels (even, 64-1920)")
    height: int = Field(240, description="frame height in pixels (even, 64-1080)")
    fps: int = Field(10, description="frames per second (1-60)")
    min_duration_s: float = Field(6.0, description="shortest video, seconds")
    max_duration_s: float = Field(20.0, description="longest video, seconds (<= 600)")
    min_objects: int = Field(2, description="fewest objects per video (>= 1)")
    max_objects: int = Field(6, description="most objects per video (<= 10)")
    classes: tuple[str, ...] = Field(CLASSES, description=f"object classes to use, from {CLASSES}")
    actions: tuple[str, ...] = Field(ACTIONS + EVENTS,
                                     description="actions and events that may be scripted; idle actions "
                                                 "(stand, still) are always allowed")
    colors: tuple[str, ...] = Field(tuple(COLORS), description=f"colors to use, from {tuple(COLORS)}")
    include: tuple[str, ...] = Field((), description="classes every video must contain, one object per entry "
                                                     "(e.g. ('person', 'person', 'car', 'dog'))")
    backgrounds: tuple[str, ...] = Field(BACKGROUNDS, description=f"backgrounds, from {BACKGROUNDS}")
    noise_std: tuple[float, float] = Field((1.0, 4.0), description="range of per-pixel noise std (0-30)")
    light_gain: tuple[float, float] = Field((0.8, 1.15), description="range of global brightness gain")
    occluders: bool = Field(True, description="draw static foreground occluders (posts, trees, bushes)")
    collision_prob: float = Field(0.5, description="chance that a video scripts a ball collision (0-1)")
    questions_per_video: int = Field(12, description="questions generated per video (0-100)")
    crf: int = Field(26, description="H.264 constant rate factor (0-51; higher = smaller file)")

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise config_error(error, "WorldConfig") from None

    @field_validator("width", "height")
    @classmethod
    def _even_size(cls, value: int, info) -> int:
        top = 1920 if info.field_name == "width" else 1080
        if value % 2 or not 64 <= value <= top:
            raise ValueError(f"must be even and within 64-{top} (H.264 yuv420p needs even sizes), "
                             f"got {value}; fix: pass an even number such as {max(64, min(top, value + value % 2))}")
        return value

    @field_validator("fps")
    @classmethod
    def _fps(cls, value: int) -> int:
        if not 1 <= value <= 60:
            raise ValueError(f"must be within 1-60, got {value}; fix: use e.g. 10")
        return value

    @field_validator("min_objects", "max_objects", "questions_per_video")
    @classmethod
    def _non_negative(cls, value: int, info) -> int:
        if value < 0:
            raise ValueError(f"cannot be negative, got {value}; fix: pass a count >= 0")
        return value

    @field_validator("classes")
    @classmethod
    def _classes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if c not in CLASSES]
        if bad:
            raise ValueError(_unknown("class", bad, CLASSES))
        if not value:
            raise ValueError(f"is empty; fix: name at least one of {list(CLASSES)}")
        return tuple(dict.fromkeys(value))

    @field_validator("include")
    @classmethod
    def _include(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if c not in CLASSES]
        if bad:
            raise ValueError(_unknown("class", bad, CLASSES))
        return value

    @field_validator("actions")
    @classmethod
    def _actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if a not in ACTIONS + EVENTS]
        if bad:
            raise ValueError(_unknown("action", bad, ACTIONS + EVENTS))
        return tuple(dict.fromkeys(value))

    @field_validator("colors")
    @classmethod
    def _colors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if c not in COLORS]
        if bad:
            raise ValueError(_unknown("color", bad, tuple(COLORS)))
        if len(set(value)) < 2:
            raise ValueError("needs at least 2 distinct colors (attribute questions need alternatives); "
                             f"fix: add colors from {list(COLORS)}")
        return tuple(dict.fromkeys(value))

    @field_validator("backgrounds")
    @classmethod
    def _backgrounds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [b for b in value if b not in BACKGROUNDS]
        if bad or not value:
            raise ValueError(_unknown("background", bad, BACKGROUNDS))
        return value

    @field_validator("noise_std", "light_gain")
    @classmethod
    def _range(cls, value: tuple[float, float], info) -> tuple[float, float]:
        low, high = value
        limits = (0.0, 30.0) if info.field_name == "noise_std" else (0.3, 2.0)
        if not limits[0] <= low <= high <= limits[1]:
            raise ValueError(f"must be (low, high) with {limits[0]} <= low <= high <= {limits[1]}, got {value}; "
                             "fix: swap or narrow the range")
        return value

    @field_validator("collision_prob")
    @classmethod
    def _probability(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"must be a probability in [0, 1], got {value}; fix: use e.g. 0.5")
        return value

    @field_validator("crf")
    @classmethod
    def _crf(cls, value: int) -> int:
        if not 0 <= value <= 51:
            raise ValueError(f"must be within 0-51, got {value}; fix: use 20-30 (26 is the default)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WorldConfig:
        if not 2.0 <= self.min_duration_s <= self.max_duration_s <= 600.0:
            raise ValueError(
                f"impossible durations min_duration_s={self.min_duration_s}, max_duration_s={self.max_duration_s}; "
                "fix: use 2 <= min_duration_s <= max_duration_s <= 600 (default 6 and 20)")
        if self.min_duration_s * self.fps < 20:
            raise ValueError(f"min_duration_s={self.min_duration_s} at fps={self.fps} gives fewer than 20 frames; "
                             "fix: raise min_duration_s or fps")
        if not 1 <= self.min_objects <= self.max_objects <= 10:
            raise ValueError(f"impossible object counts min_objects={self.min_objects}, "
                             f"max_objects={self.max_objects}; fix: use 1 <= min_objects <= max_objects <= 10")
        if len(self.include) > self.max_objects:
            raise ValueError(f"include names {len(self.include)} objects but max_objects={self.max_objects}; "
                             "fix: raise max_objects or shorten include")
        for name in set(self.include):
            if self.include.count(name) > len(self.colors):
                raise ValueError(f"include asks for {self.include.count(name)} {name}s but only "
                                 f"{len(self.colors)} colors are allowed (objects of a class differ by color); "
                                 "fix: add colors or include fewer")
        return self

    @property
    def horizon(self) -> int:
        """Screen row of the horizon; the ground (where objects stand) lies below it."""
        return int(self.height * 0.36)


def config_error(error: ValidationError, where: str) -> ConfigError:
    """Turn a pydantic error into a ``ConfigError`` that names each bad field and how to fix it."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(settings)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{where}.{field}: {message}")
    fix = None
    if any(item["type"] == "extra_forbidden" for item in error.errors()):
        fix = f"remove the unknown field(s); valid fields: {', '.join(WorldConfig.model_fields)}" \
            if where == "WorldConfig" else "remove the unknown field(s)"
    return ConfigError("invalid " + "; ".join(lines), fix)
