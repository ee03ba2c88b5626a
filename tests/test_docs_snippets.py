"""The Python blocks of README.md and docs/*.md run as written.

Each block runs in a fresh interpreter fed on stdin (``python -``, as a reader pasting it would: an unsafe
``__main__`` for process pools, which is the point), from a scratch folder that links the repository's
``examples/`` (so relative paths resolve and nothing is written into the checkout). The only change is a
tiny budget (one tool call, two LLM calls per question) so the suite stays fast. A block whose first line
is ``# sketch`` (it needs the reader's own files, e.g. a checkpoint under /models) is compiled, not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
TINY_BUDGET = """
import vidagent.agent.api as _api
_init = _api.Agent.__init__
def _tiny(self, *args, **kwargs):
    kwargs.setdefault("max_tool_calls", 1)
    kwargs.setdefault("max_llm_calls", 2)
    _init(self, *args, **kwargs)
_api.Agent.__init__ = _tiny
"""


def blocks() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1)))
    return found


BLOCKS = blocks()
SKETCHES = [(where, code) for where, code in BLOCKS if code.startswith("# sketch")]
RUNNABLE = [(where, code) for where, code in BLOCKS if not code.startswith("# sketch")]


def test_the_docs_have_python_blocks_and_sketches_say_what_they_need():
    assert len(RUNNABLE) >= 5
    for where, code in SKETCHES:
        assert len(code.splitlines()[0]) > len("# sketch: "), f"{where}: say what the sketch needs"


@pytest.mark.parametrize(("where", "code"), SKETCHES, ids=[w for w, _ in SKETCHES])
def test_sketches_compile(where, code):
    compile(code, where, "exec")


@pytest.mark.slow
@pytest.mark.parametrize(("where", "code"), RUNNABLE, ids=[w for w, _ in RUNNABLE])
def test_block_runs_as_written(where, code, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # `examples.custom_tool` and friends import from the checkout
    run = subprocess.run([sys.executable, "-"], input=TINY_BUDGET + code, cwd=tmp_path, env=env, text=True,
                         capture_output=True, timeout=240)
    assert run.returncode == 0, f"{where} failed:\n{run.stderr[-3000:]}"
    assert "Traceback" not in run.stderr
