"""Long against short world videos, per family, for each row both evals have (results/long/README.md).

    python results/long/compare.py results/long/world_long.json results/long/world_short.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def per_family(report: dict, row: dict) -> dict[str, list[bool]]:
    """family -> correct flags of the row's questions (families from the world's questions file)."""
    family_of = {}
    for line in (Path(report["world"]) / "questions.jsonl").read_text().splitlines():
        question = json.loads(line)
        family_of[question["id"]] = question["family"]
    out: dict[str, list[bool]] = defaultdict(list)
    for outcome in row["outcomes"]:
        out[family_of[outcome["id"]]].append(bool(outcome["correct"]))
    return out


def main(long_path: str, short_path: str) -> None:
    long_report, short_report = json.load(open(long_path)), json.load(open(short_path))
    short_rows = {r["name"]: r for r in short_report["rows"]}
    for row in long_report["rows"]:
        if row["name"] not in short_rows:
            continue
        lo, sh = per_family(long_report, row), per_family(short_report, short_rows[row["name"]])
        print(f"### {row['name']}\n\n| family | long % (n) | short % (n) | long / short |\n|---|---|---|---|")
        shared = [f for f in sorted(lo) if f in sh]
        for family in shared:
            a, b = sum(lo[family]) / len(lo[family]), sum(sh[family]) / len(sh[family])
            print(f"| {family} | {100 * a:.1f} ({len(lo[family])}) | {100 * b:.1f} ({len(sh[family])}) | "
                  f"{a / b if b else float('nan'):.2f} |")
        la = sum(sum(lo[f]) for f in shared) / sum(len(lo[f]) for f in shared)
        sa = sum(sum(sh[f]) for f in shared) / sum(len(sh[f]) for f in shared)
        print(f"| shared families | {100 * la:.1f} | {100 * sa:.1f} | {la / sa:.2f} |\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
