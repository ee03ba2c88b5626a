"""A plain wheel (not only the editable install) carries every subpackage under the vidagent namespace."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_installs_and_imports(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(REPO)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("vidagent-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # Every Python file of the source folders must be in the wheel under its vidagent.* name.
    folders = {"core": "vidagent", "agent": "vidagent/agent", "tools": "vidagent/tools",
               "policies": "vidagent/policies", "tasks": "vidagent/tasks"}
    for folder, prefix in folders.items():
        for source in (REPO / folder).rglob("*.py"):
            if "__pycache__" in source.parts:
                continue
            packaged = f"{prefix}/{source.relative_to(REPO / folder).as_posix()}"
            assert packaged in names, f"{packaged} missing from the wheel: list its package in pyproject.toml"
    assert not any(n.startswith(("tools/", "agent/", "tests/")) for n in names), "bare top-level packages leaked"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "vidagent = vidagent.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    code = ("import vidagent, vidagent.tools, vidagent.agent, vidagent.policies, vidagent.tasks, vidagent.cli;"
            "print(vidagent.__file__)")
    # Run from an empty directory so nothing in the repo can shadow the installed copy.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith(str(target))
