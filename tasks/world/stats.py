"""Counts over a world directory (or any questions + ground truths): what ``vidagent world stats`` prints."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from vidagent.tasks.questions import Question


def question_stats(questions: list[Question]) -> dict[str, Counter]:
    answers: Counter = Counter()
    for q in questions:
        if q.answer_type == "interval":
            answers["interval"] += 1
        elif q.answer_type == "number" or (q.answer_type == "choice" and str(q.answer).isdigit()):
            answers[f"number {int(float(q.answer))}"] += 1
        else:
            answers[str(q.answer) if len(str(q.answer)) <= 24 else "(caption)"] += 1
    return {
        "family": Counter(q.family for q in questions),
        "answer type": Counter(q.answer_type for q in questions),
        "hops": Counter(str(q.hops) for q in questions),
        "answer": answers,
    }


def truth_stats(truths: list[Any]) -> dict[str, Counter]:
    return {
        "class": Counter(o.category for gt in truths for o in gt.objects),
        "color": Counter(o.color for gt in truths for o in gt.objects),
        "action (segments)": Counter(s.action for gt in truths for s in gt.segments),
        "event": Counter(e.type for gt in truths for e in gt.events),
        "background": Counter(gt.background for gt in truths),
        "split": Counter(str(gt.split) for gt in truths),
    }


def format_counter(title: str, counter: Counter, limit: int = 20) -> str:
    total = sum(counter.values()) or 1
    width = max([len(str(k)) for k in counter] + [len(title)])
    lines = [f"{title:<{width}}  {'count':>7}  {'share':>6}"]
    for key, n in counter.most_common(limit):
        lines.append(f"{key!s:<{width}}  {n:>7}  {100 * n / total:5.1f}%")
    if len(counter) > limit:
        lines.append(f"... {len(counter) - limit} more")
    return "\n".join(lines)


def generator_line(version: str) -> str:
    """Which generator made a world, and whether it is the one this code runs."""
    from vidagent.tasks.questions import GENERATOR_VERSION, UNVERSIONED

    if version == GENERATOR_VERSION:
        return f"generator {version} (current)"
    old = "written before worlds recorded it; " if version == UNVERSIONED else ""
    return f"generator {version} ({old}current: {GENERATOR_VERSION}; regenerate to compare with new runs)"


def world_stats(root: str | Path) -> dict[str, Any]:
    """The numbers of a world directory: totals, the generator that made it, video ids per split and every
    count table (``vidagent world stats --json`` prints this; ``format_report`` turns it into the tables)."""
    from vidagent.tasks.questions import GENERATOR_VERSION
    from vidagent.tasks.world.generate import load_world

    world = load_world(root)
    truths = list(world.truths.values())
    videos = [world.root / gt.video_file for gt in truths]
    tables = {**truth_stats(truths), **question_stats(world.questions)}
    return {
        "directory": str(world.root),
        "generator_version": world.generator_version,
        "current_generator": world.generator_version == GENERATOR_VERSION,
        "videos": len(truths),
        "frames": sum(gt.num_frames for gt in truths),
        "duration_s": round(sum(gt.duration_s for gt in truths), 3),
        "questions": len(world.questions),
        "bytes": sum(path.stat().st_size for path in videos if path.exists()),
        "splits": world.manifest["splits"],
        "counts": {name: dict(counter.most_common()) for name, counter in tables.items()},
    }


def format_report(stats: dict[str, Any]) -> str:
    """What ``vidagent world stats`` prints, from ``world_stats``."""
    seconds, size = stats["duration_s"], stats["bytes"]
    head = [f"world {stats['directory']}: {stats['videos']} videos, {stats['frames']} frames, "
            f"{seconds / 60:.1f} min, {stats['questions']} questions, {size / 1e6:.1f} MB of video"
            + (f" ({size / 1e6 / (seconds / 60):.2f} MB per minute)" if seconds and size else "")
            + "\n" + generator_line(stats["generator_version"])]
    tables = [format_counter(name, Counter(counts)) for name, counts in stats["counts"].items()]
    return "\n\n".join(head + tables)


def world_report(root: str | Path) -> str:
    return format_report(world_stats(root))
