"""Color names for boxes: which named color an object is painted, judged against its surroundings.

``PALETTE`` is the one definition of the color names and their RGB values: the world draws its sprites in
it (``vidagent.tasks.world.config.COLORS`` is this dict), so the names the tool gives are the world's.

Why a plain "nearest palette color of the box's pixels" vote fails on the world (issue 17): a sprite's
paint is only part of its pixels. A person is a shirt over dark pants (``PANTS`` in
``vidagent.tasks.world.render``), dark hair and skin; a bicycle is a frame of 2-pixel lines between two black
tires, a black saddle and handlebar. Dark pants and tires are within reach of "black", and the H.264 video
stores color at half resolution (yuv420p), so a thin frame line's color is blended with the road or sand
around it and matches no palette color. The black parts won the vote: 4 of 5 bundled videos had "black"
people, the yellow bicycle was "black". So ``box_color``:

1. keeps the object's pixels: a pixel whose coarse color is about as common in a ring around the box as
   inside it is background (grass, sky, road);
2. names each pixel by hue when it is saturated and bright enough for that paint (``_MIN_SATURATION``,
   ``_MIN_VALUE``: skin, hair, sand and tree trunks are desaturated orange, the blue pants dark blue),
   else "black" when dark and grey, "white" when bright and grey;
3. names the blended pixels of thin lines by the direction of their chroma, when they stand out from
   the background along it (``_BLENDED``), for the paints no skin, wood, glass or sky can pass for;
4. picks the paint: a chromatic color that holds ``_MIN_PAINT_SHARE`` of the object's pixels wins over
   black and white (the dark parts of a sprite are accessories; a black or white sprite has almost no
   saturated pixels), else the more common of black and white.
"""

from __future__ import annotations

import numpy as np

# Bump when ``box_color`` names pixels differently: the world detector's fingerprint includes it, so
# cached tool results computed with the old colors are recomputed.
COLOR_VERSION = "colors-v2"

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (205, 35, 35),
    "green": (40, 165, 55),
    "blue": (40, 80, 215),
    "yellow": (240, 215, 40),
    "orange": (245, 130, 20),
    "purple": (135, 55, 180),
    "white": (245, 245, 245),
    "black": (30, 30, 30),
}
COLOR_NAMES = tuple(PALETTE)
CHROMATIC = ("red", "green", "blue", "yellow", "orange", "purple")
_CHROMATIC_INDEX = np.array([COLOR_NAMES.index(n) for n in CHROMATIC])  # [6] into COLOR_NAMES
_BLACK, _WHITE = COLOR_NAMES.index("black"), COLOR_NAMES.index("white")
_UNNAMED = -1

# Per paint, the least saturation (chroma / max channel) and brightness (max channel) of a pixel named by its
# hue. Orange and yellow sit at the hues of skin (S 0.3-0.57), hair, sand and tree trunks; green at those of
# grass and foliage (S 0.57-0.64); blue at that of the dark blue pants (V <= 127 at the brightest lighting,
# a blue shirt is >= 170 at the dimmest). Values measured on the world's val split.
_MIN_SATURATION = {"red": 0.5, "green": 0.6, "blue": 0.5, "yellow": 0.65, "orange": 0.65, "purple": 0.35}
_MIN_VALUE = {"red": 90, "green": 80, "blue": 135, "yellow": 120, "orange": 110, "purple": 90}
_MIN_CHROMA = 40  # max - min channel: below it the hue of a pixel is mostly noise
# Achromatic pixels: black is dark and grey (the world's black is 30, dimmed or brightened 0.8-1.15x; dark
# pants and hair are 50-110), white is bright and grey (245, and 196 in the dimmest scenes).
_BLACK_MAX_VALUE, _BLACK_MAX_CHROMA = 60, 30
_WHITE_MIN_VALUE, _WHITE_MAX_SATURATION = 160, 0.2
# Blended pixels of thin lines: paints named by the direction of the pixel's chroma (within _BLENDED_ANGLE
# degrees of the paint's, and nearer it than any other paint's) when the pixel stands out from the
# background by _BLENDED_MARGIN along it. Not orange or red (skin points that way), not blue (car glass and
# sky do).
_BLENDED = {"yellow": 100, "green": 80, "purple": 80}  # paint -> least brightness
_BLENDED_ANGLE, _BLENDED_MARGIN = 30.0, 20.0
# A chromatic paint needs this share of the object's pixels to win over black and white.
_MIN_PAINT_SHARE = 0.15
_MIN_SHARE = 0.03  # below this for every color: "unknown"


def _hue(pixels: np.ndarray) -> np.ndarray:
    """Hue angle in degrees (0 red, 120 green, 240 blue) of float RGB pixels. [P, 3] -> [P]"""
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    return np.degrees(np.arctan2(np.sqrt(3) * (g - b), 2 * r - g - b)) % 360


def _chroma_direction(pixels: np.ndarray) -> np.ndarray:
    """Each color minus its grey level: the part of the color that is hue and saturation. [P, 3] -> [P, 3]"""
    return pixels - pixels.mean(axis=1, keepdims=True)


_PAINTS = np.array([PALETTE[n] for n in CHROMATIC], np.float32)  # [6, 3]
_PAINT_HUE = _hue(_PAINTS)  # [6]
_PAINT_DIRECTION = _chroma_direction(_PAINTS)
_PAINT_DIRECTION /= np.linalg.norm(_PAINT_DIRECTION, axis=1, keepdims=True)  # [6, 3] unit vectors
_PAINT_MIN_S = np.array([_MIN_SATURATION[n] for n in CHROMATIC], np.float32)  # [6]
_PAINT_MIN_V = np.array([_MIN_VALUE[n] for n in CHROMATIC], np.float32)  # [6]


def name_pixels(pixels: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    """The palette color of each pixel of an object (index into ``COLOR_NAMES``, -1 for none: skin, grey,
    shade). ``background`` (RGB) is the color around the object; with it, thin lines whose color is blended
    with the background are named too. [P, 3] -> [P]"""
    flat = pixels.reshape(-1, 3).astype(np.float32)  # [P, 3]
    value = flat.max(axis=1)  # [P]
    chroma = value - flat.min(axis=1)  # [P]
    saturation = chroma / np.maximum(value, 1.0)  # [P]
    hue_gap = np.abs(_hue(flat)[:, None] - _PAINT_HUE[None, :])  # [P, 6]
    nearest = np.minimum(hue_gap, 360 - hue_gap).argmin(axis=1)  # [P] paint of the nearest hue
    painted = ((chroma >= _MIN_CHROMA) & (saturation >= _PAINT_MIN_S[nearest])
               & (value >= _PAINT_MIN_V[nearest]))
    names = np.where(painted, _CHROMATIC_INDEX[nearest], _UNNAMED)
    names[(chroma < _BLACK_MAX_CHROMA) & (value < _BLACK_MAX_VALUE)] = _BLACK
    names[(saturation < _WHITE_MAX_SATURATION) & (value >= _WHITE_MIN_VALUE)] = _WHITE
    if background is not None:
        names = _name_blended(flat, value, names, np.asarray(background, np.float32))
    return names


def _name_blended(flat: np.ndarray, value: np.ndarray, names: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Name the still unnamed pixels whose chroma points to a paint of ``_BLENDED`` and departs from the
    background's toward it (a blend of that paint with the background)."""
    direction = _chroma_direction(flat)  # [P, 3]
    cosine = direction @ _PAINT_DIRECTION.T / (np.linalg.norm(direction, axis=1, keepdims=True) + 1e-6)  # [P, 6]
    nearest = cosine.argmax(axis=1)  # [P]
    aligned = cosine[np.arange(len(flat)), nearest] >= np.cos(np.radians(_BLENDED_ANGLE))  # [P]
    departure = ((direction - _chroma_direction(background[None, :])) * _PAINT_DIRECTION[nearest]).sum(axis=1)  # [P]
    out = names.copy()
    for paint, min_value in _BLENDED.items():
        k = CHROMATIC.index(paint)
        blended = ((names == _UNNAMED) & (nearest == k) & aligned & (departure >= _BLENDED_MARGIN)
                   & (value >= min_value))
        out[blended] = _CHROMATIC_INDEX[k]
    return out


def box_color(image: np.ndarray, box: tuple[float, float, float, float]) -> tuple[str, float]:
    """Name the paint of the object in ``box`` (x1, y1, x2, y2 pixels) of an RGB image (see the module
    docstring). Returns (name, share of the object's pixels with that color); ("unknown", 0.0) for an empty
    box or one with no nameable pixels."""
    found = object_pixels(image, box)
    if found is None:
        return "unknown", 0.0
    pixels, background = found
    names = name_pixels(pixels, background)
    shares = np.bincount(names[names >= 0], minlength=len(COLOR_NAMES)) / max(1, len(names))  # [C]
    paint = int(_CHROMATIC_INDEX[shares[_CHROMATIC_INDEX].argmax()])
    if shares[paint] >= _MIN_PAINT_SHARE:
        return COLOR_NAMES[paint], float(shares[paint])
    best = max((_BLACK, _WHITE, paint), key=lambda i: shares[i])
    if shares[best] < _MIN_SHARE:
        return "unknown", 0.0
    return COLOR_NAMES[best], float(shares[best])


def object_pixels(image: np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The pixels of ``box`` that belong to the object, and the background color around it (the median of a
    ring around the box; None when the box fills the image). None for an empty box.

    A pixel counts as the object's when its coarse color bin is much more common inside the box than in the
    ring (grass, sky, road); when that leaves almost nothing, every pixel of the box is kept.
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, x2, y1, y2 = max(0, x1), min(width, x2), max(0, y1), min(height, y2)
    if x2 <= x1 or y2 <= y1:  # empty, or outside the image
        return None
    inner = image[y1:y2, x1:x2].reshape(-1, 3)
    pad_x, pad_y = max(3, (x2 - x1) // 3), max(3, (y2 - y1) // 3)
    rx1, ry1, rx2, ry2 = max(0, x1 - pad_x), max(0, y1 - pad_y), min(width, x2 + pad_x), min(height, y2 + pad_y)
    ring_mask = np.ones((ry2 - ry1, rx2 - rx1), bool)
    ring_mask[y1 - ry1 : y2 - ry1, x1 - rx1 : x2 - rx1] = False
    ring = image[ry1:ry2, rx1:rx2][ring_mask]
    inner_bins = _bins(inner)
    p_inner = np.bincount(inner_bins, minlength=512) / max(1, len(inner_bins))
    p_ring = np.bincount(_bins(ring), minlength=512) / max(1, len(ring)) if len(ring) else np.zeros(512)
    foreground = p_inner[inner_bins] > 3.0 * p_ring[inner_bins]  # [P] this color is the object's, not the scene's
    pixels = inner[foreground] if foreground.sum() >= max(4, 0.05 * len(inner)) else inner
    background = np.median(ring, axis=0).astype(np.float32) if len(ring) else None
    return pixels, background


def _bins(pixels: np.ndarray) -> np.ndarray:
    """Coarse RGB bin (8 levels per channel) of each pixel. [P, 3] -> [P]"""
    q = (pixels.reshape(-1, 3) // 32).astype(np.int64)
    return q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]


def vote(names: list[str]) -> str:
    """Most frequent known color of a track's boxes ("unknown" only when nothing else was seen)."""
    known = [n for n in names if n != "unknown"]
    if not known:
        return "unknown"
    values, counts = np.unique(known, return_counts=True)
    return str(values[counts.argmax()])


# Natural color names for real footage (the palette above is the synthetic world's eight paints).
NATURAL_COLORS = ("black", "white", "gray", "red", "orange", "brown", "yellow", "green", "blue", "purple", "pink")
# Achromatic pixels are mostly shade and shadow on real objects: they count for less in the vote.
_ACHROMATIC_WEIGHT = 0.6
# COCO-pose keypoints of the torso: left/right shoulder, left/right hip.
_TORSO = (5, 6, 11, 12)


def natural_color(image: np.ndarray, box: tuple[float, float, float, float],
                  keypoints: np.ndarray | None = None) -> str:
    """The color of a real object in an RGB image: its clothing (the torso, from keypoints) for a person,
    else the middle of its box. HSV bins vote; "unknown" for an empty region."""
    import cv2  # noqa: PLC0415

    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    region = (x1 + 0.25 * (x2 - x1), y1 + 0.2 * (y2 - y1), x2 - 0.25 * (x2 - x1), y2 - 0.2 * (y2 - y1))
    if keypoints is not None and len(keypoints) > max(_TORSO):
        torso = keypoints[list(_TORSO)]
        seen = torso[(torso[:, 2] > 0.5) & ~np.isnan(torso[:, 0])] if torso.shape[1] > 2 else torso
        if len(seen) >= 3:
            tx1, ty1 = seen[:, :2].min(axis=0)
            tx2, ty2 = seen[:, :2].max(axis=0)
            if tx2 - tx1 >= 4 and ty2 - ty1 >= 4:
                inset = 0.15 * (tx2 - tx1)
                region = (tx1 + inset, ty1 + 0.1 * (ty2 - ty1), tx2 - inset, ty2 - 0.1 * (ty2 - ty1))
    rx1, ry1 = max(0, int(region[0])), max(0, int(region[1]))
    rx2, ry2 = min(width, int(np.ceil(region[2]))), min(height, int(np.ceil(region[3])))
    if rx2 <= rx1 or ry2 <= ry1:
        return "unknown"
    hsv = cv2.cvtColor(np.ascontiguousarray(image[ry1:ry2, rx1:rx2]), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    votes = np.bincount(_natural_bins(hsv), minlength=len(NATURAL_COLORS)).astype(np.float32)
    votes[:3] *= _ACHROMATIC_WEIGHT
    return NATURAL_COLORS[int(votes.argmax())]


def _natural_bins(hsv: np.ndarray) -> np.ndarray:
    """Index into NATURAL_COLORS per pixel of an OpenCV HSV array (H 0-180, S and V 0-255). [P, 3] -> [P]"""
    h, s, v = (hsv[:, i].astype(np.int32) for i in range(3))
    out = np.full(len(hsv), NATURAL_COLORS.index("gray"))
    chroma = (s >= 50) & (v >= 50)
    hue_names = np.select(
        [h < 8, h < 20, h < 34, h < 85, h < 130, h < 150, h < 168],
        [3, 4, 6, 7, 8, 9, 10], default=3)  # red, orange, yellow, green, blue, purple, pink, red
    brown = chroma & (h < 20) & (v < 150)  # dark orange/red is brown (wood, skin in shade, leather)
    out = np.where(chroma, hue_names, out)
    out = np.where(brown, NATURAL_COLORS.index("brown"), out)
    out = np.where(~chroma & (v < 50), NATURAL_COLORS.index("black"), out)
    out = np.where(~chroma & (v >= 50) & (s < 50) & (v > 185), NATURAL_COLORS.index("white"), out)
    return out
