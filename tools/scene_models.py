"""Scene tags (EfficientNet-Lite3, ImageNet-1k, through LiteRT) and text in frames (PP-OCRv6 through
rapidocr) for real footage. Both run on single RGB frames, load on first use and remember their answer per
(video, frame), so ``tag_scene``, ``read_text``, ``describe_frame`` and ``ground_moment`` share the work.

Why LiteRT and not OpenCV's TFLite importer: OpenCV 5.0 cannot build the int8 dense head (GemmInt8).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from vidagent.errors import ToolError
from vidagent.tools.memo import Memo
from vidagent.tools.real_weights import OCR, TAGGER, TAGGER_LABELS, model_file

THREADS = int(os.environ.get("VIDAGENT_THREADS", "2"))


@dataclass(frozen=True)
class Tag:
    name: str  # the first ImageNet name ("cab", "streetcar")
    synonyms: tuple[str, ...]  # every name of the class ("cab", "hack", "taxi", "taxicab")
    score: float


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x1 y1 x2 y2 pixels


class SceneTagger:
    """ImageNet tags of a frame, best first, above ``min_score``."""

    def __init__(self, top_k: int = 3, min_score: float = 0.15):
        self.top_k, self.min_score = top_k, min_score
        self._interpreter = None
        self._lock = threading.Lock()  # one LiteRT interpreter is not thread-safe
        self._memo: Memo[tuple[str, int], list[Tag]] = Memo(4096)
        self.labels: list[tuple[str, ...]] = []
        self._words: frozenset[str] | None = None

    def setup(self) -> None:
        if self._interpreter is not None:
            return
        path, labels = model_file(TAGGER), model_file(TAGGER, TAGGER_LABELS)
        try:
            from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
        except ImportError:
            raise ToolError("the scene tagger needs LiteRT, which is not installed",
                            "install it: pip install ai-edge-litert==2.3.0") from None
        interpreter = Interpreter(model_path=str(path), num_threads=THREADS)
        interpreter.allocate_tensors()
        self.labels = [tuple(n.strip() for n in line.split(",")) for line in labels.read_text().splitlines()]
        self._input, self._output = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        self._interpreter = interpreter

    def words(self) -> frozenset[str]:
        """Every word of every class name ("cab", "taxicab", "streetcar"...): what a query may name."""
        if self._words is None:
            self.setup()
            self._words = frozenset(w for names in self.labels for name in names for w in name.lower().split())
        return self._words

    def fingerprint(self) -> str:
        return f"efficientnet-lite3:{self.top_k}:{self.min_score}"

    def tags(self, key: tuple[str, int], image: np.ndarray) -> list[Tag]:
        known = self._memo.get(key)
        if known is not None:
            return known
        import cv2  # noqa: PLC0415

        self.setup()
        height, width = (int(v) for v in self._input["shape"][1:3])
        x = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)[None].astype(self._input["dtype"])
        with self._lock:
            self._interpreter.set_tensor(self._input["index"], x)
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._output["index"]).ravel().astype(np.float32)
        scale, zero = self._output["quantization"]
        probs = (raw - zero) * scale if scale else raw
        top = np.argsort(probs)[::-1][: self.top_k]
        tags = [Tag(self.labels[i][0], self.labels[i], round(float(probs[i]), 2)) for i in top
                if probs[i] >= self.min_score]
        self._memo.put(key, tags)
        return tags


class TextReader:
    """Lines of text in a frame (PP-OCRv6 small), above ``min_score``, top to bottom."""

    def __init__(self, min_score: float = 0.6, max_side: int = 960):
        self.min_score, self.max_side = min_score, max_side
        self._ocr = None
        self._lock = threading.Lock()
        self._memo: Memo[tuple[str, int], list[TextLine]] = Memo(4096)

    def setup(self) -> None:
        if self._ocr is not None:
            return
        model_file(OCR)
        import logging  # noqa: PLC0415

        try:
            from rapidocr import RapidOCR  # noqa: PLC0415
        except ImportError as error:
            raise ToolError(f"the text reader cannot load rapidocr ({error})",
                            f"install it: pip install --no-deps {OCR.requirement} omegaconf colorlog pyclipper "
                            "shapely onnxruntime") from None
        # "limit_type max": never upscale small frames (the default's 1.3-2.7 s per frame); no angle model
        self._ocr = RapidOCR(params={"Det.limit_type": "max", "Det.limit_side_len": self.max_side,
                                     "Global.use_cls": False, "Global.log_level": "error"})
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    def fingerprint(self) -> str:
        return f"ppocrv6-small:{self.min_score}:{self.max_side}"

    def read(self, key: tuple[str, int], image: np.ndarray) -> list[TextLine]:
        known = self._memo.get(key)
        if known is not None:
            return known
        self.setup()
        with self._lock:
            result = self._ocr(np.ascontiguousarray(image[..., ::-1]))  # rapidocr reads BGR
        lines = []
        for text, score, box in zip(result.txts or (), result.scores or (), result.boxes if result.boxes is not None
                                    else (), strict=False):
            text = " ".join(str(text).split())
            # one glyph alone is mostly texture read as a character ("口" on a door): keep it only when sure
            if text and score >= self.min_score and (len(text) > 1 or score >= 0.95):
                pts = np.asarray(box, np.float32)
                lines.append(TextLine(text, round(float(score), 2),
                                      (float(pts[:, 0].min()), float(pts[:, 1].min()),
                                       float(pts[:, 0].max()), float(pts[:, 1].max()))))
        lines.sort(key=lambda line: (line.box[1], line.box[0]))
        self._memo.put(key, lines)
        return lines
