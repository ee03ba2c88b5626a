"""Train the default grounding model: a tiny open_clip model (``tools/configs/world-clip.json``) trained
contrastively on world frames and the captions of what happens in them.

    python -m vidagent.tasks.toolfit.train_clip --train data/world_train --out runs/clip/clip.safetensors

An image is two frames ``FRAME_GAP_S`` apart stacked vertically (so motion is visible); its positive
captions are those of every action segment (and enter/leave/collide event) going on at that moment for a
visible object. Batches hold many frames of few videos, so the same objects doing other things at other
times are the negatives, which is what grounding inside one video needs. The loss is a symmetric
multi-positive InfoNCE.

The default ``--out`` is under ``runs/`` (git-ignored): the shipped ``tools/weights/clip.safetensors`` is
replaced only when named as ``--out`` (``vidagent eval tools --clip FILE`` compares new weights first).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from vidagent.errors import ConfigError
from vidagent.tools.grounding import WORLD_CLIP_CONFIG, WORLD_CLIP_NAME
from vidagent.tasks.toolfit.data import WorldVideo, load_videos, read_frames, time_schedule, too_small_world

FRAME_GAP_S = 0.4
FRAME_SIZE = (96, 128)  # (H, W) of one frame inside the stacked image


def frame_captions(video: WorldVideo, frame: int) -> list[str]:
    """What is going on at ``frame``: captions of the segments and recent events of visible objects."""
    visible = {tid for tid, *_ in video.visible_boxes(frame)}
    captions = [s.caption for s in video.truth.segments
                if s.start_frame <= frame < s.end_frame and s.track_id in visible]
    fps = video.fps
    for event in video.truth.events:
        near = {"enter": (0, fps * 0.6), "leave": (-fps * 0.6, 0), "collide": (-fps * 0.3, fps * 0.3)}[event.type]
        if near[0] <= frame - event.frame <= near[1]:
            captions.append(event.caption)
    return captions


def video_samples(video: WorldVideo, every: int) -> tuple[np.ndarray, list[list[str]]]:
    """Stacked images [N, 2H, W, 3] (earlier frame on top) and their captions, one per ``every`` frames."""
    import torch  # noqa: PLC0415

    n = video.truth.num_frames
    gap = max(1, round(FRAME_GAP_S * video.fps))
    anchors = [k for k in range(gap, n, every) if frame_captions(video, k)]
    if not anchors:
        return np.zeros((0, 2 * FRAME_SIZE[0], FRAME_SIZE[1], 3), np.uint8), []
    needed = sorted(set(anchors) | {k - gap for k in anchors})
    images = read_frames(video.video, needed)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    small = torch.nn.functional.interpolate(x, size=FRAME_SIZE, mode="bilinear", antialias=True, align_corners=False)
    small = small.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()  # [M,h,w,3]
    at = {k: i for i, k in enumerate(needed)}
    stacked = np.stack([np.concatenate([small[at[k - gap]], small[at[k]]], axis=0) for k in anchors])
    return stacked, [frame_captions(video, k) for k in anchors]


def build(videos: list[WorldVideo], every: int):
    groups = []  # per video: (images, captions)
    for i, video in enumerate(videos):
        images, captions = video_samples(video, every)
        if len(images):
            groups.append((images, captions))
        if i % 100 == 0:
            print(f"  samples from {i + 1}/{len(videos)} videos: {sum(len(g[1]) for g in groups)}", flush=True)
    if not groups:  # sample_batch would fail on an empty choice
        raise ConfigError(f"no captioned frames in {len(videos)} videos (nothing visible is doing anything)",
                          too_small_world("clip"))
    return groups


def make_model():
    import open_clip  # noqa: PLC0415

    open_clip.add_model_config(WORLD_CLIP_CONFIG)
    model = open_clip.create_model(WORLD_CLIP_NAME, pretrained=None)
    return model, open_clip.get_tokenizer(WORLD_CLIP_NAME)


def to_input(model, images: np.ndarray):
    import torch  # noqa: PLC0415

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255  # [B,3,2H,W]
    mean = torch.tensor(model.visual.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(model.visual.image_std).view(1, 3, 1, 1)
    return (x - mean) / std


def contrastive_loss(image_features, text_features, positives, logit_scale):
    """Symmetric multi-positive InfoNCE. positives: [B_img, B_txt] 0/1."""
    import torch  # noqa: PLC0415

    image_features = torch.nn.functional.normalize(image_features, dim=-1)
    text_features = torch.nn.functional.normalize(text_features, dim=-1)
    logits = logit_scale.exp().clamp(max=100) * image_features @ text_features.T  # [B_img, B_txt]
    i2t = positives / positives.sum(1, keepdim=True).clamp(min=1)
    t2i = (positives / positives.sum(0, keepdim=True).clamp(min=1)).T
    loss_i = -(i2t * logits.log_softmax(1)).sum(1).mean()
    loss_t = -(t2i * logits.T.log_softmax(1)).sum(1).mean()
    return (loss_i + loss_t) / 2


def sample_batch(groups, rng: np.random.Generator, videos_per_batch: int, frames_per_video: int):
    images, captions = [], []
    for g in rng.choice(len(groups), size=min(videos_per_batch, len(groups)), replace=False):
        group_images, group_captions = groups[g]
        picks = rng.choice(len(group_images), size=min(frames_per_video, len(group_images)), replace=False)
        images.append(group_images[picks])
        captions += [group_captions[p] for p in picks]
    images = np.concatenate(images)
    if rng.random() < 0.5:
        images = images[:, :, ::-1]
    texts = sorted({c for cs in captions for c in cs})
    index = {t: j for j, t in enumerate(texts)}
    positives = np.zeros((len(images), len(texts)), np.float32)
    for i, cs in enumerate(captions):
        for c in cs:
            positives[i, index[c]] = 1
    return images, texts, positives


def train(args: argparse.Namespace) -> Path:
    import torch  # noqa: PLC0415
    from safetensors.torch import save_file  # noqa: PLC0415

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    videos = load_videos(args.train, splits=("train",), limit=args.videos)
    print(f"building samples from {len(videos)} videos", flush=True)
    if args.sample_cache is not None and args.sample_cache.exists():
        with np.load(args.sample_cache, allow_pickle=False) as data:
            images, captions, sizes = data["images"], json.loads(str(data["captions"])), data["sizes"]
        bounds = np.cumsum(np.concatenate([[0], sizes]))
        groups = [(images[a:b], captions[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        print(f"samples from {args.sample_cache}")
    else:
        groups = build(videos, args.every)
        if args.sample_cache is not None:
            args.sample_cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(args.sample_cache, images=np.concatenate([g[0] for g in groups]),
                     captions=json.dumps([c for g in groups for c in g[1]]), sizes=np.array([len(g[1]) for g in groups]))
    model, tokenizer = make_model()
    if args.init is not None:  # continue from earlier weights (e.g. the shipped ones)
        from vidagent.tools.grounding import load_state_dict  # noqa: PLC0415

        model.load_state_dict(load_state_dict(args.init)[0])
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    total = args.steps
    rng = np.random.default_rng(0)
    started = time.time()
    losses = []
    for step in range(total):
        images, texts, positives = sample_batch(groups, rng, args.videos_per_batch, args.frames_per_video)
        image_features = model.encode_image(to_input(model, images))
        text_features = model.encode_text(tokenizer(texts))
        loss = contrastive_loss(image_features, text_features, torch.from_numpy(positives), model.logit_scale)
        optimizer.zero_grad()
        loss.backward()
        for group in optimizer.param_groups:
            group["lr"] = time_schedule(args.lr, time.time() - started, args.max_minutes * 60, step / total)
        optimizer.step()
        losses.append(float(loss.detach()))
        if (step + 1) % 25 == 0:
            print(f"step {step + 1}/{total} loss {np.mean(losses[-25:]):.3f} ({time.time() - started:.0f} s)", flush=True)
        if time.time() - started > args.max_minutes * 60:
            print("time budget reached")
            break
    model.eval()
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    metadata = {"open_clip_model": WORLD_CLIP_NAME, "frame_stack": "2", "frame_gap_s": str(FRAME_GAP_S),
                "steps": str(step + 1), "final_loss": f"{np.mean(losses[-25:]):.4f}",
                "command": "python -m vidagent.tasks.toolfit.train_clip " + " ".join(args.argv)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out), metadata=metadata)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return args.out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train", type=Path, default=Path("data/world_train"), help="world videos to train on")
    parser.add_argument("--videos", type=int, default=450, help="use at most this many videos")
    parser.add_argument("--out", type=Path, default=Path("runs/clip/clip.safetensors"),
                        help="weights to write (the shipped ones are tools/weights/clip.safetensors: replaced "
                             "only when named here)")
    parser.add_argument("--every", type=int, default=4, help="one training image per n frames")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--videos-per-batch", type=int, default=8)
    parser.add_argument("--frames-per-video", type=int, default=12)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-minutes", type=float, default=14.0, help="stop training after this long")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--init", type=Path, default=None, help="start from these weights instead of random")
    parser.add_argument("--sample-cache", type=Path, default=None, help="npz to save built samples to / reuse them from")


def run(args: argparse.Namespace) -> int:
    train(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    from vidagent.tasks.toolfit.cli import script_main  # noqa: PLC0415

    return script_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
