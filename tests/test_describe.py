"""describe_frame: objects at a moment, their positions and track ids (shared with detect_objects)."""

from __future__ import annotations

from pathlib import Path

from tool_fakes import fake_detector, tools_over

from vidagent.tools import VideoSession
from vidagent.tools.default_tools import position_words


def test_position_words():
    assert position_words(10, 120, 320, 240) == "left"
    assert position_words(160, 10, 320, 240) == "top center"
    assert position_words(300, 230, 320, 240) == "bottom right"


def test_describe_reports_the_square_where_it_is(tiny_video: Path):
    tools = tools_over(fake_detector())
    session = VideoSession(tiny_video)
    early = tools["describe_frame"](session, t_s=0.2)
    late = tools["describe_frame"](session, t_s=5.0)
    assert [o.label for o in early.objects] == ["person"] and early.objects[0].position == "left"
    assert late.objects[0].position == "center"  # x = 150..180 of 320
    assert early.objects[0].color == "white"
    track_ids = {t.track_id for t in tools["detect_objects"](session, start_s=0.0, end_s=6.0).tracks}
    assert early.objects[0].box.track_id in track_ids
    assert "white person (left, track" in early.to_text()


def test_time_outside_the_video_is_an_error(tiny_video: Path):
    call = tools_over(fake_detector())["describe_frame"].invoke(VideoSession(tiny_video), {"t_s": 99.0})
    assert not call.ok and "outside the video" in call.text
