"""PNG curves from JSONL training logs (matplotlib, headless)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_log(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_curves(log: str | Path, png: str | Path, series: list[tuple[str, str]], *, title: str,
                x: str = "step") -> Path | None:
    """One panel per (key, label) in ``series``; records without the key are skipped. None if no records."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    records = read_log(log)
    if not records:
        return None
    columns = min(len(series), 3)
    rows = (len(series) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for ax, (key, label) in zip(axes.flat, series, strict=False):
        points = [(r[x], r[key]) for r in records if r.get(key) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.2)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(x, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(series):]:
        ax.axis("off")
    figure.suptitle(title, fontsize=10)
    return _save(figure, png)


def plot_prefixed(log: str | Path, png: str | Path, prefix: str, *, title: str, window: int = 1,
                  x: str = "step") -> Path | None:
    """One line per key starting with ``prefix`` (e.g. ``acc/count``), as a running mean over ``window``
    records that have it; None when no record has such a key."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    records = read_log(log)
    keys = sorted({k for r in records for k in r if k.startswith(prefix)})
    if not keys:
        return None
    figure, ax = plt.subplots(figsize=(6.4, 3.8))
    for key in keys:
        points = [(r[x], r[key]) for r in records if r.get(key) is not None]
        xs = [p[0] for p in points]
        ys = [sum(v for _, v in points[max(0, i + 1 - window): i + 1]) / len(points[max(0, i + 1 - window): i + 1])
              for i in range(len(points))]
        ax.plot(xs, ys, marker="o", markersize=2, linewidth=1.2, label=key[len(prefix):])
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(x, fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(figure, png)


def plot_reliability(rows: list[tuple[str, list[tuple[float, float, int]]]], png: str | Path, *,
                     title: str) -> Path:
    """A reliability diagram: accuracy against confidence per bin (``evaluate.calibration_bins``), one line
    per row, the diagonal for perfect calibration, and the count of questions per bin as marker size."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], linestyle="--", color="#888", linewidth=1, label="calibrated")
    for name, table in rows:
        if table:
            conf, acc, counts = zip(*table, strict=True)
            ax.plot(conf, acc, marker="o", linewidth=1.2, label=name)
            ax.scatter(conf, acc, s=[8 + 4 * n for n in counts], alpha=0.35)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (winning share of samples)", fontsize=8)
    ax.set_ylabel("accuracy", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title, fontsize=9)
    return _save(figure, png)


def _save(figure: Any, png: str | Path) -> Path:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure.tight_layout()
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png, dpi=110)
    plt.close(figure)
    return png
