"""The detector's training set: frames picked per video, the rare-class focus, labels as YOLO text."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from vidagent.errors import ConfigError
from vidagent.tasks.toolfit.data import WorldVideo, load_videos
from vidagent.tasks.toolfit.train_detector import build_dataset, parse_focus, pick_frames, train
from vidagent.tasks.world.config import CLASSES, WorldConfig
from vidagent.tasks.world.generate import generate_world
from vidagent.tasks.world.truth import GroundTruth, Lighting, WorldObject
from vidagent.tools.defaults import DETECTOR_WEIGHTS


def _video(bird_frames: range, num_frames: int = 100) -> WorldVideo:
    """A red bird visible in ``bird_frames``, and a dog on screen but hidden (occluded 0.9) in every frame."""
    bird = WorldObject(track_id=1, category="bird", color="red", name="the red bird",
                       boxes=[(f, 10, 10, 30, 20, 0.0) for f in bird_frames])
    dog = WorldObject(track_id=2, category="dog", color="blue", name="the blue dog",
                      boxes=[(f, 0, 0, 5, 5, 0.9) for f in range(num_frames)])
    truth = GroundTruth(video_id="v", video_file="unused.mp4", seed=0, width=64, height=48, fps=10,
                        num_frames=num_frames, duration_s=num_frames / 10, background="park",
                        lighting=Lighting(gain=1.0, tint=(1.0, 1.0, 1.0), noise_std=0.0),
                        objects=[bird, dog], segments=[], events=[])
    return WorldVideo(Path("unused.mp4"), truth)


def test_focus_adds_frames_where_the_class_is_visible():
    video = _video(range(40, 50))
    rng = np.random.default_rng(0)
    plain = pick_frames(video, 3, {}, np.random.default_rng(0))
    focused = pick_frames(video, 3, {"bird": 4}, rng)
    assert len(plain) == 3 and set(plain) <= set(focused)
    extra = set(focused) - set(plain)
    assert len(extra) == 4 and extra <= set(range(40, 50))
    assert focused == sorted(focused)


def test_focus_is_capped_by_the_visible_frames_and_ignores_hidden_boxes():
    video = _video(range(40, 42))  # the dog's 0.9-occluded boxes on every frame do not count as visible
    assert video.visible_frames("bird") == [40, 41] and video.visible_frames("dog") == []
    assert [box[:2] for box in video.visible_boxes(40)] == [(1, "bird")]
    picks = pick_frames(video, 0, {"bird": 10, "dog": 5}, np.random.default_rng(1))
    assert picks == [40, 41]


def test_parse_focus_names_the_known_classes():
    assert parse_focus("bird=6") == ("bird", 6)
    with pytest.raises(argparse.ArgumentTypeError, match="person"):
        parse_focus("unicorn=3")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_focus("bird")


@pytest.fixture(scope="module")
def two_worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    config = WorldConfig(min_duration_s=3, max_duration_s=3, questions_per_video=1)
    first, second = tmp_path_factory.mktemp("world_a"), tmp_path_factory.mktemp("world_b")
    generate_world(first, 2, seed=5, config=config, workers=1, progress=False)  # 2 train videos
    generate_world(second, 2, seed=6, config=config, workers=1, progress=False)  # 1 train, 1 val
    return first, second


def test_build_dataset_reads_several_worlds_and_writes_yolo_labels(two_worlds, tmp_path):
    first, second = two_worlds
    train_videos = len(load_videos(first, splits=("train",))) + len(load_videos(second, splits=("train",)))

    data = build_dataset([first, second], None, tmp_path / "yolo", frames_per_video=2, val_videos=1)

    text = data.read_text()
    assert str((tmp_path / "yolo" / "train" / "images").resolve()) in text and "5: bird" in text
    images = sorted((tmp_path / "yolo" / "train" / "images").glob("*.jpg"))
    assert len(images) == 2 * (train_videos - 1)
    for image in images:
        label = image.parent.parent / "labels" / f"{image.stem}.txt"
        for line in label.read_text().splitlines():
            cls, *box = line.split()
            assert 0 <= int(cls) < len(CLASSES)
            assert all(0.0 <= float(v) <= 1.0 for v in box)


def test_a_world_without_the_split_says_which_splits_it_has(two_worlds):
    with pytest.raises(ConfigError, match=r"no val videos under .*\(it has train\)"):
        load_videos(two_worlds[0], splits=("val",))


def test_fine_tuning_starts_from_the_given_weights(two_worlds, tmp_path):
    """ultralytics re-initialises the network unless told pretrained=True; `--init` once trained from scratch
    unnoticed. One step must leave the weights near the initial ones (a re-initialised network moves ~0.12)."""
    import torch

    first, second = two_worlds
    # 16 images at batch 1: ultralytics accumulates gradients up to 64 images, so this is one optimizer step
    data = build_dataset([first], second, tmp_path / "yolo", frames_per_video=8, val_videos=0)
    out = train(data, tmp_path / "tuned.pt", epochs=1, imgsz=64, batch=1, runs=tmp_path / "runs", threads=1,
                hours=None, init=DETECTOR_WEIGHTS)

    def flat_weights(path: Path) -> torch.Tensor:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        model = checkpoint.get("ema") or checkpoint["model"]  # ultralytics saves the EMA as the model
        return torch.cat([p.detach().float().flatten() for p in model.parameters()])

    before, after = flat_weights(DETECTOR_WEIGHTS), flat_weights(out)
    change = float((after - before).norm() / before.norm())
    assert 0.0 < change < 0.05, f"relative change of the weights: {change:.3f}"


def test_holding_out_no_or_all_videos_is_a_clear_error(two_worlds, tmp_path):
    for held_out in (0, 3):  # the two worlds have 3 train videos
        with pytest.raises(ConfigError, match="--val-videos"):
            build_dataset(list(two_worlds), None, tmp_path / "yolo", frames_per_video=1, val_videos=held_out)
