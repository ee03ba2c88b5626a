"""The world action model: what a tracked object is doing over a time span (for ``recognize_action``).

Default backend: ``ActionNet``, a small model trained on world clips
(``python -m vidagent.tasks.toolfit.train_action``). It sees ``CLIP_FRAMES`` crops around the actor,
``STEP_S`` seconds apart, each with its difference to the previous crop (motion inside the box: legs,
wheels, wings), plus the box trajectory (speed, rising, falling, aspect), which a crop centred on the actor
cannot show (walk vs run, drive vs stop).

Alternative backend: a transformers video classifier (VideoMAE, TimeSformer, ViViT ...) from a local
directory saved with ``save_pretrained``: ``ActionRecognizer(weights="path/to/dir")``.

With ``track_id`` the boxes come from ``detect_objects`` (same detector, same ids); without it every track
in the span is classified and each action's score is its best score over the tracks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vidagent.tools.defaults import ACTION_WEIGHTS, REBUILD, corrupt_weights, require_weights, weights_fingerprint
from vidagent.tools.detector import ObjectDetector
from vidagent.tools.results import Box, ScoredLabel, Track
from vidagent.tools.video import VideoSession

CLIP_FRAMES = 8  # frames per clip
STEP_S = 0.2  # seconds between them (= the detector's default 5 fps, so its frames are reused)
CROP = 64  # crop side in pixels
TRAJ_FEATURES = 5  # dx, dy, dw, dh (box heights per second), log aspect
MAX_WINDOWS = 4  # clips averaged over a long span


def build_action_net(num_classes: int, width: int = 32) -> Any:
    """The default action model. Input: crops [B,T,3,64,64] in [0,1] and trajectories [B,T,5]."""
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    def block(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True))

    class ActionNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.frame = nn.Sequential(block(6, width), block(width, width * 2), block(width * 2, width * 3),
                                       block(width * 3, width * 4), nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.traj = nn.Sequential(nn.Linear(TRAJ_FEATURES, 32), nn.ReLU(inplace=True))
            hidden = width * 4 + 32
            self.temporal = nn.Sequential(nn.Conv1d(hidden, 128, 3, padding=1), nn.ReLU(inplace=True),
                                          nn.Conv1d(128, 128, 3, padding=1), nn.ReLU(inplace=True))
            self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(256, num_classes))

        def forward(self, crops: torch.Tensor, traj: torch.Tensor) -> torch.Tensor:
            b, t = crops.shape[:2]
            previous = torch.cat([crops[:, :1], crops[:, :-1]], dim=1)  # [B,T,3,H,W]
            x = torch.cat([crops, crops - previous], dim=2).flatten(0, 1)  # [B*T,6,H,W]
            feats = self.frame(x).view(b, t, -1)  # [B,T,C]
            feats = torch.cat([feats, self.traj(traj)], dim=2).transpose(1, 2)  # [B,C+32,T]
            h = self.temporal(feats)  # [B,128,T]
            return self.head(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))  # [B,classes]

    return ActionNet()


def crop_clip(images: np.ndarray, boxes: np.ndarray, size: int = CROP) -> np.ndarray:
    """Square crops centred on each box (side 1.3x its longer edge), resized. [T,H,W,3], [T,4] -> [T,s,s,3]."""
    from PIL import Image  # noqa: PLC0415

    height, width = images.shape[1:3]
    out = np.zeros((len(images), size, size, 3), np.uint8)
    for i, (image, (x1, y1, x2, y2)) in enumerate(zip(images, boxes, strict=True)):
        side = max(8.0, 1.3 * max(x2 - x1, y2 - y1))
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
        side_px = int(round(side))
        canvas = np.zeros((side_px, side_px, 3), np.uint8)
        sx1, sy1 = max(0, left), max(0, top)
        sx2, sy2 = min(width, left + side_px), min(height, top + side_px)
        if sx2 > sx1 and sy2 > sy1:
            canvas[sy1 - top : sy2 - top, sx1 - left : sx2 - left] = image[sy1:sy2, sx1:sx2]
        out[i] = np.asarray(Image.fromarray(canvas).resize((size, size), Image.BILINEAR))
    return out


def trajectory_features(boxes: np.ndarray, step_s: float = STEP_S) -> np.ndarray:
    """Box motion per step in box heights per second, and log aspect. [T,4] -> [T,5] float32."""
    boxes = boxes.astype(np.float32)
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    scale = float(np.median(np.maximum(w, h)))
    delta = np.diff(np.stack([cx, cy, w, h], axis=1), axis=0, prepend=np.stack([cx, cy, w, h], axis=1)[:1])
    motion = delta / scale / step_s  # [T,4]
    motion[:, 0] = np.abs(motion[:, 0])  # left or right does not matter
    return np.concatenate([motion, np.log(w / h)[:, None]], axis=1).astype(np.float32)


def clip_tensors(crops: np.ndarray, traj: np.ndarray) -> tuple[Any, Any]:
    """numpy [N,T,s,s,3] uint8 and [N,T,5] -> torch [N,T,3,s,s] float in [0,1] and [N,T,5]."""
    import torch  # noqa: PLC0415

    x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 1, 4, 2, 3).float() / 255
    return x, torch.from_numpy(np.ascontiguousarray(traj))


class ActionNetBackend:
    """The default world action model from a safetensors file (labels in its metadata)."""

    def __init__(self, weights: Path, rebuild: str):
        import torch  # noqa: PLC0415
        from safetensors import safe_open  # noqa: PLC0415

        try:
            with safe_open(str(weights), "pt") as handle:
                metadata = handle.metadata() or {}
                state = {k: handle.get_tensor(k).float() for k in handle.keys()}
            self.labels: list[str] = json.loads(metadata["labels"])
            # which actions each object class can do (seen in training); others are masked out
            self.class_actions: dict[str, list[str]] = json.loads(metadata.get("class_actions", "{}"))
            self.net = build_action_net(len(self.labels), int(metadata.get("width", 32)))
            self.net.load_state_dict(state)
        except Exception as error:
            raise corrupt_weights(weights, "action", rebuild, error) from None
        self.net.eval()
        self.torch = torch

    def predict(self, crops: np.ndarray, traj: np.ndarray) -> np.ndarray:
        """Class probabilities [N, classes] for clips crops [N,T,s,s,3], traj [N,T,5]."""
        with self.torch.inference_mode():
            logits = self.net(*clip_tensors(crops, traj))
            return self.torch.softmax(logits, dim=1).numpy()


class TransformersBackend:
    """A transformers video classifier (VideoMAE, TimeSformer, ViViT ...) from a local directory."""

    def __init__(self, directory: Path):
        import torch  # noqa: PLC0415
        from transformers import AutoConfig, AutoModelForVideoClassification  # noqa: PLC0415

        try:
            config = AutoConfig.from_pretrained(directory, local_files_only=True)
            self.model = AutoModelForVideoClassification.from_pretrained(directory, local_files_only=True).eval()
        except Exception as error:
            raise corrupt_weights(directory, "transformers video classifier",
                                  "save one with model.save_pretrained(DIR)", error) from None
        self.labels = [config.id2label[i] for i in range(len(config.id2label))]
        self.class_actions: dict[str, list[str]] = {}
        self.num_frames = int(config.num_frames)
        self.image_size = int(config.image_size)
        processor_file = directory / "preprocessor_config.json"
        processor = json.loads(processor_file.read_text()) if processor_file.exists() else {}
        self.mean = torch.tensor(processor.get("image_mean", [0.485, 0.456, 0.406])).view(1, 1, 3, 1, 1)
        self.std = torch.tensor(processor.get("image_std", [0.229, 0.224, 0.225])).view(1, 1, 3, 1, 1)
        self.torch = torch

    def predict(self, crops: np.ndarray, traj: np.ndarray) -> np.ndarray:
        """Probabilities [N, classes]; the clip is resampled to the model's frame count and size."""
        del traj  # the pixels carry the motion for these models
        torch = self.torch
        picks = np.linspace(0, crops.shape[1] - 1, self.num_frames).round().astype(int)
        x = torch.from_numpy(np.ascontiguousarray(crops[:, picks])).permute(0, 1, 4, 2, 3).float() / 255
        n, t = x.shape[:2]
        x = torch.nn.functional.interpolate(x.flatten(0, 1), size=(self.image_size, self.image_size),
                                            mode="bilinear", align_corners=False).view(n, t, 3, self.image_size,
                                                                                       self.image_size)
        with torch.inference_mode():
            logits = self.model(pixel_values=(x - self.mean) / self.std).logits
            return torch.softmax(logits, dim=1).numpy()


class ActionRecognizer:
    """Action recognition over tracks from ``detector`` (a shared ``ObjectDetector``)."""

    def __init__(self, weights: str | Path | None = None, *, detector: ObjectDetector | None = None,
                 crop: int = CROP):
        self.weights = Path(weights).expanduser() if weights is not None else ACTION_WEIGHTS
        self.detector = detector or ObjectDetector()
        self.crop = crop
        self.backend: ActionNetBackend | TransformersBackend | None = None

    def setup(self) -> None:
        if self.backend is None:
            rebuild = REBUILD["action"] if self.weights == ACTION_WEIGHTS else "pass the path of valid weights"
            require_weights(self.weights, "action", rebuild)
            if self.weights.is_dir():
                self.backend = TransformersBackend(self.weights)
            else:
                self.backend = ActionNetBackend(self.weights, rebuild)

    def fingerprint(self) -> str:
        return f"action:{weights_fingerprint(self.weights)}:{self.detector.fingerprint()}"

    @property
    def labels(self) -> list[str]:
        self.setup()
        assert self.backend is not None
        return self.backend.labels

    def classify_tracks(self, video: VideoSession, start_s: float, end_s: float,
                        tracks: list[Track]) -> list[ScoredLabel]:
        """Every action label with its best probability over ``tracks`` in the span, best first.

        The tracks' boxes are taken from the detector over the span plus half a clip on each side, so a
        short span still yields a full clip."""
        self.setup()
        context = {t.track_id: t for t in self.detector.tracks_in_span(video, *self.context_span(video, start_s,
                                                                                                   end_s))[0]}
        chosen = [context.get(t.track_id, t) for t in tracks]
        probabilities = np.stack([self.mask_by_class(self.classify_track(video, t, start_s, end_s), t.label)
                                  for t in chosen])  # [K, C]
        scores = probabilities.max(axis=0)  # [C]
        return [ScoredLabel(self.labels[i], round(float(scores[i]), 3)) for i in np.argsort(-scores)]

    def mask_by_class(self, probabilities: np.ndarray, label: str) -> np.ndarray:
        """Zero the actions the object's class never does (when the model knows), renormalised. [C] -> [C]"""
        assert self.backend is not None
        allowed = self.backend.class_actions.get(label)
        if not allowed:
            return probabilities
        mask = np.array([name in allowed for name in self.backend.labels], np.float32)
        masked = probabilities * mask
        return masked / masked.sum() if masked.sum() > 0 else probabilities

    @staticmethod
    def context_span(video: VideoSession, start_s: float, end_s: float) -> tuple[float, float]:
        """The span plus half a clip on each side, so a short span still yields a full clip."""
        half = CLIP_FRAMES * STEP_S / 2
        return max(0.0, start_s - half), min(video.ref.duration_s, end_s + half)

    def classify_track(self, video: VideoSession, track: Track, start_s: float, end_s: float) -> np.ndarray:
        """Mean class probabilities of up to ``MAX_WINDOWS`` clips along the track inside the span."""
        assert self.backend is not None
        times = clip_times(start_s, end_s)
        boxes = interpolate_boxes(track.boxes, [t for window in times for t in window])
        lo, hi = min(min(w) for w in times), max(max(w) for w in times)
        frames = video.sample(max(0.0, lo), min(video.ref.duration_s, hi + 1e-3), fps=1 / STEP_S)
        frame_times = np.asarray(frames.times_s)
        crops, trajs = [], []
        for k, window in enumerate(times):
            window_boxes = boxes[k * CLIP_FRAMES : (k + 1) * CLIP_FRAMES]
            picks = [int(np.abs(frame_times - t).argmin()) for t in window]
            crops.append(crop_clip(frames.images[picks], window_boxes, self.crop))
            trajs.append(trajectory_features(window_boxes))
        return self.backend.predict(np.stack(crops), np.stack(trajs)).mean(axis=0)


def clip_times(start_s: float, end_s: float) -> list[list[float]]:
    """Times of up to ``MAX_WINDOWS`` clips of ``CLIP_FRAMES`` frames spread over the span, on the
    ``STEP_S`` grid (so the detector's sampled frames are reused); a short span gets one centred clip."""
    length = CLIP_FRAMES * STEP_S
    count = int(np.clip(np.floor((end_s - start_s) / length), 1, MAX_WINDOWS))
    centres = np.linspace(start_s, end_s, count + 2)[1:-1] if count > 1 else [(start_s + end_s) / 2]
    out = []
    for centre in centres:
        first = np.round((centre - length / 2 + STEP_S / 2) / STEP_S) * STEP_S
        first = max(0.0, first)
        out.append([round(first + i * STEP_S, 3) for i in range(CLIP_FRAMES)])
    return out


def interpolate_boxes(boxes: list[Box], times: list[float]) -> np.ndarray:
    """A track's box at each time, linearly interpolated (held at the ends). -> [len(times), 4]"""
    known_t = np.array([b.t_s for b in boxes])
    coords = np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], np.float32)
    return np.stack([np.interp(times, known_t, coords[:, j]) for j in range(4)], axis=1).astype(np.float32)
