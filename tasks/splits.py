"""Train / val / test splits by video seed.

A video's split is a pure function of its seed (a hash, not its position in a run), so a video keeps its
split across runs and directories, and no video can be in two splits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from vidagent.errors import ConfigError

SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


def video_seed(seed: int, index: int) -> int:
    """Seed of the ``index``-th video of a run with ``seed`` (31-bit, stable across platforms)."""
    digest = hashlib.sha256(f"vidagent-world:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def split_of(seed: int, fractions: Sequence[float] = DEFAULT_FRACTIONS) -> str:
    """The split of the video with this seed."""
    check_fractions(fractions)
    digest = hashlib.sha256(f"vidagent-split:{seed}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    edge = 0.0
    for name, share in zip(SPLITS, fractions):
        edge += share
        if u < edge:
            return name
    return SPLITS[-1]


def check_fractions(fractions: Sequence[float]) -> None:
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ConfigError(f"split fractions {list(fractions)} are not three non-negative shares summing to 1",
                          "pass e.g. (0.8, 0.1, 0.1) for train, val, test")


def group_by_split(truths: Iterable[Any]) -> dict[str, list[str]]:
    """Video ids per split, from ground truths (each has ``video_id`` and ``split``)."""
    groups: dict[str, list[str]] = {name: [] for name in SPLITS}
    for gt in truths:
        if gt.split not in groups:
            raise ConfigError(f"video {gt.video_id} has no split", "regenerate the directory")
        groups[gt.split].append(gt.video_id)
    return {name: sorted(ids) for name, ids in groups.items()}
