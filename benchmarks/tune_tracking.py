"""Tune ``detect_objects``' track clean-up on a split: distinct-count accuracy per setting.

YOLO runs once per video (its detections are kept in memory); each setting then re-runs only ByteTrack and
the clean-up of ``vidagent.tools.tracklets``, so a setting costs seconds, not minutes.

    .venv/bin/python benchmarks/tune_tracking.py --world data/world_eval --split val \\
        --try "merge_gap_s=3.0,recolor_gap_s=-1,still_gap_s=-1,duplicate_iou=2" --try "merge_gap_s=5.0"

Each ``--try`` is comma-separated ``ObjectDetector`` keyword arguments (a negative gap or an IoU above 1
turns that rule off) and ByteTrack keys of ``tools/configs/bytetrack.yaml`` (``new_track_thresh=0.3``);
``conf`` filters detections made once at ``--min-conf``. No ``--try`` compares the shipped settings with
the pre-clean-up rules.
The shipped defaults were chosen this way on ``val`` and then measured once on ``test``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

import vidagent  # noqa: F401  (offline defaults)

BEFORE_CLEANUP = "merge_gap_s=3.0,recolor_gap_s=-1,still_gap_s=-1,duplicate_iou=2"
TRACKER_KEYS = {"track_high_thresh", "track_low_thresh", "new_track_thresh", "track_buffer", "match_thresh"}


class CachedDetections:
    """Stands in for ``YoloModel``: returns the detections computed once for this video."""

    def __init__(self, detections: list[Any], names: dict[int, str]):
        self.detections, self.names = detections, names

    def detect(self, images: Any, batch_size: int = 16) -> list[Any]:
        return self.detections


def parse_setting(text: str) -> dict[str, float]:
    out = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        out[key.strip()] = float(value) if "." in value or "e" in value else int(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--try", dest="settings", action="append", default=[])
    parser.add_argument("--min-conf", type=float, default=None, help="detect once at this confidence "
                        "(default: the detector's own); a setting's conf then filters")
    parser.add_argument("--weights", default=None, help="detector weights (default: the shipped ones)")
    parser.add_argument("--imgsz", type=int, default=None, help="inference size (default: the detector's own)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import tempfile
    from pathlib import Path

    import yaml
    from tqdm import tqdm
    from vidagent.tasks.toolfit.data import load_videos
    from vidagent.tasks.toolfit.evaluate import count_errors, gt_counts
    from vidagent.tools.detector import ObjectDetector
    from vidagent.tools.video import VideoSession

    videos = load_videos(args.world, splits=(args.split,))
    from vidagent.tools.detector import TRACKER_CONFIG

    chosen = {"weights": args.weights, "imgsz": args.imgsz, "conf": args.min_conf}
    detector = ObjectDetector(**{key: value for key, value in chosen.items() if value is not None})
    detector.setup()
    fps = detector.sample_fps
    cached = []
    for video in tqdm(videos, desc="detecting", unit="video"):
        session = VideoSession(video.video)
        frames = session.sample(0.0, session.ref.duration_s, fps=fps)
        cached.append((video, frames.images, frames.times_s, detector.model.detect(frames.images)))

    report = {}
    for text in args.settings or ["", BEFORE_CLEANUP]:
        setting = parse_setting(text)
        tracker = {k: setting.pop(k) for k in list(setting) if k in TRACKER_KEYS}
        if tracker:
            config = {**yaml.safe_load(TRACKER_CONFIG.read_text()), **tracker}
            path = Path(tempfile.mkdtemp()) / "bytetrack.yaml"
            path.write_text(yaml.safe_dump(config))
            setting["tracker_config"] = path
        tuned = ObjectDetector(**setting)
        right = total = 0
        errors: Counter[str] = Counter()
        for video, images, times, detections in cached:
            kept = [d[d.conf >= tuned.conf] for d in detections]
            tuned.model = CachedDetections(kept, detector.model.names)
            counts = Counter(t.label for t in tuned.track_frames(images, times, fps).tracks)
            truth = gt_counts(video)
            wrong = count_errors(truth, counts)
            pairs = len(set(truth) | set(counts))
            total += pairs
            right += pairs - len(wrong)
            errors.update(wrong)
        name = text or "shipped defaults"
        report[name] = {"count_accuracy": round(right / max(total, 1), 3), "pairs": total,
                        "errors": dict(errors.most_common())}
        print(f"{report[name]['count_accuracy']:.3f}  {name}  {report[name]['errors']}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
