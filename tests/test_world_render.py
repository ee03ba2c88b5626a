"""Rendering: sprites' pixels lie inside their ground-truth boxes; videos decode with PyAV and decord."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw
from vidagent.tasks.world.config import COLORS, WorldConfig
from vidagent.tasks.world.render import Pose, background, draw_primitives, primitives_box, sprite

POSES = [("person", "walk", 0.0, 0.0), ("person", "run", 0.1, 0.15), ("person", "jump", 0.2, 0.0),
         ("person", "wave", 0.0, 0.0), ("person", "fall", 0.0, 0.8), ("person", "lie", 0.0, math.pi / 2),
         ("dog", "run", 0.0, 0.0), ("car", "drive", 0.0, 0.0), ("bicycle", "ride", 0.0, 0.0),
         ("ball", "bounce", 0.2, 0.0), ("bird", "fly", 1.0, 0.0), ("bird", "stand", 0.0, 0.0),
         ("box", "still", 0.0, 0.0)]


@pytest.mark.parametrize("category, action, lift, tilt", POSES)
@pytest.mark.parametrize("facing", [1, -1])
def test_sprite_pixels_lie_inside_the_box(category, action, lift, tilt, facing):
    canvas = Image.new("RGB", (320, 240), (128, 0, 128))  # a color no sprite part uses
    pose = Pose(category, "orange", 160.3, 200.6, 55.0, facing, action, phase=1.1, lift=lift, tilt=tilt)
    prims = sprite(pose)
    draw_primitives(ImageDraw.Draw(canvas), prims)
    changed = np.any(np.asarray(canvas) != (128, 0, 128), axis=2)
    ys, xs = np.nonzero(changed)
    x1, y1, x2, y2 = primitives_box(prims)
    assert xs.size > 30, "the sprite drew almost nothing"
    # every painted pixel inside the box (1 px rasteriser slack) ...
    assert xs.min() >= math.floor(x1) - 1 and xs.max() <= math.ceil(x2) + 1
    assert ys.min() >= math.floor(y1) - 1 and ys.max() <= math.ceil(y2) + 1
    # ... and the box is tight: the pixels reach (nearly) all four sides
    assert xs.min() <= x1 + 3 and xs.max() >= x2 - 3 and ys.min() <= y1 + 3 and ys.max() >= y2 - 3


def test_sprite_main_color_is_drawn():
    canvas = Image.new("RGB", (200, 200), (0, 0, 0))
    draw_primitives(ImageDraw.Draw(canvas), sprite(Pose("car", "red", 100, 150, 60)))
    assert np.all(np.asarray(canvas) == COLORS["red"], axis=2).sum() > 200


def test_walk_and_run_differ_in_limbs():
    walk = primitives_box(sprite(Pose("person", "blue", 100, 150, 60, action="walk", phase=math.pi / 2)))
    run = primitives_box(sprite(Pose("person", "blue", 100, 150, 60, action="run", phase=math.pi / 2)))
    assert (run[2] - run[0]) > 1.3 * (walk[2] - walk[0])  # a running stride is much wider


@pytest.mark.parametrize("name", WorldConfig().backgrounds)
def test_backgrounds_are_textured(name):
    image = background(name, np.random.default_rng(0), 320, 240, 86)
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    assert image[100:].std() > 4  # not a flat fill


def test_rendered_frame_has_object_pixels_in_gt_box(tmp_path):
    from vidagent.tasks.world.generate import render_frames
    from vidagent.tasks.world.scene import simulate
    from vidagent.tasks.world.truth import ground_truth

    config = WorldConfig(min_duration_s=3, max_duration_s=3, noise_std=(0.0, 0.0), occluders=False,
                         min_objects=1, max_objects=1, classes=("car",), actions=("drive",))
    scene = simulate(config, seed=5)
    truth = ground_truth(scene, "x.mp4")
    frames = list(render_frames(scene))
    (k, x1, y1, x2, y2, _) = truth.objects[0].boxes[len(truth.objects[0].boxes) // 2]
    frame = frames[k].astype(int)
    # the car's body color (lit by the scene's gain and tint) appears inside the box, not outside it
    lit = np.array(COLORS[truth.objects[0].color]) * scene.gain * np.array(scene.tint)
    close = np.abs(frame - lit).sum(axis=2) < 30
    inside = close[int(y1):int(y2) + 1, int(x1):int(x2) + 1].sum()
    assert inside > 50
    assert close.sum() - inside <= 0.02 * close.sum() + 5


def test_video_decodes_with_pyav_and_decord(tmp_path):
    import av
    from vidagent.tasks.world.generate import generate_video

    config = WorldConfig(min_duration_s=2, max_duration_s=2, questions_per_video=0)
    result = generate_video(config, seed=3, video_id="tiny", out_dir=tmp_path)
    path = tmp_path / "tiny.mp4"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.codec_context.pix_fmt == "yuv420p"
    assert len(frames) == result.truth.num_frames == 20
    assert frames[0].shape == (240, 320, 3)
    import torch  # noqa: F401  (decord must come after torch)
    decord = pytest.importorskip("decord")
    reader = decord.VideoReader(str(path))
    assert len(reader) == 20
    assert abs(reader.get_avg_fps() - 10) < 0.01
    assert reader[10].asnumpy().shape == (240, 320, 3)
