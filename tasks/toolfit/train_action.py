"""Train the default action model (``ActionNet``) on world clips around each actor's ground-truth box.

    python -m vidagent.tasks.toolfit.train_action --train data/world_train --out runs/action/action.safetensors

The default ``--out`` is under ``runs/`` (git-ignored): the shipped ``tools/weights/action.safetensors`` is
replaced only when named as ``--out`` (``vidagent eval tools --action FILE`` compares new weights first).

A clip is ``CLIP_FRAMES`` frames ``STEP_S`` apart centred on a frame; its label is the actor's action in
that frame. Boxes are jittered like a detector's, clips are flipped and their color channels shuffled
(color says nothing about an action). Rare actions are oversampled up to a per-class cap.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from vidagent.errors import ConfigError
from vidagent.tools.action import CLIP_FRAMES, CROP, STEP_S, build_action_net, clip_tensors, crop_clip, trajectory_features
from vidagent.tasks.toolfit.data import WorldVideo, load_videos, read_frames, time_schedule, too_small_world

# The world's vocabulary (vidagent.tasks.world.config.ACTIONS, the label order of the model) is imported
# inside the functions that use it, so that registering `vidagent train` does not load the world.


def frame_labels(video: WorldVideo) -> dict[int, dict[int, str]]:
    """track id -> frame -> action."""
    labels: dict[int, dict[int, str]] = {}
    for seg in video.truth.segments:
        for f in range(seg.start_frame, seg.end_frame):
            labels.setdefault(seg.track_id, {})[f] = seg.action
    return labels


def clip_boxes(table: dict[int, tuple], frames: list[int]) -> np.ndarray:
    """Boxes at ``frames``, the nearest known box where the object is off screen. [T, 4]"""
    known = np.array(sorted(table))
    out = []
    for f in frames:
        nearest = int(known[np.abs(known - f).argmin()])
        out.append(table[nearest][:4])
    return np.asarray(out, np.float32)


def jitter(boxes: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Shift and scale the clip's boxes together, plus a little per-frame noise (like a detector)."""
    if amount <= 0:
        return boxes
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    size = np.maximum(w, h)[:, None]
    shift = rng.normal(0, amount, 2) * size  # [T,2]
    noise = rng.normal(0, amount / 2, (len(boxes), 4)) * size
    scale = 1 + rng.normal(0, amount)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    out = np.stack([cx - w * scale / 2, cy - h * scale / 2, cx + w * scale / 2, cy + h * scale / 2], axis=1)
    out[:, :2] += shift
    out[:, 2:] += shift
    return (out + noise).astype(np.float32)


def candidate_clips(video: WorldVideo, every: int) -> list[tuple[int, list[int], str]]:
    """(track id, frames, action) of clips centred on every ``every``-th visible frame of each actor."""
    step = max(1, round(STEP_S * video.fps))
    offsets = (np.arange(CLIP_FRAMES) - (CLIP_FRAMES - 1) / 2) * step  # e.g. -7..7 step 2
    offsets = np.round(offsets + 0.01).astype(int)
    n = video.truth.num_frames
    labels = frame_labels(video)
    wanted: list[tuple[int, list[int], str]] = []
    for obj in video.truth.objects:
        track_id = obj.track_id
        visible = video.box_table(track_id, visible=True)
        for centre, action in sorted(labels.get(track_id, {}).items()):
            if centre % every or centre not in visible:
                continue
            frames = np.clip(centre + offsets, 0, n - 1).tolist()
            wanted.append((track_id, frames, action))
    return wanted


def video_clips(video: WorldVideo, wanted: list[tuple[int, list[int], str]], rng: np.random.Generator,
                jitter_amount: float):
    """(crops [T,s,s,3], traj [T,5], label index) for the chosen clips of one video."""
    from vidagent.tasks.world.config import ACTIONS  # noqa: PLC0415

    if not wanted:
        return []
    needed = sorted({f for _, frames, _ in wanted for f in frames})
    images = read_frames(video.video, needed)
    position = {f: i for i, f in enumerate(needed)}
    out = []
    for track_id, frames, action in wanted:
        boxes = jitter(clip_boxes(video.box_table(track_id), frames), rng, jitter_amount)
        clip = images[[position[f] for f in frames]]
        out.append((crop_clip(clip, boxes, CROP), trajectory_features(boxes, STEP_S), ACTIONS.index(action)))
    return out


def build_clips(videos: list[WorldVideo], every: int, cap_per_class: int, seed: int, jitter_amount: float):
    """Clips of every video, each action capped at about ``cap_per_class`` (decided before decoding)."""
    rng = np.random.default_rng(seed)
    candidates = [candidate_clips(video, every) for video in videos]
    totals: dict[str, int] = {}
    for wanted in candidates:
        for _, _, action in wanted:
            totals[action] = totals.get(action, 0) + 1
    keep_prob = {action: min(1.0, cap_per_class / n) for action, n in totals.items()}
    crops, trajs, labels = [], [], []
    for i, (video, wanted) in enumerate(zip(videos, candidates, strict=True)):
        chosen = [w for w in wanted if rng.random() < keep_prob[w[2]]]
        for crop, traj, label in video_clips(video, chosen, rng, jitter_amount):
            crops.append(crop)
            trajs.append(traj)
            labels.append(label)
        if i % 100 == 0:
            print(f"  clips from {i + 1}/{len(videos)} videos: {len(labels)}", flush=True)
    if not labels:  # np.stack of nothing: "need at least one array to stack"
        raise ConfigError(f"no action clips in {len(videos)} videos (no actor with an action segment is visible "
                          f"on a sampled frame)", too_small_world("action"))
    return np.stack(crops), np.stack(trajs), np.asarray(labels)


def class_actions(videos: list[WorldVideo]) -> dict[str, list[str]]:
    """The actions each object class performs in the training videos."""
    seen: dict[str, set[str]] = {}
    for video in videos:
        category = {o.track_id: o.category for o in video.truth.objects}
        for seg in video.truth.segments:
            seen.setdefault(category[seg.track_id], set()).add(seg.action)
    return {c: sorted(a) for c, a in sorted(seen.items())}


def evaluate(net, crops: np.ndarray, trajs: np.ndarray, labels: np.ndarray) -> float:
    import torch  # noqa: PLC0415

    net.eval()
    correct = 0
    with torch.inference_mode():
        for s in range(0, len(labels), 256):
            logits = net(*clip_tensors(crops[s : s + 256], trajs[s : s + 256]))
            correct += int((logits.argmax(1).numpy() == labels[s : s + 256]).sum())
    net.train()
    return correct / max(1, len(labels))


def train(args: argparse.Namespace) -> Path:
    import torch  # noqa: PLC0415
    from safetensors.torch import save_file  # noqa: PLC0415

    from vidagent.tasks.world.config import ACTIONS  # noqa: PLC0415

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    videos = load_videos(args.train, splits=("train",))
    if not 0 < args.val_videos < len(videos):
        raise ConfigError(f"--val-videos {args.val_videos} must be between 1 and {len(videos) - 1}: the world "
                          f"{args.train} has {len(videos)} train videos",
                          f"pass e.g. --val-videos {max(1, len(videos) // 5)}, or {too_small_world('action')}")
    train_videos, val_videos = videos[: -args.val_videos], videos[-args.val_videos :]
    print(f"building clips from {len(train_videos)} + {len(val_videos)} videos", flush=True)
    cache = args.clip_cache
    if cache is not None and cache.exists():
        with np.load(cache) as data:
            crops, trajs, labels = data["crops"], data["trajs"], data["labels"]
            vcrops, vtrajs, vlabels = data["vcrops"], data["vtrajs"], data["vlabels"]
        print(f"clips from {cache}")
    else:
        crops, trajs, labels = build_clips(train_videos, args.every, args.cap_per_class, 0, args.jitter)
        vcrops, vtrajs, vlabels = build_clips(val_videos, args.every * 2, args.cap_per_class // 10, 1, args.jitter)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, crops=crops, trajs=trajs, labels=labels, vcrops=vcrops, vtrajs=vtrajs, vlabels=vlabels)
    print("train clips per action:", dict(zip(ACTIONS, np.bincount(labels, minlength=len(ACTIONS)).tolist())))
    counts = np.bincount(labels, minlength=len(ACTIONS)).astype(np.float32)
    class_weight = torch.tensor(np.where(counts > 0, (counts.max() / np.maximum(counts, 1)) ** 0.5, 0.0),
                                dtype=torch.float32)
    net = build_action_net(len(ACTIONS), args.width)
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    started, step = time.time(), 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(labels))
        losses = []
        for s in range(0, len(order) - args.batch + 1, args.batch):
            idx = np.sort(order[s : s + args.batch])
            batch_crops = crops[idx]
            if rng.random() < 0.5:
                batch_crops = batch_crops[:, :, :, ::-1]  # horizontal flip: direction says nothing
            batch_crops = batch_crops[..., rng.permutation(3)]  # color says nothing about an action
            x, t = clip_tensors(batch_crops, trajs[idx])
            loss = torch.nn.functional.cross_entropy(net(x, t), torch.from_numpy(labels[idx]), weight=class_weight,
                                                     label_smoothing=0.05)
            optimizer.zero_grad()
            loss.backward()
            for group in optimizer.param_groups:
                group["lr"] = time_schedule(args.lr, time.time() - started, args.max_minutes * 60,
                                            step / max(1, args.epochs * (len(labels) // args.batch)))
            optimizer.step()
            step += 1
            losses.append(float(loss.detach()))
            if time.time() - started > args.max_minutes * 60:
                break
        accuracy = evaluate(net, vcrops, vtrajs, vlabels)
        print(f"epoch {epoch + 1}/{args.epochs} loss {np.mean(losses):.3f} val clip top-1 {accuracy:.3f} "
              f"({time.time() - started:.0f} s)", flush=True)
        if time.time() - started > args.max_minutes * 60:
            print("time budget reached")
            break
    net.eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().half().contiguous() if v.is_floating_point() else v.contiguous()
             for k, v in net.state_dict().items()}
    metadata = {"labels": json.dumps(list(ACTIONS)), "class_actions": json.dumps(class_actions(videos)), "width": str(args.width), "clip_frames": str(CLIP_FRAMES),
                "step_s": str(STEP_S), "crop": str(CROP), "val_clip_top1": f"{accuracy:.4f}",
                "command": "python -m vidagent.tasks.toolfit.train_action " + " ".join(args.argv)}
    save_file(state, str(args.out), metadata=metadata)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return args.out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train", type=Path, default=Path("data/world_train"), help="world videos to train on")
    parser.add_argument("--val-videos", type=int, default=40, help="videos held out for validation")
    parser.add_argument("--out", type=Path, default=Path("runs/action/action.safetensors"),
                        help="weights to write (the shipped ones are tools/weights/action.safetensors: replaced "
                             "only when named here)")
    parser.add_argument("--every", type=int, default=3, help="a clip centred on every n-th frame of each actor")
    parser.add_argument("--cap-per-class", type=int, default=1500, help="most training clips per action")
    parser.add_argument("--jitter", type=float, default=0.06, help="box jitter, share of the box size")
    parser.add_argument("--width", type=int, default=32, help="ActionNet base width")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--max-minutes", type=float, default=14.0, help="stop training after this long")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clip-cache", type=Path, default=None, help="npz to save built clips to / reuse them from")


def run(args: argparse.Namespace) -> int:
    train(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    from vidagent.tasks.toolfit.cli import script_main  # noqa: PLC0415

    return script_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
