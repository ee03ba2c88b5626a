"""Real checkpoint formats load through the same tools: an ultralytics ``.pt`` saved from a yaml model, an
open_clip state dict, and a transformers video classifier saved with ``save_pretrained``. Each is a tiny
random model built here, so nothing is downloaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tool_fakes import fake_detector, tools_over

from vidagent.tools import VideoSession
from vidagent.tools.action import ActionRecognizer
from vidagent.tools.detector import ObjectDetector
from vidagent.tools.grounding import MomentGrounder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ultralytics_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vidagent.offline import prepare_ultralytics

    prepare_ultralytics()
    from ultralytics import YOLO

    model = YOLO("yolo11n.yaml")  # built from the packaged yaml, random weights, 80 classes
    model.model.names = {i: f"thing{i}" for i in range(80)}
    model.model.names.update({0: "person", 2: "car"})
    path = tmp_path_factory.mktemp("yolo") / "yolo11n-random.pt"
    model.save(str(path))
    return path


def test_ultralytics_checkpoint_loads_with_its_own_class_names(ultralytics_checkpoint: Path, tiny_video: Path):
    detector = ObjectDetector(ultralytics_checkpoint)
    assert detector.class_names[:3] == ["person", "thing1", "car"] and len(detector.class_names) == 80
    tool = tools_over(detector)["detect_objects"]
    session = VideoSession(tiny_video)
    call = tool.invoke(session, {"start_s": 0.0, "end_s": 2.0, "classes": ["car"]})
    assert call.ok, call.error
    unknown = tool.invoke(session, {"start_s": 0.0, "end_s": 2.0, "classes": ["zebra"]})
    assert not unknown.ok and "thing79" in unknown.error


def test_batched_detection_matches_the_ultralytics_predictor(ultralytics_checkpoint: Path, tiny_video: Path):
    detector = ObjectDetector(ultralytics_checkpoint, conf=0.01)
    detector.setup()
    images = VideoSession(tiny_video).sample(0.0, 1.0, fps=5).images
    batched = detector.model.detect(images, batch_size=5)
    single = detector.model.detect_one_by_one(images)
    for a, b in zip(batched, single, strict=True):
        assert abs(len(a) - len(b)) <= max(2, len(b) // 10)  # same boxes up to resize rounding


def test_open_clip_state_dict_loads(tmp_path: Path, tiny_video: Path):
    import open_clip
    import torch

    config = tmp_path / "real-format-clip.json"
    config.write_text(json.dumps({
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
    }))
    open_clip.add_model_config(config)
    model = open_clip.create_model("real-format-clip", pretrained=None)
    weights = tmp_path / "open_clip_pytorch_model.bin"
    torch.save(model.state_dict(), weights)  # the format open_clip checkpoints ship in
    grounder = MomentGrounder(weights, model_name="real-format-clip", config=config, cache_dir=tmp_path / "emb")
    call = tools_over(grounder=grounder)["ground_moment"].invoke(VideoSession(tiny_video),
                                                                 {"query": "a white square", "top_k": 1})
    assert call.ok, call.error
    assert grounder.model.frame_stack == 1 and len(call.result.spans) == 1


def test_open_clip_unknown_model_name_is_explained(tmp_path: Path, tiny_video: Path):
    import torch

    weights = tmp_path / "w.pt"
    torch.save({"x": torch.zeros(1)}, weights)
    grounder = MomentGrounder(weights, model_name="No-Such-CLIP", config=None, backend="clip")
    call = tools_over(grounder=grounder)["ground_moment"].invoke(VideoSession(tiny_video), {"query": "a dog"})
    assert not call.ok and "No-Such-CLIP" in call.text


def test_transformers_video_classifier_from_a_local_directory(tmp_path: Path, tiny_video: Path):
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    labels = ["walking", "running", "jumping"]
    config = VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32,
                            num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                            id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    VideoMAEForVideoClassification(config).save_pretrained(tmp_path / "videomae")
    detector = fake_detector()
    recognizer = ActionRecognizer(tmp_path / "videomae", detector=detector)
    session = VideoSession(tiny_video)
    tools = tools_over(detector, recognizer=recognizer)
    track_id = tools["detect_objects"](session, start_s=0.0, end_s=6.0).tracks[0].track_id
    call = tools["recognize_action"].invoke(session, {"start_s": 1.0, "end_s": 3.0, "track_id": track_id})
    assert call.ok, call.error
    assert {a.label for a in call.result.actions} == set(labels)
