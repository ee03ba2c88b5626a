"""The world grounder: find when a described moment happens (for ``ground_moment``).

Two backends (``MomentGrounder(backend=...)``; the planner sees only ``query`` and ``top_k``):

* ``"fused"`` (``vidagent.tools.fused_grounding``): the query is parsed against the detector's classes, the
  color names and the action model's labels ("the red car stops" -> car, red, stop); the matching tracks of
  ``detect_objects`` are classified clip by clip with ``recognize_action``'s model and runs of the queried
  action become the spans. Accurate on what those models know; it cannot read any other sentence.
* ``"clip"``: open_clip embeddings of frames against the query text (below). Reads any sentence.

The default, ``"auto"``, uses the fused backend when the query parses and some track matches its
subject, and CLIP otherwise.

The CLIP backend, with open_clip embeddings:

Per video, frames are sampled at ``embed_fps`` and embedded once; the embeddings are cached on disk
(npz keyed by video sha256 + model fingerprint + rate). A query is embedded, compared with every frame,
z-scored and smoothed; windows of several lengths are scored by how much more similar their inside is
than their outside, and the best non-overlapping windows are returned.

Models: the default is a tiny open_clip model (``tools/configs/world-clip.json``) trained on world
frames and captions; its safetensors metadata says which config it uses and whether it sees two frames
stacked (``frame_stack=2``: the frame ``frame_gap_s`` earlier above the current one, so motion is visible).
Any open_clip model works with local weights: ``MomentGrounder(model_name="ViT-B-32", weights=path)``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vidagent.errors import ToolError
from vidagent.offline import cache_root
from vidagent.tools.action import ActionRecognizer
from vidagent.tools.colors import COLOR_NAMES
from vidagent.tools.defaults import (
    CLIP_WEIGHTS,
    CONFIGS_DIR,
    REBUILD,
    corrupt_weights,
    require_weights,
    weights_fingerprint,
)
from vidagent.tools.detector import ObjectDetector
from vidagent.tools.fused_grounding import (
    ParsedQuery,
    TrackWindows,
    Vocabulary,
    candidate_spans,
    classify_windows,
    non_overlapping,
    parse_query,
)
from vidagent.tools.memo import Memo
from vidagent.tools.results import ScoredSpan, Track
from vidagent.tools.video import VideoSession

WORLD_CLIP_CONFIG = CONFIGS_DIR / "world-clip.json"
WORLD_CLIP_NAME = "world-clip"
WINDOW_SECONDS = (0.8, 1.2, 1.6, 2.4, 3.2, 4.8, 6.4, 9.6, 12.8)
FUSED_VERSION = "fused-v2"  # bump when the fused search changes, so cached results are recomputed
Backend = Literal["auto", "fused", "clip"]
BACKENDS: tuple[str, ...] = ("auto", "fused", "clip")


def load_state_dict(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Tensors and metadata from a safetensors file, or a plain state dict via ``torch.load(weights_only=True)``."""
    import torch  # noqa: PLC0415

    if path.suffix == ".safetensors":
        from safetensors import safe_open  # noqa: PLC0415

        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata() or {}
            return {k: handle.get_tensor(k).float() for k in handle.keys()}, metadata
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise TypeError(f"expected a state dict, found {type(state).__name__}")
    return {k.removeprefix("module."): v for k, v in state.items()}, {}


class _RandomInitWarningMuted(logging.Filter):
    """Within ``with``: drop open_clip's root-logger warning that a model built without ``pretrained`` is
    "initialized randomly"."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "initialized randomly" not in record.getMessage()

    def __enter__(self) -> None:
        logging.getLogger().addFilter(self)

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeFilter(self)


class ClipModel:
    """An open_clip model with local weights, a tokenizer, and frame preprocessing."""

    def __init__(self, model_name: str | None, weights: Path, config: Path | None, rebuild: str):
        import open_clip  # noqa: PLC0415
        import torch  # noqa: PLC0415

        try:
            state, metadata = load_state_dict(weights)
        except Exception as error:
            raise corrupt_weights(weights, "CLIP", rebuild, error) from None
        self.model_name = model_name or metadata.get("open_clip_model", WORLD_CLIP_NAME)
        self.frame_stack = int(metadata.get("frame_stack", 1))
        self.frame_gap_s = float(metadata.get("frame_gap_s", 0.0))
        if config is not None:
            open_clip.add_model_config(config)
        if self.model_name not in open_clip.list_models():
            raise ToolError(f"unknown open_clip model {self.model_name!r}",
                            "pass model_name= one of open_clip.list_models(), or config= a model config JSON")
        with _RandomInitWarningMuted():  # the weights are loaded on the next line; the warning would mislead
            model = open_clip.create_model(self.model_name, pretrained=None)
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            raise corrupt_weights(weights, f"CLIP ({self.model_name})", rebuild, error) from None
        self.model = model.eval()
        self.tokenizer = open_clip.get_tokenizer(self.model_name)
        self.image_size = tuple(model.visual.image_size)  # (H, W)
        self.mean = torch.tensor(model.visual.image_mean or open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(model.visual.image_std or open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
        self.torch = torch

    def images_to_tensor(self, images: np.ndarray) -> Any:
        """[N,H,W,3] uint8 RGB (N frames, or N stacks of ``frame_stack`` frames concatenated in H) ->
        normalised [N,3,h,w] at the model's input size."""
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255  # [N,3,H,W]
        x = torch.nn.functional.interpolate(x, size=self.image_size, mode="bilinear", align_corners=False,
                                            antialias=True)
        return (x - self.mean) / self.std

    def encode_images(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """L2-normalised image embeddings [N, D]."""
        out = []
        with self.torch.inference_mode():
            for start in range(0, len(images), batch_size):
                feats = self.model.encode_image(self.images_to_tensor(images[start : start + batch_size]))
                out.append(self.torch.nn.functional.normalize(feats, dim=-1).numpy())
        return np.concatenate(out).astype(np.float32)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """L2-normalised text embeddings [N, D]."""
        with self.torch.inference_mode():
            feats = self.model.encode_text(self.tokenizer(texts))
            return self.torch.nn.functional.normalize(feats, dim=-1).numpy().astype(np.float32)


def stack_frames(frames: np.ndarray, stack: int, gap: int) -> np.ndarray:
    """Per time step, the frames ``gap`` steps apart (oldest on top) concatenated along H.

    [N,H,W,3] -> [N, stack*H, W, 3]; the first steps repeat the first frame.
    """
    if stack == 1:
        return frames
    n = len(frames)
    parts = [frames[np.clip(np.arange(n) - gap * (stack - 1 - k), 0, n - 1)] for k in range(stack)]
    return np.concatenate(parts, axis=1)


@dataclass
class FrameEmbeddings:
    times_s: np.ndarray  # [T]
    embeddings: np.ndarray  # [T, D]


class MomentGrounder:
    """Temporal grounding: detector tracks + action model when the query parses, else open_clip.

    ``backend``: ``"auto"`` (default) fused when the query parses and a track matches, CLIP otherwise;
    ``"fused"`` only the fused search (an unparseable query is an error); ``"clip"`` only CLIP.
    ``detector`` / ``recognizer``: share the toolbox's, so tracks are computed once per video.
    """

    def __init__(self, weights: str | Path | None = None, *, backend: Backend = "auto",
                 detector: ObjectDetector | None = None, recognizer: ActionRecognizer | None = None,
                 model_name: str | None = None, config: str | Path | None = WORLD_CLIP_CONFIG,
                 embed_fps: float = 5.0, max_frames: int = 300, smooth_s: float = 0.6,
                 cache_dir: str | Path | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self.weights = Path(weights).expanduser() if weights is not None else CLIP_WEIGHTS
        self.model_name = model_name
        self.config = Path(config) if config is not None else None
        self.embed_fps, self.max_frames, self.smooth_s = embed_fps, max_frames, smooth_s
        self.cache_dir = Path(cache_dir) if cache_dir is not None else cache_root() / "clip_embeddings"
        self.detector = detector or (recognizer.detector if recognizer is not None else ObjectDetector())
        self.recognizer = recognizer or ActionRecognizer(detector=self.detector)
        self.model: ClipModel | None = None
        self._vocabulary: Vocabulary | None = None
        self._memo: Memo[str, FrameEmbeddings] = Memo(32)  # per video and rate; the disk cache holds the rest
        self._windows: Memo[tuple[Any, ...], TrackWindows] = Memo(4096)  # classified clips per track
        self._lock = threading.Lock()
        self.backend_counts: Counter[str] = Counter()  # which backend answered, per call (for evaluation)

    def setup(self) -> None:
        # CLIP loads eagerly (it is the fallback); the detector and action model load on the first parse
        if self.backend != "fused":
            self.load_clip()

    def load_clip(self) -> ClipModel:
        if self.model is None:
            rebuild = REBUILD["clip"] if self.weights == CLIP_WEIGHTS else "pass the path of valid open_clip weights"
            require_weights(self.weights, "CLIP", rebuild)
            self.model = ClipModel(self.model_name, self.weights, self.config, rebuild)
        return self.model

    def clip_fingerprint(self) -> str:
        """Names the CLIP embeddings (their disk cache key): unchanged by the fused backend."""
        return f"clip:{self.model_name}:{weights_fingerprint(self.weights)}:{self.embed_fps}:{self.smooth_s}"

    def fingerprint(self) -> str:
        if self.backend == "clip":
            return self.clip_fingerprint()
        return f"{self.clip_fingerprint()}|{FUSED_VERSION}:{self.backend}:{self.recognizer.fingerprint()}"

    def moments(self, video: VideoSession, query: str, top_k: int) -> list[ScoredSpan]:
        """The best ``top_k`` spans for a (non-empty) query, best first."""
        parsed = self.parse(query) if self.backend != "clip" else None
        if parsed is not None:
            spans = self.fused_spans(video, parsed, top_k)
            if spans or self.backend == "fused":
                self._count("fused")
                return spans
        elif self.backend == "fused":
            vocab = self.vocabulary()
            raise ToolError(f"the fused grounder cannot read {query!r}",
                            f"say who and what, e.g. \"the red car stops\"; objects: {', '.join(vocab.classes)}; "
                            f"actions: {', '.join(vocab.actions)}, enter, leave, hit")
        self._count("clip")
        return self.clip_spans(video, query, top_k)

    def _count(self, backend: str) -> None:
        with self._lock:
            self.backend_counts[backend] += 1

    # -- fused backend ---------------------------------------------------------------------------------
    def vocabulary(self) -> Vocabulary:
        """What the detector and the action model can name (loads both)."""
        if self._vocabulary is None:
            self.recognizer.setup()
            assert self.recognizer.backend is not None
            class_actions = {k: tuple(v) for k, v in self.recognizer.backend.class_actions.items()}
            self._vocabulary = Vocabulary(tuple(self.detector.class_names), COLOR_NAMES,
                                          tuple(self.recognizer.labels), class_actions)
        return self._vocabulary

    def parse(self, query: str) -> ParsedQuery | None:
        """The parsed query, or None when it does not parse (or, in auto mode, the fused models are missing)."""
        try:
            vocab = self.vocabulary()
        except ToolError:
            if self.backend == "fused":
                raise
            return None  # no detector or action weights: CLIP still answers
        return parse_query(query, vocab)

    def fused_spans(self, video: VideoSession, parsed: ParsedQuery, top_k: int) -> list[ScoredSpan]:
        tracks, _, _ = self.detector.tracks_in_span(video, 0.0, video.ref.duration_s)
        spans = candidate_spans(parsed, tracks, lambda track: self.track_windows(video, track), self.vocabulary(),
                                video.ref.duration_s)
        return non_overlapping(spans, top_k)

    def track_windows(self, video: VideoSession, track: Track) -> TrackWindows:
        """A track's classified clips, memoised per video, track and models (queries share them)."""
        key = (video.ref.sha256, track.track_id, track.first_s, track.last_s, self.recognizer.fingerprint())
        known = self._windows.get(key)
        if known is not None:
            return known
        windows = classify_windows(video, track, self.recognizer)
        self._windows.put(key, windows)
        return windows

    # -- CLIP backend ----------------------------------------------------------------------------------
    def clip_spans(self, video: VideoSession, query: str, top_k: int) -> list[ScoredSpan]:
        frames = self.frame_embeddings(video)
        query_embedding = self.load_clip().encode_texts([query])[0]  # [D]
        similarity = frames.embeddings @ query_embedding  # [T]
        return search_windows(similarity, frames.times_s, video.ref.duration_s, top_k,
                              smooth=max(1, round(self.smooth_s * self._rate(video))))

    def _rate(self, video: VideoSession) -> float:
        return min(self.embed_fps, video.ref.fps, self.max_frames / video.ref.duration_s)

    def frame_embeddings(self, video: VideoSession) -> FrameEmbeddings:
        """Embeddings of frames sampled over the whole video: memory, then disk cache, then the model."""
        model = self.load_clip()
        rate = self._rate(video)
        key = hashlib.sha256(f"{video.ref.sha256}|{self.clip_fingerprint()}|{rate:.4f}".encode()).hexdigest()[:32]
        known = self._memo.get(key)
        if known is not None:
            return known
        path = self.cache_dir / f"{key}.npz"
        if path.exists():
            try:
                with np.load(path) as data:
                    result = FrameEmbeddings(data["times_s"], data["embeddings"])
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # a torn write: recompute
            else:
                self._memo.put(key, result)
                return result
        # a whole-video pass kept on disk and shared by every later question: indexing, not this question's budget
        frames = video.sample(0.0, video.ref.duration_s, fps=rate, indexing=True)
        gap = max(1, round(model.frame_gap_s * rate)) if model.frame_stack > 1 else 1
        images = stack_frames(frames.images, model.frame_stack, gap)
        result = FrameEmbeddings(np.asarray(frames.times_s, np.float32), model.encode_images(images))
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp.npz")
        np.savez(tmp, times_s=result.times_s, embeddings=result.embeddings)
        tmp.replace(path)  # atomic: readers never see half a file
        self._memo.put(key, result)
        return result


def search_windows(similarity: np.ndarray, times_s: np.ndarray, duration_s: float, top_k: int,
                   smooth: int = 3, window_seconds: tuple[float, ...] = WINDOW_SECONDS) -> list[ScoredSpan]:
    """Best non-overlapping windows by contrast: mean z-scored similarity inside minus outside.

    similarity, times_s: [T]. Windows span ``window_seconds`` (those shorter than the video).
    """
    t = len(similarity)
    z = (similarity - similarity.mean()) / max(float(similarity.std()), 1e-6)  # [T]
    if smooth > 1:
        kernel = np.ones(smooth) / smooth
        z = np.convolve(np.pad(z, (smooth // 2, smooth - 1 - smooth // 2), mode="edge"), kernel, mode="valid")
    step = float(np.median(np.diff(times_s))) if t > 1 else duration_s
    cumsum = np.concatenate([[0.0], np.cumsum(z)])  # [T+1]
    total = cumsum[-1]
    candidates: list[ScoredSpan] = []
    lengths = sorted({max(1, min(t, round(s / step))) for s in window_seconds if s < duration_s}
                     or {max(1, t // 2)})
    for length in lengths:
        starts = np.arange(0, t - length + 1)
        inside = (cumsum[starts + length] - cumsum[starts]) / length
        outside = (total - inside * length) / max(t - length, 1) if length < t else np.zeros_like(inside)
        scores = inside - outside
        for s, score in zip(starts, scores, strict=True):
            begin = max(0.0, float(times_s[s]) - step / 2)
            end = min(duration_s, float(times_s[s + length - 1]) + step / 2)
            candidates.append(ScoredSpan(begin, end, float(score)))
    return [ScoredSpan(round(c.start_s, 2), round(c.end_s, 2), round(c.score, 3))
            for c in non_overlapping(candidates, top_k)]
