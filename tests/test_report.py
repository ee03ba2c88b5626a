"""The HTML report: self-contained, with key frames (boxes drawn), a timeline and the trace."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image
from vidagent.agent import Agent, ScriptedChatModel
from vidagent.agent.parsing import format_answer, format_tool_call
from vidagent.agent.report import render_report, write_report


def run(tiny_video, replies, **kwargs):
    from test_agent_graph import TOOLS

    return Agent(planner=ScriptedChatModel(replies=replies), tools=TOOLS, **kwargs).ask(tiny_video, "How <many> dogs?")


def test_report_is_self_contained_with_frames_timeline_and_trace(tiny_video, tmp_path):
    result = run(tiny_video, ["Count first.\n" + format_tool_call("count_objects", {"start_s": 1, "end_s": 3}),
                              format_tool_call("broken_tool", {"t_s": 1}), format_answer("2")])
    path = write_report(result, tmp_path / "r" / "report.html")
    page = path.read_text()
    assert page.startswith("<!doctype html>")
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing loaded from elsewhere
    assert "How &lt;many&gt; dogs?" in page  # escaped
    assert "<svg class=timeline" in page and page.count('class="span ok"') == 1
    assert "broken_tool" in page and "detector weights are missing" in page
    assert "Count first." in page and "answered after 3 LLM calls" in page
    images = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', page)
    assert len(images) == 1  # one evidence time: the box at 2.0 s
    frame = np.asarray(Image.open(io.BytesIO(base64.b64decode(images[0]))).convert("RGB"))
    # the box (x 10..50 px of 320 -> 11..56 px of 360) is drawn in the track's color (#9a6324 for track 7)
    # on a background whose green and blue channels are 0
    edge = frame[20:50, 11].astype(int)  # [30, 3]
    assert edge[:, 1].mean() > 50 and frame[20:50, 30].astype(int)[:, 1].mean() < 20


def test_unanswered_report_says_why(tiny_video):
    result = run(tiny_video, ["hmm", "still thinking", "no idea"], max_tool_calls=0)
    page = render_report(result)
    assert "no answer" in page and "without writing &lt;answer&gt;" in page
    assert page.count("data:image/jpeg") == 3  # no evidence: three frames across the video
