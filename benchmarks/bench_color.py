"""Colour accuracy of the world detector's tracks (``detect_objects`` on the world models) on a world split.

    .venv/bin/python benchmarks/bench_color.py --world DIR [--split test] [--json results/bench/color.json]
    .venv/bin/python benchmarks/bench_color.py            # generates the test videos of a 300-video seed-7 world

The shipped detector (YOLO + ByteTrack + clean-up, ``vidagent.tools.detector``) tracks every video; each
detected track is matched to the ground-truth object its boxes overlap best (mean IoU over the frames both
have, at least ``MIN_IOU``; the object's visible boxes only) and its colour is compared with the object's.
Two tables, per ground-truth class:

* **tracks**: the colour the tool reports for a track (an area-weighted vote over its boxes). A track that
  switched from one object to another during tracking counts against the object it overlaps most;
* **boxes**: the colour of each detected box (``box_color``) against the object it overlaps (IoU >= 0.5):
  the colour reader on its own, without the tracker's identity switches.

Without ``--world`` the test-split videos among the first ``--videos`` of a ``--seed`` world are generated
into a temporary folder: the same videos, ids and ground truth that
``vidagent world generate --videos 300 --seed 7`` writes, without rendering the other 90%.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MIN_IOU = 0.3  # a track follows an object when its boxes overlap the object's this much on average
BOX_IOU = 0.5  # a detected box shows an object when it overlaps that object's box this much


@dataclass
class Tally:
    """Right and total reads of one class, and what the wrong ones said."""

    right: int = 0
    total: int = 0
    wrong: Counter[str] = field(default_factory=Counter)

    def add(self, truth: str, read: str) -> None:
        self.total += 1
        self.right += truth == read
        if truth != read:
            self.wrong[read] += 1

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass
class Report:
    tracks: dict[str, Tally] = field(default_factory=dict)  # per ground-truth class
    boxes: dict[str, Tally] = field(default_factory=dict)
    confusions: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (class, truth, read) of tracks
    label_confusions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (truth class, track label)
    unmatched_tracks: int = 0
    missed_objects: int = 0  # visible objects no track follows
    videos: int = 0


def generate_split(out: Path, videos: int, seed: int, split: str) -> Path:
    """Write only the ``split`` videos among the first ``videos`` of a ``seed`` world to ``out``."""
    from vidagent.tasks.splits import DEFAULT_FRACTIONS, split_of, video_seed  # noqa: PLC0415
    from vidagent.tasks.world.config import WorldConfig  # noqa: PLC0415
    from vidagent.tasks.world.generate import generate_video, write_directory  # noqa: PLC0415

    config = WorldConfig(questions_per_video=0)
    results = []
    for index in range(videos):
        vseed = video_seed(seed, index)
        if split_of(vseed) == split:
            results.append(generate_video(config, vseed, f"world-{seed}-{index:05d}", out, split))
    if not results:
        raise SystemExit(f"no {split} videos among the first {videos} of seed {seed}; fix: raise --videos")
    write_directory(out, results, {"seed": seed, "videos": videos, "fractions": list(DEFAULT_FRACTIONS),
                                   "config": json.loads(config.model_dump_json())})
    return out


def best_object(track: Any, tables: dict[int, dict[int, tuple]], fps: float) -> int | None:
    """The ground-truth object (track id) a detected track's boxes overlap best, or None below ``MIN_IOU``."""
    from vidagent.tools.results import xyxy_iou  # noqa: PLC0415

    best, best_iou = None, MIN_IOU
    for object_id, table in tables.items():
        ious = [xyxy_iou((b.x1, b.y1, b.x2, b.y2), table[k][:4]) for b in track.boxes
                if (k := round(b.t_s * fps)) in table]
        if ious and float(np.mean(ious)) > best_iou:
            best, best_iou = object_id, float(np.mean(ious))
    return best


def measure_video(detector: Any, video: Any, report: Report) -> None:
    """Track one world video and add its tracks and boxes to ``report``."""
    from vidagent.tools.colors import box_color  # noqa: PLC0415
    from vidagent.tools.results import xyxy_iou  # noqa: PLC0415
    from vidagent.tools.video import VideoSession  # noqa: PLC0415

    session = VideoSession(video.video)
    tracks, _, _ = detector.tracks_in_span(session, 0.0, session.ref.duration_s)
    frames = session.sample(0.0, session.ref.duration_s, fps=min(detector.sample_fps, session.ref.fps))
    image_at = {round(t, 3): image for t, image in zip(frames.times_s, frames.images, strict=True)}
    objects = {obj.track_id: obj for obj in video.truth.objects}
    tables = {oid: video.box_table(oid, visible=True) for oid in objects}
    followed = set()
    for track in tracks:
        object_id = best_object(track, tables, video.fps)
        if object_id is None:
            report.unmatched_tracks += 1
            continue
        obj = objects[object_id]
        followed.add(object_id)
        report.tracks.setdefault(obj.category, Tally()).add(obj.color, track.color)
        if track.color != obj.color:
            report.confusions[(obj.category, obj.color, track.color)] += 1
        if track.label != obj.category:
            report.label_confusions[(obj.category, track.label)] += 1
        for box in track.boxes:
            shown = tables[object_id].get(round(box.t_s * video.fps))
            image = image_at.get(round(box.t_s, 3))
            if shown is None or image is None or xyxy_iou((box.x1, box.y1, box.x2, box.y2), shown[:4]) < BOX_IOU:
                continue
            report.boxes.setdefault(obj.category, Tally()).add(obj.color, box_color(image, (box.x1, box.y1, box.x2, box.y2))[0])
    report.missed_objects += sum(1 for oid, table in tables.items() if table and oid not in followed)
    report.videos += 1


def overall(tallies: dict[str, Tally]) -> Tally:
    total = Tally()
    for tally in tallies.values():
        total.right += tally.right
        total.total += tally.total
        total.wrong.update(tally.wrong)
    return total


def format_table(report: Report) -> str:
    rows = [f"{'class':9s} {'tracks':>6s} {'right':>5s} {'accuracy':>8s}   {'boxes':>6s} {'right':>6s} {'accuracy':>8s}"]
    for name in [*sorted(report.tracks), "all"]:
        track = overall(report.tracks) if name == "all" else report.tracks[name]
        box = overall(report.boxes) if name == "all" else report.boxes.get(name, Tally())
        rows.append(f"{name:9s} {track.total:6d} {track.right:5d} {track.accuracy:8.3f}   "
                    f"{box.total:6d} {box.right:6d} {box.accuracy:8.3f}")
    rows.append("wrong track colours (class truth -> read: tracks): " + (", ".join(
        f"{c} {t} -> {r}: {n}" for (c, t, r), n in report.confusions.most_common()) or "none"))
    rows.append("wrong box colours per class (read: boxes): " + "; ".join(
        f"{c} " + ", ".join(f"{r} {n}" for r, n in tally.wrong.most_common(4))
        for c, tally in sorted(report.boxes.items()) if tally.wrong))
    rows.append("track labels that differ from the object's class (truth -> label: tracks): " + (", ".join(
        f"{c} -> {label}: {n}" for (c, label), n in report.label_confusions.most_common()) or "none"))
    rows.append(f"tracks matching no object: {report.unmatched_tracks}; visible objects no track follows: "
                f"{report.missed_objects}")
    return "\n".join(rows)


def as_json(report: Report) -> dict[str, Any]:
    def tallies(table: dict[str, Tally]) -> dict[str, Any]:
        per_class = {name: {"right": t.right, "total": t.total, "accuracy": round(t.accuracy, 4),
                            "wrong": dict(t.wrong.most_common())} for name, t in sorted(table.items())}
        all_ = overall(table)
        return {"accuracy": round(all_.accuracy, 4), "right": all_.right, "total": all_.total, "per_class": per_class}

    return {"tracks": tallies(report.tracks), "boxes": tallies(report.boxes),
            "track_confusions": [{"class": c, "truth": t, "read": r, "tracks": n}
                                 for (c, t, r), n in report.confusions.most_common()],
            "label_confusions": [{"class": c, "label": label, "tracks": n}
                                 for (c, label), n in report.label_confusions.most_common()],
            "unmatched_tracks": report.unmatched_tracks, "missed_objects": report.missed_objects,
            "videos": report.videos}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default=None, help="world directory (default: generate --split videos)")
    parser.add_argument("--split", default="test", help="train, val, test or all (e.g. for examples/world)")
    parser.add_argument("--limit", type=int, default=None, help="first N videos of the split")
    parser.add_argument("--videos", type=int, default=300, help="without --world: world size to take the split from")
    parser.add_argument("--seed", type=int, default=7, help="without --world: world seed")
    parser.add_argument("--json", default=None, help="write the report here (e.g. results/bench/color.json)")
    args = parser.parse_args()

    import vidagent  # noqa: F401, PLC0415  (offline defaults)
    from vidagent.tasks.toolfit.data import load_videos  # noqa: PLC0415
    from vidagent.tools.colors import COLOR_VERSION  # noqa: PLC0415
    from vidagent.tools.detector import ObjectDetector  # noqa: PLC0415

    start = time.perf_counter()
    temporary = None
    if args.world is None:
        if args.split == "all":
            parser.error("--split all needs --world (generating keeps one split)")
        temporary = tempfile.TemporaryDirectory(prefix="bench_color_")
        world = generate_split(Path(temporary.name), args.videos, args.seed, args.split)
        source = f"the {args.split} videos of a {args.videos}-video seed-{args.seed} world"
    else:
        world = Path(args.world)
        source = str(world)
    videos = load_videos(world, splits=None if args.split == "all" else (args.split,), limit=args.limit)
    detector = ObjectDetector()
    report = Report()
    for video in videos:
        measure_video(detector, video, report)
    seconds = time.perf_counter() - start
    print(f"world:{args.split} of {source}: {report.videos} videos, colors {COLOR_VERSION}, {seconds:.0f} s")
    print(format_table(report))
    if args.json:
        out = {"world": source, "split": args.split, "color_version": COLOR_VERSION,
               "command": " ".join(["benchmarks/bench_color.py", *sys.argv[1:]]),
               "seconds": round(seconds, 1), **as_json(report)}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
