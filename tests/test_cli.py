"""The CLI: help, video info, tools list, and clear errors (exit 2, no traceback) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vidagent", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("video", "tools"):
        assert command in out.stdout


def test_video_info(tiny_video: Path):
    out = run("video", "info", str(tiny_video), "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["width"], info["height"], info["frame_count"]) == (320, 240, 60)


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.mp4", "video not found"),
    (lambda d: d, "is a directory"),
    (lambda d: (d / "t.mp4").write_text("hello") and d / "t.mp4", "not a video file"),
])
def test_bad_video_is_a_clear_error(tmp_path: Path, make, message: str):
    out = run("video", "info", str(make(tmp_path)))
    assert out.returncode == 2
    assert message in out.stderr and "fix:" in out.stderr and "Traceback" not in out.stderr


def test_tools_list_with_user_tool():
    out = run("tools", "list", "--tool", "examples.custom_tool:motion_energy")
    assert out.returncode == 0, out.stderr
    assert "motion_energy" in out.stdout and "- samples (int, default 16)" in out.stdout


@pytest.mark.parametrize(("spec", "message"), [
    ("nocolon", "not of the form module:attr"),
    ("no_such_module_xyz:fn", "cannot import"),
    ("examples.custom_tool:nothing", "has no attribute"),
    ("examples.custom_tool:MotionResult", "first parameter must be `video"),
])
def test_bad_tool_spec(spec: str, message: str):
    out = run("tools", "list", "--tool", spec)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_example_tool_script_runs(tiny_video: Path):
    out = subprocess.run([sys.executable, "examples/custom_tool.py", str(tiny_video)], capture_output=True,
                         text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Motion in 0.0-6.0s")
