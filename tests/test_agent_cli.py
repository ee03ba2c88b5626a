"""``vidagent ask`` end to end with a replayed planner and a user tool (``--tool``)."""

from __future__ import annotations

import json
import textwrap

import pytest
from vidagent.cli import main

TOOL_MODULE = textwrap.dedent('''
    from dataclasses import dataclass
    from vidagent.tools import VideoSession, tool
    from vidagent.tools.results import Box, Evidence, TimeSpan, ToolResult

    @dataclass
    class SquareResult(ToolResult):
        t_s: float
        x: float

        def render(self):
            return f"white square at x={self.x:.0f} at {self.t_s:.1f}s"

        def evidence(self):
            return Evidence(spans=[TimeSpan(self.t_s, self.t_s)],
                            boxes=[Box(self.t_s, self.x, 80, self.x + 30, 110, "square", 1)], track_ids=[1])

    @tool
    def find_square(video: VideoSession, t_s: float) -> SquareResult:
        """Find the white square.

        Args:
            t_s: Time in seconds.
        """
        frame = video.sample(t_s, t_s + 0.1, count=1).images[0]
        columns = (frame[90, :, 1] > 200).nonzero()[0]
        return SquareResult(t_s, float(columns.min()) if len(columns) else -1.0)
''')


@pytest.fixture()
def user_tool(tmp_path):
    path = tmp_path / "square_tool.py"
    path.write_text(TOOL_MODULE)
    return f"{path}:find_square"


def replay(tmp_path, replies):
    path = tmp_path / "replay.json"
    path.write_text(json.dumps({"replies": replies}))
    return f"replay:{path}"


CALL = '<tool_call>{"name": "find_square", "arguments": {"t_s": 2.0}}</tool_call>'


def test_ask_shows_steps_answer_evidence_and_stats(tmp_path, tiny_video, user_tool, capsys, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path / "cache"))
    planner = replay(tmp_path, ["Look for the square.\n" + CALL, "<answer>2.0-2.0</answer>"])
    code = main(["ask", str(tiny_video), "Where is the square?", "--planner", planner, "--tool", user_tool])
    out = capsys.readouterr().out
    assert code == 0
    assert "[plan ] Look for the square. -> find_square(t_s=2.0)" in out
    assert "[tool ] find_square [ok" in out and "white square at x=60 at 2.0s" in out
    assert "answer: 2-2 s (interval)" in out
    assert "evidence: spans 2.0-2.0s; tracks 1; 1 boxes; from find_square" in out
    assert "stats: 1 tool calls (0 errors)" in out


def test_ask_json_and_report(tmp_path, tiny_video, user_tool, capsys, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path / "cache"))
    planner = replay(tmp_path, [CALL, "<answer>1</answer>"])
    report = tmp_path / "out" / "report.html"
    code = main(["ask", str(tiny_video), "How many squares?", "--planner", planner, "--tool", user_tool,
                 "--json", "--report", str(report), "--answer-type", "number"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 0 and data["answered"] and data["answer"]["value"] == 1
    assert data["stats"]["tool_calls"] == 1 and data["trace"][1]["name"] == "find_square"
    assert "[tool ]" in captured.err  # steps go to stderr with --json
    page = report.read_text()
    assert page.count("data:image/jpeg;base64,") >= 1 and "find_square" in page


def test_no_answer_exits_1_and_says_why(tmp_path, tiny_video, user_tool, capsys, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path / "cache"))
    planner = replay(tmp_path, [CALL, CALL, CALL])
    code = main(["ask", str(tiny_video), "?", "--planner", planner, "--tool", user_tool, "--max-tool-calls", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "no answer: the tool-call budget (1 calls) was used up" in out


def test_an_empty_question_is_a_clear_error(tmp_path, tiny_video, user_tool, capsys, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path / "cache"))
    planner = replay(tmp_path, [CALL])
    code = main(["ask", str(tiny_video), "  ", "--planner", planner, "--tool", user_tool])
    captured = capsys.readouterr()
    assert code == 2
    assert "the question is empty" in captured.out + captured.err and "Traceback" not in captured.err


def test_thread_continues_a_conversation(tmp_path, tiny_video, user_tool, capsys, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path / "cache"))
    first = replay(tmp_path, [CALL, "<answer>1</answer>"])
    assert main(["ask", str(tiny_video), "How many squares?", "--planner", first, "--tool", user_tool,
                 "--thread", "t1", "--quiet"]) == 0
    capsys.readouterr()

    def prompt_tokens(extra):
        follow_up = replay(tmp_path, ["<answer>white</answer>"])
        assert main(["ask", str(tiny_video), "What color is it?", "--planner", follow_up, "--tool", user_tool,
                     "--json", "--quiet", *extra]) == 0
        return json.loads(capsys.readouterr().out)["stats"]["prompt_tokens"]

    # the follow-up sees the first question's messages, so its prompt is longer than a fresh one
    assert prompt_tokens(["--thread", "t1"]) > prompt_tokens([])
    other = tmp_path / "other.mp4"
    other.write_bytes(tiny_video.read_bytes() + b"\0")
    assert main(["ask", str(other), "?", "--planner", first, "--tool", user_tool, "--thread", "t1"]) == 2
    assert "use a new --thread id" in capsys.readouterr().err


def test_bad_input_is_reported_without_traceback(tmp_path, tiny_video, capsys):
    assert main(["ask", str(tmp_path / "missing.mp4"), "?"]) == 2
    assert "video not found" in capsys.readouterr().err
    assert main(["ask", str(tiny_video), "?", "--planner", "replay:/nope.json"]) == 2
    assert "no replay file" in capsys.readouterr().err
    assert main(["ask", str(tiny_video), "?", "--planner", "anthropic:claude-sonnet-4-5"]) == 2  # not installed
    assert "pip install langchain-anthropic" in capsys.readouterr().err
    assert main(["ask", str(tiny_video), "?", "--planner", "openai:gpt-4o-mini", "--sample"]) == 2
    assert "local planners only" in capsys.readouterr().err
    assert main(["ask", str(tiny_video), "?", "--planner", "no-such-org/no-such-model"]) == 2
    assert "--allow-download" in capsys.readouterr().err
    assert main(["ask", str(tiny_video), "?", "--temperature", "0.5"]) == 2


@pytest.mark.slow
def test_ctrl_c_during_ask_exits_130_without_abort(tmp_path):
    """SIGINT while the local planner decodes on its batching thread: exit 130, no C++ abort (was 134)."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    # SIG_DFL in the child: a suite started in the background (`make test &`) has SIGINT ignored, which a child
    # inherits, and Python then installs no KeyboardInterrupt handler at all
    process = subprocess.Popen([sys.executable, "-m", "vidagent", "ask", str(root / "examples/world/street.mp4"),
                                "How many people appear?", "--tools", "world"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in process.stdout:  # wait until the planner is loaded and the question runs
        lines.append(line)
        if line.startswith("tools:"):
            break
    time.sleep(2.0)  # inside the first LLM call (one takes ~8 s on 2 cores)
    process.send_signal(signal.SIGINT)
    rest = process.stdout.read()
    assert process.wait(timeout=60) == 130, "".join(lines) + rest
    assert "interrupted" in rest and "terminate called" not in rest


def test_ctrl_c_that_a_library_swallows_still_exits_130(monkeypatch, capsys):
    """langgraph's task callbacks catch BaseException: a SIGINT landing there must not turn into exit 0."""
    import argparse
    import os
    import signal

    import vidagent.cli as cli

    def swallowing(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except BaseException:  # noqa: BLE001 - what the library does
            pass
        return 0

    parser = argparse.ArgumentParser()
    parser.set_defaults(handler=swallowing, command="x")
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (a background suite: ignored)
    try:
        assert cli.main([]) == 130 and "interrupted" in capsys.readouterr().err
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back after the command
    finally:
        signal.signal(signal.SIGINT, before)
