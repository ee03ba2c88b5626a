"""``describe_frame``: the objects visible at one moment, where they are and their colors.

It reuses the detector's tracking pass (same track ids as ``detect_objects``): the tracked boxes at the
sampled time nearest to ``t_s``.
"""

from __future__ import annotations

from vidagent.tools.base import VisionTool
from vidagent.tools.detector import ObjectDetector
from vidagent.tools.results import FrameDescription, ObjectAt
from vidagent.tools.video import VideoSession


def position_words(cx: float, cy: float, width: int, height: int) -> str:
    """'left'/'center'/'right', with 'top'/'bottom' for the outer vertical thirds."""
    horizontal = "left" if cx < width / 3 else "right" if cx > 2 * width / 3 else "center"
    vertical = "top " if cy < height / 3 else "bottom " if cy > 2 * height / 3 else ""
    return vertical + horizontal


class FrameDescriber(VisionTool):
    name = "describe_frame"

    def __init__(self, detector: ObjectDetector | None = None):
        self.detector = detector or ObjectDetector()

    def setup(self) -> None:
        self.detector.setup()

    def fingerprint(self) -> str:
        return f"describe:{self.detector.fingerprint()}"

    def run(self, video: VideoSession, t_s: float) -> FrameDescription:
        """List the objects visible at one moment: class, color, position in the frame and track id.

        Args:
            t_s: The moment, in seconds from the start of the video.
        """
        video.ref.check_range(t_s, t_s + 1e-3)
        step = 1.0 / min(self.detector.sample_fps, video.ref.fps)
        start = max(0.0, t_s - step / 2)
        tracks, times, _ = self.detector.tracks_in_span(video, start, min(video.ref.duration_s, start + step))
        nearest = min(times, key=lambda t: abs(t - t_s))
        objects = []
        for track in tracks:
            box = next((b for b in track.boxes if b.t_s == nearest), None)
            if box is None:
                continue
            where = position_words((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2, video.ref.width, video.ref.height)
            objects.append(ObjectAt(track.label, track.color, box, where))
        objects.sort(key=lambda o: (o.box.x1 + o.box.x2) / 2)
        return FrameDescription(round(nearest, 2), objects)
