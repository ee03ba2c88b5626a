"""``vidagent eval tools --split test``: accuracy of the default tools on held-out world videos.

    python -m vidagent.tasks.toolfit.evaluate --world data/world_eval --split test

Metrics (the targets in brackets):

* detector mAP50, ultralytics ``val`` on frames of the split's videos [>= 0.90];
* distinct-object counts: ``detect_objects`` over the whole video, per (video, class) pair present in the
  ground truth or the prediction, the share where the count equals the ground truth [>= 0.85];
* action top-1 on ground-truth segments: ``recognize_action(start, end, track_id)`` with the track that
  best overlaps the actor's ground-truth boxes (end to end; a missed actor counts as wrong) [>= 0.85];
  also the model alone on ground-truth boxes;
* grounding: R@1 at IoU 0.3 / 0.5 / 0.7 and mIoU of ``ground_moment``'s top span on the split's
  grounding questions [R@1 IoU 0.5 >= 0.60].

The table is printed and written as JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidagent.answers import interval_iou
from vidagent.tasks.toolfit.data import WorldVideo, world_videos
from vidagent.tools.results import xyxy_iou

if TYPE_CHECKING:
    from vidagent.tasks.questions import Question
    from vidagent.tasks.world.generate import World

TARGETS = {"detector_map50": 0.90, "count_accuracy": 0.85, "action_top1": 0.85, "grounding_r1_iou0.5": 0.60}


def add_eval_tools_parser(eval_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``tools`` to the ``vidagent eval`` command group."""
    parser = eval_subparsers.add_parser("tools", help="accuracy of the default vision tools on world videos",
                                        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--world", type=Path, default=Path("data/world_eval"),
                        help="a directory from `vidagent world generate`")
    parser.add_argument("--split", default="test", choices=["train", "val", "test", "all"])
    parser.add_argument("--videos", type=int, default=None, help="evaluate at most this many videos")
    parser.add_argument("--only", nargs="*", default=["detector", "counts", "action", "grounding"],
                        choices=["detector", "counts", "action", "grounding"], help="which metrics to compute")
    parser.add_argument("--detector", type=Path, default=None, help="detector weights (default: the shipped ones)")
    parser.add_argument("--action", type=Path, default=None, help="action weights (default: the shipped ones)")
    parser.add_argument("--clip", type=Path, default=None, help="CLIP weights (default: the shipped ones)")
    parser.add_argument("--association-scale", type=float, default=None,
                        help="override the detector's association_scale (tuning)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: runs/eval_tools_<split>.json)")


def select(world: World, split: str, limit: int | None) -> list[WorldVideo]:
    """The videos of ``split`` ("all": every split), at most ``limit``."""
    return world_videos(world, None if split == "all" else (split,), limit)


# -- detector -----------------------------------------------------------------------------------------

def detector_map50(videos: list[WorldVideo], weights: Path, work: Path) -> dict[str, Any]:
    """mAP50 / mAP50-95 from ultralytics val on 4 frames per video."""
    from vidagent.offline import prepare_ultralytics  # noqa: PLC0415
    from vidagent.tasks.toolfit.train_detector import write_yolo_split  # noqa: PLC0415
    from vidagent.tasks.world.config import CLASSES  # noqa: PLC0415

    if work.exists():
        shutil.rmtree(work)
    n = write_yolo_split(videos, work / "test", frames_per_video=4, seed=123)
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    data = work / "world_test.yaml"
    images = (work / "test" / "images").resolve()
    data.write_text(f"path: {work.resolve()}\ntrain: {images}\nval: {images}\nnames:\n{names}\n")
    prepare_ultralytics()
    import torch  # noqa: PLC0415
    from ultralytics import YOLO  # noqa: PLC0415

    torch.set_num_threads(2)
    metrics = YOLO(str(weights)).val(data=str(data), imgsz=320, batch=32, workers=0, device="cpu", plots=False,
                                     verbose=False, project=str(work.resolve()), name="val", exist_ok=True)
    per_class = {CLASSES[int(c)]: round(float(ap), 3) for c, ap in zip(metrics.box.ap_class_index,
                                                                              metrics.box.ap50, strict=True)}
    return {"detector_map50": round(float(metrics.box.map50), 4), "detector_map50_95": round(float(metrics.box.map), 4),
            "detector_ap50_per_class": per_class, "detector_images": n}


# -- counts, actions, grounding through the tools -------------------------------------------------------

def gt_counts(video: WorldVideo) -> dict[str, int]:
    """Distinct objects per class that are visible at least once."""
    counts: dict[str, int] = {}
    for obj in video.truth.objects:
        if obj.visible_boxes():
            counts[obj.category] = counts.get(obj.category, 0) + 1
    return counts


def count_errors(truth: dict[str, int], counts: dict[str, int]) -> list[str]:
    """"<class> over" / "<class> under" for each class (seen in either) whose count is wrong."""
    return [f"{label} {'over' if counts.get(label, 0) > truth.get(label, 0) else 'under'}"
            for label in sorted(set(truth) | set(counts)) if truth.get(label, 0) != counts.get(label, 0)]


def count_accuracy(videos: list[WorldVideo], detect: Any) -> dict[str, Any]:
    """Distinct counts per (video, class) and track colors, through ``detect`` (the detect_objects tool)."""
    from vidagent.tools.video import VideoSession  # noqa: PLC0415

    correct = total = exact_videos = colors_right = colors_total = 0
    errors: dict[str, int] = {}
    for video in videos:
        session = VideoSession(video.video)
        result = detect(session, start_s=0.0, end_s=session.ref.duration_s)
        truth = gt_counts(video)
        for obj in video.truth.objects:  # color of the track that follows each ground-truth object
            table = video.box_table(obj.track_id, visible=True)
            track_id = matching_track(result.tracks, table, video.fps) if table else None
            if track_id is not None:
                colors_total += 1
                colors_right += next(t.color for t in result.tracks if t.track_id == track_id) == obj.color
        wrong = count_errors(truth, result.counts)
        pairs = len(set(truth) | set(result.counts))
        total += pairs
        correct += pairs - len(wrong)
        for key in wrong:
            errors[key] = errors.get(key, 0) + 1
        exact_videos += not wrong
    return {"count_accuracy": round(correct / max(total, 1), 4), "count_pairs": total,
            "count_videos_all_right": round(exact_videos / max(len(videos), 1), 4), "count_errors": errors,
            "color_accuracy": round(colors_right / max(colors_total, 1), 4), "color_tracks": colors_total}


def matching_track(tracks: list[Any], table: dict[int, tuple], fps: float) -> int | None:
    """The track whose boxes overlap the ground-truth boxes best (mean IoU over shared times)."""
    best, best_iou = None, 0.2
    for track in tracks:
        ious = [xyxy_iou((b.x1, b.y1, b.x2, b.y2), table[k][:4]) for b in track.boxes
                if (k := int(round(b.t_s * fps))) in table]
        if ious and float(np.mean(ious)) > best_iou:
            best, best_iou = track.track_id, float(np.mean(ious))
    return best


def action_accuracy(videos: list[WorldVideo], recognizer: Any, recognize: Any, min_frames: int = 5) -> dict[str, Any]:
    """End-to-end top-1 (``recognize``, the recognize_action tool, on detector tracks) and model-only top-1
    (``recognizer``'s model on ground-truth boxes) on GT segments."""
    from vidagent.tools.action import CLIP_FRAMES, STEP_S, clip_times, crop_clip, trajectory_features  # noqa: PLC0415
    from vidagent.tools.video import VideoSession  # noqa: PLC0415

    detector = recognizer.detector
    recognizer.setup()
    end_to_end = oracle = total = 0
    confusion: dict[str, dict[str, int]] = {}
    for video in videos:
        session = VideoSession(video.video)
        for seg in video.truth.segments:
            if seg.end_frame - seg.start_frame < min_frames:
                continue
            table = video.box_table(seg.track_id, visible=True)
            if not any(seg.start_frame <= k < seg.end_frame for k in table):
                continue
            total += 1
            start, end = seg.start_s, min(seg.end_s, session.ref.duration_s)
            tracks, _, _ = detector.tracks_in_span(session, *recognizer.context_span(session, start, end))
            in_seg = {k: v for k, v in table.items() if seg.start_frame <= k < seg.end_frame}
            track_id = matching_track(tracks, in_seg, video.fps)
            predicted = "missed"
            if track_id is not None:
                result = recognize(session, start_s=start, end_s=end, track_id=track_id)
                predicted = result.actions[0].label
            end_to_end += predicted == seg.action
            confusion.setdefault(seg.action, {}).setdefault(predicted, 0)
            confusion[seg.action][predicted] += 1
            # the model alone, on ground-truth boxes
            windows = clip_times(start, end)
            times = [t for w in windows for t in w]
            known = np.array(sorted(table))
            boxes = np.array([table[int(known[np.abs(known - round(t * video.fps)).argmin()])][:4] for t in times],
                             np.float32)
            frames = session.sample(max(0.0, min(times)), min(session.ref.duration_s, max(times) + 1e-3),
                                    fps=1 / STEP_S)
            ftimes = np.asarray(frames.times_s)
            crops = np.stack([crop_clip(frames.images[[int(np.abs(ftimes - t).argmin()) for t in w]],
                                        boxes[i * CLIP_FRAMES : (i + 1) * CLIP_FRAMES]) for i, w in enumerate(windows)])
            trajs = np.stack([trajectory_features(boxes[i * CLIP_FRAMES : (i + 1) * CLIP_FRAMES])
                              for i in range(len(windows))])
            category = video.truth.object(seg.track_id).category
            probs = recognizer.mask_by_class(recognizer.backend.predict(crops, trajs).mean(axis=0), category)
            oracle += recognizer.labels[int(probs.argmax())] == seg.action
    per_action = {a: round(row.get(a, 0) / max(1, sum(row.values())), 3) for a, row in sorted(confusion.items())}
    return {"action_top1": round(end_to_end / max(total, 1), 4), "action_top1_gt_boxes": round(oracle / max(total, 1), 4),
            "action_segments": total, "action_top1_per_class": per_action,
            "action_confusion": {a: dict(sorted(row.items(), key=lambda kv: -kv[1])) for a, row in confusion.items()}}


def grounding_questions(world: World, videos: list[WorldVideo]) -> list[Question]:
    """The world's grounding questions about ``videos``."""
    ids = {v.truth.video_id for v in videos}
    return [q for q in world.questions if q.family == "grounding" and q.video in ids]


def grounding_accuracy(world: World, videos: list[WorldVideo], ground: Any, grounder: Any) -> dict[str, Any]:
    """R@1 at IoU 0.3/0.5/0.7 and mIoU of ``ground`` (the ground_moment tool) on the grounding questions."""
    from vidagent.tools.video import VideoSession  # noqa: PLC0415

    ious, seconds = [], []
    by_video = {v.truth.video_id: v for v in videos}
    for q in grounding_questions(world, videos):
        assert q.program is not None  # every world question carries its oracle program
        query = q.program.calls[0].args["query"]
        session = VideoSession(by_video[q.video].video)
        started = time.perf_counter()
        result = ground(session, query=query, top_k=1)
        seconds.append(time.perf_counter() - started)
        top = result.spans[0]
        ious.append(interval_iou((top.start_s, top.end_s), tuple(q.answer)))
    ious_arr = np.asarray(ious)
    out = {f"grounding_r1_iou{th}": round(float((ious_arr >= th).mean()) if len(ious) else 0.0, 4)
           for th in (0.3, 0.5, 0.7)}
    out["grounding_miou"] = round(float(ious_arr.mean()) if len(ious) else 0.0, 4)
    out["grounding_questions"] = len(ious)
    # per query, first calls on a video included (they track the video and classify its tracks)
    out["grounding_seconds_per_query"] = round(float(np.mean(seconds)) if seconds else 0.0, 3)
    out["grounding_backends"] = dict(getattr(grounder, "backend_counts", {}))  # fused / clip answers
    return out


def run(args: argparse.Namespace) -> int:
    import torch  # noqa: PLC0415

    from vidagent.tasks.world.generate import load_world  # noqa: PLC0415
    from vidagent.tools.action import ActionRecognizer  # noqa: PLC0415
    from vidagent.tools.default_tools import DefaultTools  # noqa: PLC0415
    from vidagent.tools.defaults import DETECTOR_WEIGHTS  # noqa: PLC0415
    from vidagent.tools.detector import ObjectDetector  # noqa: PLC0415
    from vidagent.tools.grounding import MomentGrounder  # noqa: PLC0415
    from vidagent.tools.world_models import WorldModels  # noqa: PLC0415

    torch.set_num_threads(2)
    world = load_world(args.world)
    videos = select(world, args.split, args.videos)
    report: dict[str, Any] = {"world": str(args.world), "split": args.split, "videos": len(videos)}
    started = time.time()
    detector = ObjectDetector(args.detector) if args.association_scale is None else \
        ObjectDetector(args.detector, association_scale=args.association_scale)
    if "detector" in args.only:
        report.update(detector_map50(videos, args.detector or DETECTOR_WEIGHTS, Path("runs") / "eval_detector"))
        torch.set_num_threads(2)  # ultralytics resets it
    recognizer = ActionRecognizer(args.action, detector=detector)  # loads lazily; grounding's fused backend uses it too
    grounder = MomentGrounder(args.clip, recognizer=recognizer)
    tools = {t.name: t for t in DefaultTools(WorldModels(detector, recognizer, grounder)).tools()}
    if "counts" in args.only:
        report.update(count_accuracy(videos, tools["detect_objects"]))
    if "action" in args.only:
        report.update(action_accuracy(videos, recognizer, tools["recognize_action"]))
    if "grounding" in args.only:
        report.update(grounding_accuracy(world, videos, tools["ground_moment"], grounder))
    report["seconds"] = round(time.time() - started, 1)
    print(format_table(report))
    out = args.out or Path("runs") / f"eval_tools_{args.split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


def format_table(report: dict[str, Any]) -> str:
    rows = [("metric", "value", "target")]
    for key, value in report.items():
        if isinstance(value, float | int) and not isinstance(value, bool):
            target = TARGETS.get(key)
            rows.append((key, f"{value:.3f}" if isinstance(value, float) else str(value),
                         "" if target is None else (f">= {target:.2f} " + ("ok" if value >= target else "MISSED"))))
    width = max(len(r[0]) for r in rows)
    lines = [f"{r[0]:<{width}}  {r[1]:>8}  {r[2]}" for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vidagent.tasks.toolfit.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
