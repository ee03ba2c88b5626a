"""Tools that real footage calls for beyond the four default ones: ``read_text`` (OCR with boxes and times)
and ``tag_scene`` (what kind of place or thing fills the frames). They run on ``RealModels`` and are part of
the ``real`` tool profile; the world's videos have neither text nor scenes to tag.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from vidagent.tools.base import Tool
from vidagent.tools.real_models import TEXT_FPS, RealModels
from vidagent.tools.results import Box, ScoredLabel, SceneTagsResult, TextResult, TextSighting, TimeSpan
from vidagent.tools.video import VideoSession

FOOTAGE_TOOL_NAMES = ("read_text", "tag_scene")
MAX_LINES = 12  # text lines reported per call
MAX_TAGS = 5


def _same_text(a: str, b: str) -> bool:
    return a.lower() == b.lower() or SequenceMatcher(None, a.lower(), b.lower()).ratio() >= 0.8


class FootageTools:
    """``read_text`` and ``tag_scene`` over one ``RealModels``."""

    def __init__(self, models: RealModels):
        self.models = models

    def tools(self) -> list[Tool]:
        return [Tool(getattr(self, name), fingerprint=self.fingerprint) for name in FOOTAGE_TOOL_NAMES]

    def fingerprint(self) -> str:
        return f"footage-v1:{self.models.tagger.fingerprint()}:{self.models.reader.fingerprint()}"

    def read_text(self, video: VideoSession, start_s: float, end_s: float) -> TextResult:
        """Read the text shown in a time span (signs, titles, captions): each line, when it is seen, where.

        Args:
            start_s: Start of the span in seconds.
            end_s: End of the span in seconds.
        """
        start_s, end_s = video.ref.check_range(start_s, end_s)
        scenes = self.models.scenes(video, start_s, end_s, tags=False, rate=TEXT_FPS)
        lines: list[TextSighting] = []
        for scene in scenes:
            for line in scene.texts:
                known = next((s for s in lines if _same_text(s.text, line.text)), None)
                if known is None:
                    lines.append(TextSighting(line.text, scene.t_s, scene.t_s, line.score,
                                              Box(scene.t_s, *(round(v, 1) for v in line.box), label="text",
                                                  score=line.score)))
                else:
                    known.last_s = scene.t_s
                    if line.score > known.score:
                        known.text, known.score = line.text, line.score
        return TextResult(TimeSpan(start_s, end_s), lines[:MAX_LINES], len(scenes))

    def tag_scene(self, video: VideoSession, start_s: float, end_s: float) -> SceneTagsResult:
        """Name what fills the frames in a time span (ImageNet tags such as "streetcar", "bird", "stage").

        Args:
            start_s: Start of the span in seconds.
            end_s: End of the span in seconds.
        """
        start_s, end_s = video.ref.check_range(start_s, end_s)
        scenes = self.models.scenes(video, start_s, end_s, texts=False)
        totals: dict[str, float] = {}
        for scene in scenes:
            for tag in scene.tags:
                totals[tag.name] = totals.get(tag.name, 0.0) + tag.score
        tags = [ScoredLabel(name, round(total / len(scenes), 2)) for name, total in totals.items()]
        tags.sort(key=lambda t: -t.score)
        return SceneTagsResult(TimeSpan(start_s, end_s), [t for t in tags if t.score >= 0.05][:MAX_TAGS],
                               len(scenes))
