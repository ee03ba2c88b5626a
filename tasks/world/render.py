"""Sprites, backgrounds and frame drawing for the world.

A sprite is a short list of primitives (polygons, lines, circles, ellipses) built in *local units*
(1 unit = a standing person's height, origin at the foot on the ground, +u = facing direction, +v = up),
then transformed to the screen by the object's depth scale. The same primitives give the ground-truth
box (``primitives_box``) and the pixels (``draw_primitives``), so boxes and pixels cannot disagree.

Drawing uses PIL's C rasteriser (no anti-aliasing, so every drawn pixel lies inside the box); lighting and
sensor noise are applied to the whole frame with a lookup table and a pre-drawn noise bank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from vidagent.tasks.world.config import COLORS

Color = tuple[int, int, int]
# ("poly", color, [(x, y), ...]) | ("line", color, (x1, y1, x2, y2), width) |
# ("ellipse", color, (cx, cy, rx, ry)) | ("ring", color, (cx, cy, r), width)
Primitive = tuple

SKIN_TONES: tuple[Color, ...] = ((240, 200, 165), (200, 150, 110), (140, 95, 60))
PANTS: tuple[Color, ...] = ((50, 55, 75), (70, 70, 70), (40, 60, 110))
TIRE: Color = (20, 20, 20)
GLASS: Color = (165, 205, 235)


def shade(color: Color, factor: float) -> Color:
    """Darker (factor < 1) or lighter (factor > 1, mixes toward white) version of ``color``."""
    if factor <= 1.0:
        return (int(color[0] * factor), int(color[1] * factor), int(color[2] * factor))
    mix = min(factor - 1.0, 1.0)
    return tuple(int(c + (255 - c) * mix) for c in color)  # type: ignore[return-value]


@dataclass
class Pose:
    """Everything needed to draw one object in one frame."""

    category: str
    color: str
    x: float  # screen x of the foot / ground contact point
    y: float  # screen y of the ground contact point (larger = nearer the camera)
    scale: float  # pixels per local unit at this depth
    facing: int = 1  # +1 faces right, -1 faces left
    action: str = "still"
    phase: float = 0.0  # gait / wheel / wing phase, radians
    lift: float = 0.0  # local units above the ground (jump, bounce, flight)
    tilt: float = 0.0  # radians; a falling person rotates about the feet toward ``facing``
    size: float = 1.0  # class-relative size factor
    skin: int = 0  # index into SKIN_TONES / PANTS (person) - kept per object for consistency


class _Pen:
    """Collects primitives, mapping local (u, v) to screen coordinates."""

    def __init__(self, pose: Pose):
        self.x, self.y, self.s, self.f = pose.x, pose.y, pose.scale, pose.facing
        self.lift = pose.lift
        self.cos, self.sin = math.cos(pose.tilt), math.sin(pose.tilt)
        self.prims: list[Primitive] = []

    def pt(self, u: float, v: float) -> tuple[float, float]:
        ur = u * self.cos + v * self.sin
        vr = -u * self.sin + v * self.cos
        return (self.x + self.f * self.s * ur, self.y - self.s * (vr + self.lift))

    def poly(self, color: Color, pts: list[tuple[float, float]]) -> None:
        self.prims.append(("poly", color, [self.pt(u, v) for u, v in pts]))

    def line(self, color: Color, a: tuple[float, float], b: tuple[float, float], width: float) -> None:
        (x1, y1), (x2, y2) = self.pt(*a), self.pt(*b)
        self.prims.append(("line", color, (x1, y1, x2, y2), max(1, round(width * self.s))))

    def ellipse(self, color: Color, c: tuple[float, float], rx: float, ry: float | None = None) -> None:
        cx, cy = self.pt(*c)
        self.prims.append(("ellipse", color, (cx, cy, max(rx * self.s, 0.8), max((ry or rx) * self.s, 0.8))))

    def ring(self, color: Color, c: tuple[float, float], r: float, width: float) -> None:
        cx, cy = self.pt(*c)
        self.prims.append(("ring", color, (cx, cy, max(r * self.s, 1.0)), max(1, round(width * self.s))))


def _limb(origin: tuple[float, float], length: float, angle: float) -> tuple[float, float]:
    """End of a limb hanging from ``origin``; ``angle`` 0 points down, positive swings forward."""
    return (origin[0] + length * math.sin(angle), origin[1] - length * math.cos(angle))


def _person(pen: _Pen, pose: Pose) -> None:
    shirt = COLORS[pose.color]
    skin, pants = SKIN_TONES[pose.skin % 3], PANTS[pose.skin % 3]
    sleeve = shade(shirt, 0.8)
    hip, shoulder = (0.0, 0.47), (0.0, 0.76)
    action = pose.action
    if action in ("walk", "run"):
        amp = math.radians(30 if action == "walk" else 55)
        swing = amp * math.sin(pose.phase)
        legs = (swing, -swing)
        arms = (-0.8 * swing, 0.8 * swing)
        forearm_bend = 0.0 if action == "walk" else 1.2  # runners bend their elbows
    elif action == "jump":
        legs, arms, forearm_bend = (math.radians(25), math.radians(-15)), (math.radians(160), math.radians(-160)), 0.0
    elif action == "wave":
        legs = (math.radians(6), math.radians(-6))
        arms = (math.radians(135 + 35 * math.sin(pose.phase)), math.radians(-10))
        forearm_bend = 0.0
    elif action in ("fall", "lie"):
        legs, arms, forearm_bend = (math.radians(4), math.radians(-4)), (math.radians(40), math.radians(-40)), 0.0
    else:  # stand
        legs, arms, forearm_bend = (math.radians(6), math.radians(-6)), (math.radians(8), math.radians(-8)), 0.0
    # far leg / arm first so the near ones overlap them
    pen.line(shade(pants, 0.8), hip, _limb(hip, 0.47, legs[1]), 0.065)
    _arm(pen, shade(sleeve, 0.85), skin, shoulder, arms[1], forearm_bend)
    pen.poly(shirt, [(-0.085, 0.79), (0.085, 0.79), (0.075, 0.46), (-0.075, 0.46)])
    pen.line(pants, hip, _limb(hip, 0.47, legs[0]), 0.07)
    _arm(pen, sleeve, skin, shoulder, arms[0], forearm_bend)
    pen.ellipse(skin, (0.0, 0.885), 0.085)
    pen.ellipse(shade(skin, 0.45), (0.0, 0.935), 0.07, 0.035)  # hair


def _arm(pen: _Pen, sleeve: Color, skin: Color, shoulder: tuple[float, float], angle: float, bend: float) -> None:
    elbow = _limb(shoulder, 0.17, angle)
    hand = _limb(elbow, 0.16, angle + bend)
    pen.line(sleeve, shoulder, elbow, 0.05)
    pen.line(skin, elbow, hand, 0.04)


def _dog(pen: _Pen, pose: Pose) -> None:
    fur = COLORS[pose.color]
    dark = shade(fur, 0.6) if pose.color != "black" else (70, 70, 70)
    k = pose.size
    moving = pose.action in ("walk", "run")
    amp = math.radians(0 if not moving else (25 if pose.action == "walk" else 45))
    swing = amp * math.sin(pose.phase)
    if pose.action == "jump":
        front, back = math.radians(50), math.radians(-50)
    else:
        front, back = swing, -swing
    for (u, ang, col) in ((0.13 * k, back, dark), (-0.13 * k, front, dark), (0.15 * k, front, fur),
                          (-0.11 * k, back, fur)):
        top = (u, 0.24 * k)
        pen.line(col, top, _limb(top, 0.21 * k, ang), 0.045 * k)
    wag = 0.06 * k * math.sin(pose.phase * 2.0)
    pen.line(fur, (-0.19 * k, 0.3 * k), (-0.31 * k, (0.42 * k) + wag), 0.035 * k)
    pen.ellipse(fur, (0.0, 0.29 * k), 0.2 * k, 0.085 * k)
    pen.ellipse(fur, (0.22 * k, 0.39 * k), 0.075 * k)
    pen.ellipse(dark, (0.3 * k, 0.37 * k), 0.05 * k, 0.03 * k)  # snout
    pen.poly(dark, [(0.18 * k, 0.44 * k), (0.23 * k, 0.46 * k), (0.2 * k, 0.36 * k)])  # ear
    pen.ellipse((15, 15, 15), (0.245 * k, 0.405 * k), 0.013 * k)  # eye


def _car(pen: _Pen, pose: Pose) -> None:
    body = COLORS[pose.color]
    k = pose.size
    pen.poly(body, [(-0.95 * k, 0.1 * k), (0.95 * k, 0.1 * k), (0.97 * k, 0.3 * k), (0.85 * k, 0.37 * k),
                    (-0.9 * k, 0.37 * k), (-0.97 * k, 0.28 * k)])
    pen.poly(shade(body, 0.85), [(-0.55 * k, 0.36 * k), (0.42 * k, 0.36 * k), (0.22 * k, 0.6 * k),
                                  (-0.45 * k, 0.6 * k)])
    pen.poly(GLASS, [(-0.48 * k, 0.39 * k), (-0.1 * k, 0.39 * k), (-0.1 * k, 0.56 * k), (-0.41 * k, 0.56 * k)])
    pen.poly(GLASS, [(-0.04 * k, 0.39 * k), (0.34 * k, 0.39 * k), (0.19 * k, 0.56 * k), (-0.04 * k, 0.56 * k)])
    pen.ellipse((250, 235, 130), (0.92 * k, 0.27 * k), 0.04 * k)  # headlight
    pen.ellipse((200, 20, 20), (-0.93 * k, 0.27 * k), 0.035 * k)  # tail light
    for u in (-0.58 * k, 0.58 * k):
        _wheel(pen, (u, 0.14 * k), 0.14 * k, pose.phase, solid=True)


def _wheel(pen: _Pen, center: tuple[float, float], r: float, phase: float, solid: bool) -> None:
    if solid:
        pen.ellipse(TIRE, center, r)
        pen.ellipse((150, 150, 155), center, r * 0.5)
    else:
        pen.ring(TIRE, center, r, r * 0.22)
    for a in (phase, phase + math.pi / 2):
        du, dv = r * 0.85 * math.cos(a), r * 0.85 * math.sin(a)
        pen.line((90, 90, 95), (center[0] - du, center[1] - dv), (center[0] + du, center[1] + dv), r * 0.12)


def _bicycle(pen: _Pen, pose: Pose) -> None:
    frame = COLORS[pose.color]
    k = pose.size
    r = 0.16 * k
    rear, front = (-0.34 * k, r), (0.34 * k, r)
    crank, seat, head = (0.0, r), (-0.1 * k, 0.44 * k), (0.24 * k, 0.44 * k)
    _wheel(pen, rear, r, pose.phase, solid=False)
    _wheel(pen, front, r, pose.phase, solid=False)
    w = 0.035 * k
    for a, b in ((rear, seat), (seat, crank), (crank, rear), (seat, head), (head, crank), (head, front)):
        pen.line(frame, a, b, w)
    pen.line((25, 25, 25), (-0.17 * k, 0.47 * k), (-0.03 * k, 0.47 * k), 0.045 * k)  # saddle
    pen.line((25, 25, 25), (0.22 * k, 0.52 * k), (0.3 * k, 0.52 * k), 0.035 * k)  # handlebar
    pen.line(shade(frame, 0.7), head, (0.26 * k, 0.52 * k), w)


def _ball(pen: _Pen, pose: Pose) -> None:
    color = COLORS[pose.color]
    r = 0.14 * pose.size
    c = (0.0, r)
    pen.ellipse(color, c, r)
    du, dv = r * 0.95 * math.cos(pose.phase), r * 0.95 * math.sin(pose.phase)
    pen.line(shade(color, 0.55) if pose.color != "black" else (120, 120, 120),
             (c[0] - du, c[1] - dv), (c[0] + du, c[1] + dv), r * 0.22)
    pen.ellipse(shade(color, 1.6), (-0.35 * r, 1.4 * r), r * 0.25)


def _bird(pen: _Pen, pose: Pose) -> None:
    color = COLORS[pose.color]
    k = 1.6 * pose.size  # birds are drawn larger than life so that far ones stay a few pixels wide
    wing = shade(color, 0.7) if pose.color != "black" else (90, 90, 90)
    if pose.action == "fly":
        flap = 0.13 * k * math.sin(pose.phase)
        pen.poly(wing, [(-0.06 * k, 0.11 * k), (0.04 * k, 0.11 * k), (-0.04 * k, (0.11 * k) + flap + 0.04 * k)])
        pen.ellipse(color, (0.0, 0.1 * k), 0.1 * k, 0.045 * k)
        pen.poly(wing, [(-0.05 * k, 0.1 * k), (0.05 * k, 0.1 * k), (-0.02 * k, (0.1 * k) - flap * 0.9 + 0.02 * k)])
    else:
        pen.line((220, 140, 30), (-0.01 * k, 0.06 * k), (-0.01 * k, 0.0), 0.015 * k)
        pen.line((220, 140, 30), (0.02 * k, 0.06 * k), (0.02 * k, 0.0), 0.015 * k)
        pen.ellipse(color, (0.0, 0.1 * k), 0.1 * k, 0.045 * k)
        pen.poly(wing, [(-0.07 * k, 0.11 * k), (0.04 * k, 0.12 * k), (-0.12 * k, 0.14 * k)])
    pen.poly((230, 150, 30), [(0.13 * k, 0.135 * k), (0.19 * k, 0.12 * k), (0.13 * k, 0.11 * k)])  # beak
    pen.ellipse(color, (0.1 * k, 0.135 * k), 0.045 * k)
    pen.ellipse((10, 10, 10), (0.115 * k, 0.145 * k), 0.01 * k)


def _box(pen: _Pen, pose: Pose) -> None:
    color = COLORS[pose.color]
    s = 0.34 * pose.size
    dx, dy = 0.35 * s, 0.25 * s
    pen.poly(shade(color, 1.35), [(-s / 2, s), (s / 2, s), (s / 2 + dx, s + dy), (-s / 2 + dx, s + dy)])
    pen.poly(shade(color, 0.65), [(s / 2, 0.0), (s / 2 + dx, dy), (s / 2 + dx, s + dy), (s / 2, s)])
    pen.poly(color, [(-s / 2, 0.0), (s / 2, 0.0), (s / 2, s), (-s / 2, s)])
    pen.line(shade(color, 0.5), (0.0, s), (dx, s + dy), 0.08 * s)  # tape on the lid
    pen.line(shade(color, 0.5), (0.0, s), (0.0, 0.6 * s), 0.08 * s)


_SPRITES = {"person": _person, "dog": _dog, "car": _car, "bicycle": _bicycle, "ball": _ball, "bird": _bird,
            "box": _box}


def sprite(pose: Pose) -> list[Primitive]:
    """Screen-space primitives of one object, back to front."""
    pen = _Pen(pose)
    _SPRITES[pose.category](pen, pose)
    return pen.prims


def primitives_box(prims: list[Primitive]) -> tuple[float, float, float, float]:
    """Tight box (x1, y1, x2, y2) around the pixels ``draw_primitives`` will paint (unclipped)."""
    x1 = y1 = math.inf
    x2 = y2 = -math.inf
    for prim in prims:
        kind = prim[0]
        if kind == "poly":
            xs = [p[0] for p in prim[2]]
            ys = [p[1] for p in prim[2]]
            a, b, c, d = min(xs), min(ys), max(xs), max(ys)
        elif kind == "line":
            lx1, ly1, lx2, ly2 = prim[2]
            h = prim[3] / 2.0
            a, b, c, d = min(lx1, lx2) - h, min(ly1, ly2) - h, max(lx1, lx2) + h, max(ly1, ly2) + h
        elif kind == "ellipse":
            cx, cy, rx, ry = prim[2]
            a, b, c, d = cx - rx, cy - ry, cx + rx, cy + ry
        else:  # ring
            cx, cy, r = prim[2]
            a, b, c, d = cx - r, cy - r, cx + r, cy + r
        x1, y1, x2, y2 = min(x1, a), min(y1, b), max(x2, c), max(y2, d)
    return (x1, y1, x2, y2)


def draw_primitives(draw: ImageDraw.ImageDraw, prims: list[Primitive]) -> None:
    for prim in prims:
        kind, color = prim[0], prim[1]
        if kind == "poly":
            draw.polygon(prim[2], fill=color)
        elif kind == "line":
            x1, y1, x2, y2 = prim[2]
            draw.line((x1, y1, x2, y2), fill=color, width=prim[3])
        elif kind == "ellipse":
            cx, cy, rx, ry = prim[2]
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=color)
        else:
            cx, cy, r = prim[2]
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=color, width=prim[3])


# ---------------------------------------------------------------------------------------------------------
# Static scenery in front of the objects (partial occlusion)


@dataclass
class Occluder:
    kind: str  # "post", "tree", "bush"
    x: float
    y: float  # ground contact; drawn over every object standing farther away (smaller y)
    scale: float

    def primitives(self) -> list[Primitive]:
        pen = _Pen(Pose("box", "red", self.x, self.y, self.scale))
        if self.kind == "post":
            pen.line((60, 62, 68), (0.0, 0.0), (0.0, 1.45), 0.045)
            pen.line((60, 62, 68), (0.0, 1.45), (0.22, 1.5), 0.035)
            pen.ellipse((250, 240, 170), (0.24, 1.47), 0.04)
        elif self.kind == "tree":
            pen.line((95, 65, 40), (0.0, 0.0), (0.0, 0.9), 0.09)
            pen.ellipse((40, 110, 45), (0.0, 1.15), 0.3, 0.33)
            pen.ellipse((55, 135, 55), (0.08, 1.22), 0.18, 0.2)
        else:
            pen.ellipse((45, 120, 50), (0.0, 0.12), 0.32, 0.14)
            pen.ellipse((60, 140, 60), (0.12, 0.17), 0.17, 0.1)
        return pen.prims


# ---------------------------------------------------------------------------------------------------------
# Backgrounds


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int,
                  cell_y: int | None = None) -> np.ndarray:
    """Value noise in [0, 1] with features about ``cell`` pixels wide (``cell_y`` tall), shape (height, width)."""
    cy = cell_y or cell
    grid = rng.random((height // cy + 3, width // cell + 3)).astype(np.float32)
    size = ((grid.shape[1]) * cell, (grid.shape[0]) * cy)
    image = Image.fromarray((grid * 255).astype(np.uint8)).resize(size, Image.BICUBIC)
    return np.asarray(image, np.float32)[cy:cy + height, cell:cell + width] / 255.0


def _sky(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    top = np.array([95, 150, 225], np.float32) + rng.uniform(-20, 20, 3)
    bottom = np.array([190, 215, 240], np.float32) + rng.uniform(-15, 15, 3)
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = top * (1 - t) + bottom * t
    clouds = 0.7 * _smooth_noise(rng, height, width, 48, 16) + 0.3 * _smooth_noise(rng, height, width, 16, 8)
    sky = sky + np.clip(clouds[..., None] - 0.55, 0, 1) * 180
    return np.broadcast_to(sky, (height, width, 3)).copy()


def _ground(rng: np.random.Generator, height: int, width: int, base: Color, spread: float, grain: float) -> np.ndarray:
    coarse = _smooth_noise(rng, height, width, 20)[..., None] - 0.5
    fine = rng.normal(0, 1, (height, width, 1)).astype(np.float32)
    color = np.array(base, np.float32) + rng.uniform(-12, 12, 3)
    return color + coarse * spread + fine * grain


def background(name: str, rng: np.random.Generator, width: int, height: int, horizon: int) -> np.ndarray:
    """A textured backdrop (uint8, height x width x 3): sky above ``horizon``, ground below."""
    image = np.zeros((height, width, 3), np.float32)
    image[:horizon] = _sky(rng, horizon, width)
    gh = height - horizon
    if name == "street":
        ground = _ground(rng, gh, width, (105, 105, 110), 40, 6)
        road_top, road_bottom = int(gh * 0.25), int(gh * 0.8)
        ground[:road_top] = _ground(rng, road_top, width, (170, 160, 145), 30, 5)  # far sidewalk
        ground[road_bottom:] = _ground(rng, gh - road_bottom, width, (170, 160, 145), 30, 5)
        lane = (road_top + road_bottom) // 2
        for x in range(int(rng.integers(0, 40)), width, 48):
            ground[lane - 1:lane + 2, x:x + 24] = (235, 225, 120)
        image[horizon:] = ground
        _buildings(rng, image, horizon, width)
    elif name == "park":
        image[horizon:] = _ground(rng, gh, width, (80, 150, 65), 40, 8)
        path = int(gh * rng.uniform(0.45, 0.65))
        image[horizon + path - 6:horizon + path + 6] = _ground(rng, 12, width, (185, 165, 120), 25, 6)
        _treeline(rng, image, horizon, width)
    elif name == "plaza":
        ground = _ground(rng, gh, width, (175, 165, 150), 30, 5)
        rows = np.arange(gh)[:, None]
        depth = 6 + rows * 0.25  # tiles look larger near the camera
        cols = np.arange(width)[None, :]
        grout = ((rows % np.maximum(depth, 1)).astype(int) < 1) | ((cols % 22) < 1)
        ground[grout] *= 0.7
        image[horizon:] = ground
        _buildings(rng, image, horizon, width)
    elif name == "beach":
        sea = int(gh * 0.3)
        waves = _smooth_noise(rng, sea, width, 10)[..., None]
        image[horizon:horizon + sea] = np.array([40, 110, 170], np.float32) + waves * 60
        image[horizon + sea:] = _ground(rng, gh - sea, width, (220, 200, 150), 35, 7)
    else:
        raise ValueError(f"unknown background {name!r}")
    return np.clip(image, 0, 255).astype(np.uint8)


def _buildings(rng: np.random.Generator, image: np.ndarray, horizon: int, width: int) -> None:
    x = 0
    while x < width:
        w = int(rng.integers(25, 60))
        h = int(rng.integers(horizon // 3, horizon - 4))
        tone = rng.uniform(110, 200)
        color = np.array([tone, tone * rng.uniform(0.85, 1.0), tone * rng.uniform(0.75, 1.0)], np.float32)
        image[horizon - h:horizon, x:x + w] = color
        for wy in range(horizon - h + 4, horizon - 6, 9):  # windows
            for wx in range(x + 4, min(x + w, width) - 5, 9):
                image[wy:wy + 4, wx:wx + 4] = color * 0.55
        x += w + int(rng.integers(0, 8))


def _treeline(rng: np.random.Generator, image: np.ndarray, horizon: int, width: int) -> None:
    heights = _smooth_noise(rng, 1, width, 12)[0] * horizon * 0.45 + horizon * 0.15
    rows = np.arange(horizon)[:, None]
    mask = rows >= (horizon - heights[None, :])
    shade_ = _smooth_noise(rng, horizon, width, 6)[..., None]
    trees = np.array([35, 95, 40], np.float32) + shade_ * 45
    image[:horizon][mask] = trees[mask]


# ---------------------------------------------------------------------------------------------------------
# Frames


class FramePainter:
    """Draws frames of one video: backdrop + sprites + scenery, then lighting and noise.

    Args:
        backdrop: uint8 (H, W, 3) background.
        gain: global brightness gain; ``flicker`` adds a slow +-3% variation over time.
        noise_std: std of the additive Gaussian sensor noise (0 = none).
        rng: generator for the noise bank.
    """

    NOISE_BANK = 6

    def __init__(self, backdrop: np.ndarray, gain: float, tint: tuple[float, float, float], noise_std: float,
                 rng: np.random.Generator):
        self.backdrop = Image.fromarray(backdrop)
        self.gain, self.tint = gain, np.asarray(tint, np.float32)
        h, w = backdrop.shape[:2]
        # Noise is drawn once and reused (shifted) so a frame costs one add, not a fresh normal draw.
        self.noise = [np.clip(rng.normal(0, noise_std, (h, w, 3)), -40, 40).astype(np.int16)
                      for _ in range(self.NOISE_BANK)] if noise_std > 0 else []

    def paint(self, layers: list[list[Primitive]], frame_index: int) -> np.ndarray:
        """Draw primitive lists in order (back to front) and return the lit, noisy uint8 frame."""
        image = self.backdrop.copy()
        draw = ImageDraw.Draw(image)
        for prims in layers:
            draw_primitives(draw, prims)
        gain = self.gain * (1.0 + 0.03 * math.sin(frame_index * 0.21))
        lut = np.clip(np.arange(256, dtype=np.float32)[:, None] * gain * self.tint[None, :], 0, 255)
        lut = lut.astype(np.uint8)  # (256, 3)
        pixels = np.asarray(image)
        lit = np.empty_like(pixels)
        for c in range(3):
            lit[..., c] = lut[pixels[..., c], c]
        if not self.noise:
            return lit
        noisy = lit.astype(np.int16)
        noisy += self.noise[frame_index % self.NOISE_BANK]
        np.clip(noisy, 0, 255, out=noisy)
        return noisy.astype(np.uint8)
