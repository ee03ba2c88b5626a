"""The agent examples run with their tiny-budget flag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_ask_python_tiny(tmp_path):
    out = run_example("ask_python.py", "--tiny", "--report", str(tmp_path / "r.html"))
    assert "[tool] motion_energy [ok" in out and "answer: 1-3 s" in out
    assert (tmp_path / "r.html").read_text().count("data:image/jpeg") >= 1


def test_api_planner_tiny():
    out = run_example("api_planner.py", "--tiny")
    assert "-> motion_energy(start_s=0" in out and "answer: moving" in out
