"""WorldConfig validation: bad settings raise ConfigError naming the field and the fix."""

from __future__ import annotations

import pytest
from vidagent.errors import ConfigError
from vidagent.tasks.world.config import ACTIONS, CLASSES, WorldConfig


def test_defaults_are_the_documented_ones():
    config = WorldConfig()
    assert (config.width, config.height, config.fps) == (320, 240, 10)
    assert (config.min_duration_s, config.max_duration_s) == (6.0, 20.0)
    assert len(config.classes) >= 6 and set(config.classes) == set(CLASSES)


@pytest.mark.parametrize("fields, field_name", [
    ({"min_objects": -1}, "min_objects"),
    ({"questions_per_video": -3}, "questions_per_video"),
    ({"classes": ("person", "unicorn")}, "classes"),
    ({"actions": ("walk", "moonwalk")}, "actions"),
    ({"colors": ("red", "teal")}, "colors"),
    ({"width": 321}, "width"),
    ({"fps": 0}, "fps"),
    ({"noise_std": (5.0, 1.0)}, "noise_std"),
    ({"collision_prob": 1.5}, "collision_prob"),
])
def test_bad_field_is_named_with_a_fix(fields, field_name):
    with pytest.raises(ConfigError) as caught:
        WorldConfig(**fields)
    message = str(caught.value)
    assert f"WorldConfig.{field_name}" in message
    assert "fix" in message


@pytest.mark.parametrize("fields", [
    {"min_duration_s": 10, "max_duration_s": 5},
    {"min_duration_s": 0.5, "max_duration_s": 5},
    {"max_duration_s": 5000},
    {"min_objects": 5, "max_objects": 2},
    {"include": ("person",) * 9, "max_objects": 10, "colors": ("red", "blue")},
])
def test_impossible_combinations(fields):
    with pytest.raises(ConfigError, match="fix"):
        WorldConfig(**fields)


def test_unknown_field_is_a_typo_not_a_default():
    with pytest.raises(ConfigError, match="widht"):
        WorldConfig(widht=320)


def test_unknown_action_message_lists_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        WorldConfig(actions=("flap",))
    assert all(action in str(caught.value) for action in ACTIONS[:3])
