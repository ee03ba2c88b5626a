"""box_color: a sprite is named by its paint, not its dark parts (pants, hair, tires), its skin or the background.

Hand-made patches and stick people, then the world's own sprites (``vidagent.tasks.world.render``) drawn on its
backdrops with its lighting range and the half-resolution color of its H.264 videos (yuv420p), the reason thin
lines such as a bicycle frame lose their saturation.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from vidagent.tasks.world.config import CLASSES
from vidagent.tasks.world.render import Pose, background, draw_primitives, primitives_box, sprite
from vidagent.tools.colors import CHROMATIC, COLOR_NAMES, PALETTE, box_color, name_pixels

GRASS, ROAD, SAND = (80, 150, 65), (105, 105, 110), (220, 200, 150)
SKIN = ((240, 200, 165), (200, 150, 110), (140, 95, 60))  # the world's skin tones
PANTS = ((50, 55, 75), (70, 70, 70), (40, 60, 110))  # the world's pants: dark grey and dark blue


def scene(background: tuple[int, int, int], seed: int = 0) -> Image.Image:
    """A 120x120 backdrop with texture and sensor noise like the world's."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(background, np.float32) + rng.normal(0, 6, (120, 120, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def person(shirt: tuple[int, int, int], skin: int = 0, background=ROAD, gain: float = 1.0) -> tuple[np.ndarray, tuple]:
    """A stick person like the world's sprite (shirt, two dark legs, skin head and forearms, hair), 60 px
    tall, its tight box, under a global lighting ``gain``."""
    image = scene(background)
    draw = ImageDraw.Draw(image)
    draw.line((60, 88, 52, 118), fill=PANTS[skin], width=4)  # legs
    draw.line((60, 88, 68, 118), fill=PANTS[skin], width=4)
    draw.polygon([(55, 71), (65, 71), (64, 90), (56, 90)], fill=shirt)  # torso
    draw.line((56, 72, 52, 82), fill=shirt, width=3)  # sleeves
    draw.line((64, 72, 68, 82), fill=shirt, width=3)
    draw.line((52, 82, 51, 91), fill=SKIN[skin], width=2)  # forearms
    draw.line((68, 82, 69, 91), fill=SKIN[skin], width=2)
    draw.ellipse((55, 61, 65, 71), fill=SKIN[skin])  # head
    draw.ellipse((56, 58, 64, 63), fill=tuple(int(c * 0.45) for c in SKIN[skin]))  # hair
    pixels = np.clip(np.asarray(image, np.float32) * gain, 0, 255).astype(np.uint8)
    return pixels, (50, 58, 71, 119)


@pytest.mark.parametrize("name", list(PALETTE))
def test_a_person_is_named_by_the_shirt_not_the_legs_or_hair(name: str):
    for skin in range(3):
        image, box = person(PALETTE[name], skin)
        assert box_color(image, box)[0] == name, (name, skin)


@pytest.mark.parametrize("gain", [0.8, 1.15])
@pytest.mark.parametrize("name", ["white", "black", "blue", "yellow", "orange"])
def test_lighting_does_not_change_the_name(name: str, gain: float):
    """Blue pants in bright light are not a blue shirt; a white shirt in dim light is still white."""
    image, box = person(PALETTE[name], skin=2, gain=gain)
    assert box_color(image, box)[0] == name


def test_skin_hair_and_pants_name_no_paint():
    pixels = np.array([*SKIN, *PANTS[:2], *(tuple(int(c * 0.45) for c in s) for s in SKIN)], np.uint8)
    names = name_pixels(pixels, background=np.array(ROAD, np.float32))
    assert all(COLOR_NAMES[i] != "orange" and COLOR_NAMES[i] not in CHROMATIC for i in names if i >= 0), names


@pytest.mark.parametrize("name", list(PALETTE))
def test_a_solid_object_on_each_background(name: str):
    for ground in (GRASS, ROAD, SAND):
        image = np.asarray(scene(ground)).copy()
        image[40:70, 30:80] = PALETTE[name]
        assert box_color(image, (30, 40, 80, 70))[0] == name, ground


def test_a_loose_box_leaves_the_background_out():
    """A detector box twice the object's size: most pixels are grass, the object is still named."""
    image = np.asarray(scene(GRASS)).copy()
    image[50:70, 50:70] = PALETTE["purple"]
    assert box_color(image, (40, 40, 80, 80))[0] == "purple"


def test_empty_and_outside_boxes_are_unknown():
    image = np.asarray(scene(ROAD))
    assert box_color(image, (50, 50, 50, 80)) == ("unknown", 0.0)
    assert box_color(image, (200, 200, 260, 260)) == ("unknown", 0.0)


def yuv420(rgb: np.ndarray) -> np.ndarray:
    """The frame as an H.264 yuv420p video keeps it: full-resolution luma, chroma averaged over 2x2 blocks."""
    x = rgb.astype(np.float32)  # [H, W, 3]
    luma = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]  # [H, W]
    height, width = luma.shape

    def half(c: np.ndarray) -> np.ndarray:  # [H, W] -> block means, repeated back to [H, W]
        blocks = c.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
        return np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)

    cb, cr = half((x[..., 2] - luma) * 0.564), half((x[..., 0] - luma) * 0.713)
    r, b = luma + cr / 0.713, luma + cb / 0.564
    g = (luma - 0.299 * r - 0.114 * b) / 0.587
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def world_sprite(category: str, color: str, backdrop: str, gain: float, skin: int = 0) -> tuple[np.ndarray, tuple]:
    """One world sprite 50 px per unit (a person 50 px tall) on a 160x120 world backdrop, lit by ``gain``,
    with sensor noise and yuv420p color; and its true box."""
    rng = np.random.default_rng(0)
    image = Image.fromarray(background(backdrop, rng, 160, 120, 40))
    moving = category in ("person", "dog")
    prims = sprite(Pose(category, color, 80.3, 100.0, 50.0, action="walk" if moving else "still", phase=0.7,
                        skin=skin))
    draw_primitives(ImageDraw.Draw(image), prims)
    lit = np.asarray(image, np.float32) * gain + rng.normal(0, 2, (120, 160, 3))
    return yuv420(np.clip(lit, 0, 255).astype(np.uint8)), primitives_box(prims)


@pytest.mark.parametrize("category", CLASSES)
def test_world_sprites_are_named_by_their_paint(category: str):
    """Every class in every color on every backdrop at the dimmest and a bright lighting (people: each skin
    tone, with its pants). Before colors-v2, 108 of the 192 people and 24 of the 64 bicycles read wrong,
    nearly all "black"."""
    wrong = []
    for color in PALETTE:
        for backdrop in ("street", "park", "plaza", "beach"):
            for gain in (0.85, 1.1):
                for skin in range(3) if category == "person" else (0,):
                    image, box = world_sprite(category, color, backdrop, gain, skin)
                    read = box_color(image, box)[0]
                    if read != color:
                        wrong.append(f"{color} on {backdrop} x{gain} skin {skin}: {read}")
    assert not wrong, wrong
