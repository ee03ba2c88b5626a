"""Train the default detector: YOLO11n from ``yolo11n.yaml`` (no pretrained weights) on world frames.

    python -m vidagent.tasks.toolfit.train_detector --train data/world_train --out runs/detector/detector.pt

Frames are sampled from the world videos and written as a YOLO dataset (images + labels, absolute paths
in the data yaml); ultralytics trains on it; the best checkpoint is copied to ``--out``. ``--init`` fine-tunes
a checkpoint instead (AdamW, small learning rate); ``--focus bird=6`` adds frames where a rare class is
visible. Uses ultralytics (AGPL-3.0). The default ``--out`` is under ``runs/`` (git-ignored): the shipped
``tools/weights/detector.pt`` is replaced only when named as ``--out`` (``vidagent eval tools --detector FILE``
compares new weights first).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from vidagent.errors import ConfigError
from vidagent.tasks.toolfit.data import WorldVideo, load_videos, read_frames, too_small_world

# The world's vocabulary (vidagent.tasks.world.config.CLASSES, the label order of the detector) is imported
# inside the functions that use it, so that registering `vidagent train` does not load the world.


def pick_frames(video: WorldVideo, frames_per_video: int, focus: dict[str, int],
                rng: np.random.Generator) -> list[int]:
    """``frames_per_video`` frames at random, plus up to ``focus[c]`` more among the frames where class ``c``
    is visible: rare classes (birds fly through in a few seconds) otherwise get too few training boxes."""
    n = video.truth.num_frames
    picks = set(rng.choice(n, size=min(n, frames_per_video), replace=False).tolist())
    for category, extra in focus.items():
        candidates = [f for f in video.visible_frames(category) if f not in picks]
        if candidates and extra > 0:
            picks.update(rng.choice(candidates, size=min(extra, len(candidates)), replace=False).tolist())
    return sorted(int(f) for f in picks)


def write_yolo_split(videos: list[WorldVideo], out: Path, frames_per_video: int, seed: int,
                     focus: dict[str, int] | None = None) -> int:
    """Write images/ and labels/ for one split; returns the number of images."""
    from PIL import Image  # noqa: PLC0415

    from vidagent.tasks.world.config import CLASSES  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    count = 0
    for video in tqdm(videos, desc=f"frames -> {out.name}", unit="video", leave=False):
        picks = pick_frames(video, frames_per_video, focus or {}, rng)
        images = read_frames(video.video, picks)
        height, width = images.shape[1:3]
        for frame, image in zip(picks, images, strict=True):
            stem = f"{video.truth.video_id}_{frame:05d}"
            Image.fromarray(image).save(out / "images" / f"{stem}.jpg", quality=92)
            lines = []
            for _, category, _, (x1, y1, x2, y2) in video.visible_boxes(frame):
                if x2 - x1 < 2 or y2 - y1 < 2:
                    continue
                cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
                lines.append(f"{CLASSES.index(category)} {cx:.5f} {cy:.5f} "
                             f"{(x2 - x1) / width:.5f} {(y2 - y1) / height:.5f}")
            (out / "labels" / f"{stem}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
            count += 1
    return count


def build_dataset(train_dirs: list[Path], val_dir: Path | None, work: Path, frames_per_video: int,
                  val_videos: int, focus: dict[str, int] | None = None) -> Path:
    """Write the YOLO dataset under ``work`` and return its data yaml (absolute paths). Training videos are
    the train split of every ``train_dirs`` world; validation videos are the val split of ``val_dir``, or the
    last ``val_videos`` training videos without it."""
    from vidagent.tasks.world.config import CLASSES  # noqa: PLC0415

    videos = [video for directory in train_dirs for video in load_videos(directory, splits=("train",))]
    if val_dir is not None:
        val = load_videos(val_dir, splits=("val",))
    elif 0 < val_videos < len(videos):
        videos, val = videos[:-val_videos], videos[-val_videos:]
    else:
        raise ConfigError(f"--val-videos {val_videos} must be between 1 and {len(videos) - 1} "
                          f"(the training worlds have {len(videos)} train videos)",
                          f"pass --val-videos in that range, --val WORLD_DIR with a val split, or "
                          f"{too_small_world('detector')}")
    n_train = write_yolo_split(videos, work / "train", frames_per_video, seed=0, focus=focus)
    n_val = write_yolo_split(val, work / "val", 2, seed=1)
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    data = work / "world.yaml"
    data.write_text(f"path: {work.resolve()}\ntrain: {(work / 'train' / 'images').resolve()}\n"
                    f"val: {(work / 'val' / 'images').resolve()}\nnames:\n{names}\n")
    print(f"dataset: {n_train} train images, {n_val} val images -> {data}")
    return data


def train(data: Path, out: Path, epochs: int, imgsz: int, batch: int, runs: Path, threads: int,
          hours: float | None, init: Path | None = None) -> Path:
    from vidagent.offline import prepare_ultralytics  # noqa: PLC0415

    prepare_ultralytics()
    import torch  # noqa: PLC0415
    from ultralytics import YOLO  # noqa: PLC0415

    torch.set_num_threads(threads)  # ultralytics sets OMP_NUM_THREADS=1 on import
    model = YOLO(str(init) if init is not None else "yolo11n.yaml", task="detect")  # init: fine-tune
    # ultralytics re-initialises the network when pretrained=False, even from a .pt: a fine-tune must say True.
    # It also needs a gentle schedule: the from-scratch SGD at 0.01 with a 3-epoch warm-up (bias lr from 0.1)
    # undoes a trained detector in the first epoch.
    tune = {"pretrained": True, "optimizer": "AdamW", "lr0": 5e-4, "warmup_epochs": 0.3, "warmup_bias_lr": 0.0}
    schedule = tune if init is not None else {"pretrained": False}
    started = time.time()
    model.train(data=str(data), epochs=epochs, imgsz=imgsz, batch=batch, workers=0, device="cpu", **schedule,
                amp=False, plots=False, project=str(runs.resolve()), name="detector",
                exist_ok=True, seed=0, deterministic=False, close_mosaic=max(1, epochs // 6), patience=100,
                cache="ram", hsv_h=0.0, time=hours, scale=0.3, translate=0.1, mosaic=1.0, fliplr=0.5, verbose=True)
    best = runs / "detector" / "weights" / "best.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, out)
    trained = getattr(model.trainer, "epoch", epochs - 1) + 1  # with --hours ultralytics picks the count
    print(f"trained {trained} epochs in {time.time() - started:.0f} s -> {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return out


def main(argv: list[str] | None = None) -> int:
    from vidagent.tasks.toolfit.cli import script_main  # noqa: PLC0415

    return script_main(sys.modules[__name__], argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train", type=Path, nargs="+", default=[Path("data/world_train")],
                        help="world directories to train on (their train split)")
    parser.add_argument("--val", type=Path, default=None, help="world to validate on, its val split "
                        "(default: the last --val-videos of --train)")
    parser.add_argument("--val-videos", type=int, default=40, help="videos held out of --train for validation")
    parser.add_argument("--work", type=Path, default=Path("data/yolo_world"), help="where the YOLO dataset goes")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="ultralytics run directory")
    parser.add_argument("--out", type=Path, default=Path("runs/detector/detector.pt"),
                        help="weights to write (the shipped ones are tools/weights/detector.pt: replaced only "
                             "when named here)")
    parser.add_argument("--frames-per-video", type=int, default=3, help="training frames sampled per video")
    parser.add_argument("--focus", type=parse_focus, action="append", default=[], metavar="CLASS=N",
                        help="N more frames per video where CLASS is visible (repeatable), e.g. bird=6")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--hours", type=float, default=None,
                        help="train for this long instead of --epochs (the schedule adapts)")
    parser.add_argument("--init", type=Path, default=None,
                        help="continue from this checkpoint (e.g. tools/weights/detector.pt) instead of yolo11n.yaml")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")


def parse_focus(text: str) -> tuple[str, int]:
    from vidagent.tasks.world.config import CLASSES  # noqa: PLC0415

    category, _, count = text.partition("=")
    if category not in CLASSES or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected CLASS=N with CLASS one of {', '.join(CLASSES)}; got {text!r}")
    return category, int(count)


def run(args: argparse.Namespace) -> int:
    if args.work.exists():
        shutil.rmtree(args.work)
    data = build_dataset(args.train, args.val, args.work, args.frames_per_video, args.val_videos,
                         focus=dict(args.focus))
    train(data, args.out, args.epochs, args.imgsz, args.batch, args.runs, args.threads, args.hours, args.init)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
