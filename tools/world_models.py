"""``WorldModels``: the perception backend of models trained on the synthetic world, run on the pixels.

One detector is shared by the three models (one model in memory, one tracking pass per video, so track
ids agree between ``detect_objects``, ``recognize_action`` and ``describe_frame``); the grounder's fused
search reuses the action model. Each model loads lazily, on the first call that needs it, so a missing
weights file fails only the tools that use it (with the command that rebuilds it).
"""

from __future__ import annotations

from collections.abc import Sequence

from vidagent.tools.action import ActionRecognizer
from vidagent.tools.detector import ObjectDetector
from vidagent.tools.grounding import MomentGrounder
from vidagent.tools.perception import Sighting
from vidagent.tools.results import ScoredLabel, ScoredSpan, Track
from vidagent.tools.video import VideoSession


class WorldModels:
    """YOLO + ByteTrack, the world action network and the fused/CLIP grounder (weights in ``tools/weights``).

    Pass your own models to swap one: ``WorldModels(detector=ObjectDetector("yolo11n.pt"))``.
    """

    name = "world"

    def __init__(self, detector: ObjectDetector | None = None, recognizer: ActionRecognizer | None = None,
                 grounder: MomentGrounder | None = None):
        self.detector = detector or ObjectDetector()
        self.recognizer = recognizer or ActionRecognizer(detector=self.detector)
        self.grounder = grounder or MomentGrounder(detector=self.detector, recognizer=self.recognizer)

    def fingerprint(self) -> str:
        return f"{self.detector.fingerprint()}|{self.recognizer.fingerprint()}|{self.grounder.fingerprint()}"

    def classes(self) -> Sequence[str]:
        return self.detector.class_names

    def sighting(self, video: VideoSession, start_s: float, end_s: float) -> Sighting:
        tracks, times, frames_used = self.detector.tracks_in_span(video, start_s, end_s)
        return Sighting(tracks, times, frames_used)

    def actions(self, video: VideoSession, start_s: float, end_s: float, tracks: list[Track]) -> list[ScoredLabel]:
        return self.recognizer.classify_tracks(video, start_s, end_s, tracks)

    def moments(self, video: VideoSession, query: str, top_k: int) -> list[ScoredSpan]:
        return self.grounder.moments(video, query, top_k)
