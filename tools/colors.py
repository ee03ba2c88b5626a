"""Color names for boxes: which named color dominates an object, judged against its surroundings.

``PALETTE`` is the one definition of the color names and their RGB values: the world draws its sprites in
it (``vidagent.tasks.world.config.COLORS`` is this dict), so the names the tool gives are the world's.
"""

from __future__ import annotations

import numpy as np

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
_PALETTE_RGB = np.array(list(PALETTE.values()), np.float32)  # [C, 3]
# A pixel farther than this (RGB euclidean) from every palette color counts as no color at all
# (skin, asphalt, shadows). Lighting gain and noise in the world stay well inside it.
_MAX_DISTANCE = 80.0


def palette_histogram(pixels: np.ndarray) -> np.ndarray:
    """Share of pixels nearest to each palette color (unmatched pixels count for none). [P, 3] -> [C]"""
    if len(pixels) == 0:
        return np.zeros(len(PALETTE), np.float32)
    flat = pixels.reshape(-1, 3).astype(np.float32)  # [P, 3]
    distance = np.linalg.norm(flat[:, None, :] - _PALETTE_RGB[None, :, :], axis=2)  # [P, C]
    nearest = distance.argmin(axis=1)  # [P]
    matched = distance[np.arange(len(flat)), nearest] < _MAX_DISTANCE
    counts = np.bincount(nearest[matched], minlength=len(PALETTE)).astype(np.float32)
    return counts / len(flat)


def box_color(image: np.ndarray, box: tuple[float, float, float, float]) -> tuple[str, float]:
    """Name the dominant color of the object in ``box`` (x1, y1, x2, y2 pixels) of an RGB image.

    Background pixels inside the box are left out first: a pixel counts as the object's when its coarse
    color bin is much more common inside the box than in a ring around it (grass, sky, road). The
    remaining pixels vote for their nearest palette color. Returns (name, share of object pixels).
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, x2 = max(0, min(x1, width - 1)), max(1, min(x2, width))
    y1, y2 = max(0, min(y1, height - 1)), max(1, min(y2, height))
    if x2 <= x1 or y2 <= y1:
        return "unknown", 0.0
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
    shares = palette_histogram(pixels)
    best = int(shares.argmax())
    if shares[best] < 0.03:
        return "unknown", 0.0
    return COLOR_NAMES[best], float(shares[best])


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
