"""recognize_action: clip geometry, the ActionNet backend from a safetensors file, tracks from the detector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tool_fakes import fake_detector, tools_over

from vidagent.tools import VideoSession
from vidagent.tools.action import (
    CLIP_FRAMES,
    CROP,
    STEP_S,
    ActionRecognizer,
    build_action_net,
    clip_tensors,
    clip_times,
    crop_clip,
    interpolate_boxes,
    trajectory_features,
)
from vidagent.tools.results import Box

LABELS = ["walk", "run", "stand"]


@pytest.fixture(scope="module")
def action_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised ActionNet in the shipped format (fp16 safetensors + labels metadata)."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = build_action_net(len(LABELS), width=8)
    path = tmp_path_factory.mktemp("action") / "action.safetensors"
    save_file({k: v.half().contiguous() if v.is_floating_point() else v for k, v in net.state_dict().items()},
              str(path), metadata={"labels": json.dumps(LABELS), "width": "8"})
    return path


def test_clip_times_follow_the_detector_grid():
    windows = clip_times(1.0, 2.0)  # shorter than a clip: one window centred on the span
    assert len(windows) == 1 and len(windows[0]) == CLIP_FRAMES
    assert all(abs(t / STEP_S - round(t / STEP_S)) < 1e-6 for t in windows[0])
    assert abs(np.mean(windows[0]) - 1.5) <= STEP_S
    assert len(clip_times(0.0, 20.0)) == 4  # long spans: several windows, capped


def test_crops_and_trajectory_shapes():
    images = np.zeros((CLIP_FRAMES, 240, 320, 3), np.uint8)
    boxes = np.array([[10 + 5 * i, 100, 40 + 5 * i, 160] for i in range(CLIP_FRAMES)], np.float32)
    crops = crop_clip(images, boxes)
    assert crops.shape == (CLIP_FRAMES, CROP, CROP, 3)
    traj = trajectory_features(boxes)
    assert traj.shape == (CLIP_FRAMES, 5)
    assert traj[1, 0] == pytest.approx(5 / 60 / STEP_S)  # speed in box heights per second
    x, t = clip_tensors(crops[None], traj[None])
    assert tuple(x.shape) == (1, CLIP_FRAMES, 3, CROP, CROP) and tuple(t.shape) == (1, CLIP_FRAMES, 5)
    logits = build_action_net(4, width=8)(x, t)
    assert tuple(logits.shape) == (1, 4)


def test_interpolated_boxes_hold_at_the_ends():
    boxes = [Box(1.0, 0, 0, 10, 10), Box(2.0, 10, 0, 20, 10)]
    out = interpolate_boxes(boxes, [0.0, 1.5, 3.0])
    assert out[:, 0].tolist() == [0.0, 5.0, 10.0]


def test_recognize_a_track_and_the_scene(tiny_video: Path, action_weights: Path):
    detector = fake_detector()
    tools = tools_over(detector, recognizer=ActionRecognizer(action_weights, detector=detector))
    tool = tools["recognize_action"]
    session = VideoSession(tiny_video)
    track_id = tools["detect_objects"](session, start_s=0.0, end_s=6.0).tracks[0].track_id
    call = tool.invoke(session, {"start_s": 1.0, "end_s": 3.0, "track_id": track_id})
    assert call.ok, call.error
    labels = [a.label for a in call.result.actions]
    assert set(labels) <= set(LABELS) and len(labels) == 3
    assert sum(a.score for a in call.result.actions) == pytest.approx(1.0, abs=1e-3)
    scene = tool.invoke(session, {"start_s": 1.0, "end_s": 3.0})
    assert scene.ok and scene.result.track_id is None and scene.result.actions


def test_unknown_track_is_an_error_that_lists_the_tracks(tiny_video: Path, action_weights: Path):
    detector = fake_detector()
    tool = tools_over(detector, recognizer=ActionRecognizer(action_weights, detector=detector))["recognize_action"]
    call = tool.invoke(VideoSession(tiny_video), {"start_s": 1.0, "end_s": 3.0, "track_id": 99})
    assert not call.ok and "track 99" in call.text and "person" in call.text


def test_missing_and_corrupt_weights(tmp_path: Path, tiny_video: Path):
    session = VideoSession(tiny_video)
    args = {"start_s": 1.0, "end_s": 3.0}
    detector = fake_detector()
    missing = tools_over(detector, recognizer=ActionRecognizer(tmp_path / "none.safetensors", detector=detector))[
        "recognize_action"].invoke(session, args)
    assert not missing.ok and "none.safetensors" in missing.error
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    corrupt = tools_over(detector, recognizer=ActionRecognizer(bad, detector=detector))["recognize_action"].invoke(
        session, args)
    assert not corrupt.ok and "bad.safetensors" in corrupt.error and "cannot be loaded" in corrupt.error


def test_shipped_action_weights_load_with_world_labels():
    from vidagent.tools.defaults import ACTION_WEIGHTS
    from vidagent.tasks.world.config import ACTIONS

    if not ACTION_WEIGHTS.exists():
        pytest.skip("default action weights not built yet")
    recognizer = ActionRecognizer()
    assert recognizer.labels == list(ACTIONS)
