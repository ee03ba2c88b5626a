"""ground_moment: window search, frame stacking, the on-disk embedding cache, bad queries."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from tool_fakes import tools_over
from vidagent.tools import VideoSession
from vidagent.tools.grounding import MomentGrounder, search_windows, stack_frames

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": [64, 32], "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A random tiny open_clip model saved as safetensors with the grounder's metadata, and its config."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    root = tmp_path_factory.mktemp("clip")
    config = root / "tiny-test-clip.json"
    config.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-test-clip", pretrained=None)
    weights = root / "clip.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights),
              metadata={"open_clip_model": "tiny-test-clip", "frame_stack": "2", "frame_gap_s": "0.4"})
    return weights, config


def test_window_search_finds_the_planted_moment():
    times = np.arange(0, 20, 0.2)
    similarity = np.where((times >= 6.0) & (times < 9.0), 0.8, 0.1) + np.random.default_rng(0).normal(0, 0.02, len(times))
    spans = search_windows(similarity, times, 20.0, top_k=3)
    best = spans[0]
    assert abs(best.start_s - 6.0) <= 0.4 and abs(best.end_s - 9.0) <= 0.4
    assert len(spans) == 3 and spans[0].score >= spans[1].score >= spans[2].score


def test_stack_frames_puts_the_earlier_frame_on_top():
    frames = np.arange(5)[:, None, None, None] * np.ones((5, 2, 3, 3), np.uint8)
    stacked = stack_frames(frames, 2, gap=2)
    assert stacked.shape == (5, 4, 3, 3)
    assert stacked[4, 0, 0, 0] == 2 and stacked[4, 3, 0, 0] == 4 and stacked[0, 0, 0, 0] == 0


def test_grounding_runs_and_caches_embeddings_on_disk(tiny_video: Path, tiny_clip: tuple[Path, Path], tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture):
    weights, config = tiny_clip
    grounder = MomentGrounder(weights, config=config, cache_dir=tmp_path)
    session = VideoSession(tiny_video)
    call = tools_over(grounder=grounder)["ground_moment"].invoke(session, {"query": "a white square moves", "top_k": 2})
    assert call.ok, call.error
    assert "initialized randomly" not in caplog.text  # open_clip's warning, false once the weights are loaded
    logging.getLogger().warning("initialized randomly, on purpose")  # the filter is gone after loading
    assert "on purpose" in caplog.text
    assert len(call.result.spans) == 2
    assert all(0 <= s.start_s < s.end_s <= 6.0 for s in call.result.spans)
    assert grounder.model.frame_stack == 2
    assert len(list(tmp_path.glob("*.npz"))) == 1
    fresh = MomentGrounder(weights, config=config, cache_dir=tmp_path)
    fresh_session = VideoSession(tiny_video)
    assert fresh.moments(fresh_session, "a white square moves", 2) == call.result.spans
    assert fresh_session.frames_seen == 0  # served from the npz cache: no frames sampled


def test_empty_query_and_bad_top_k(tiny_video: Path, tiny_clip: tuple[Path, Path], tmp_path: Path):
    weights, config = tiny_clip
    tool = tools_over(grounder=MomentGrounder(weights, config=config, cache_dir=tmp_path))["ground_moment"]
    session = VideoSession(tiny_video)
    empty = tool.invoke(session, {"query": "  "})
    assert not empty.ok and "query is empty" in empty.text
    assert "top_k" in tool.invoke(session, {"query": "x", "top_k": 50}).text


def test_missing_and_corrupt_weights(tmp_path: Path, tiny_video: Path):
    session = VideoSession(tiny_video)
    missing = tools_over(grounder=MomentGrounder(tmp_path / "none.safetensors", backend="clip"))[
        "ground_moment"].invoke(session, {"query": "a dog"})
    assert not missing.ok and "none.safetensors" in missing.error
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    corrupt = tools_over(grounder=MomentGrounder(bad, backend="clip"))["ground_moment"].invoke(session, {"query": "a dog"})
    assert not corrupt.ok and "bad.safetensors" in corrupt.error and "cannot be loaded" in corrupt.error
