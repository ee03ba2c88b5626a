"""The default toolbox, as one explicit list. A newcomer finds every default tool here.

Also: where the default weights live, the command that rebuilds each of them, and the two helpers every
model tool uses to check a weights file and to fingerprint it for the result cache.
"""

from __future__ import annotations

from pathlib import Path

from vidagent.errors import ToolError
from vidagent.tools.base import Tool
from vidagent.tools.perception import Perception

PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
CONFIGS_DIR = PACKAGE_DIR / "configs"

# Default weights (committed, trained on the world) and the commands that reproduce them.
DETECTOR_WEIGHTS = WEIGHTS_DIR / "detector.pt"
ACTION_WEIGHTS = WEIGHTS_DIR / "action.safetensors"
CLIP_WEIGHTS = WEIGHTS_DIR / "clip.safetensors"
REBUILD = {
    "detector": "python -m vidagent.tasks.toolfit.train_detector --out tools/weights/detector.pt",
    "action": "python -m vidagent.tasks.toolfit.train_action --out tools/weights/action.safetensors",
    "clip": "python -m vidagent.tasks.toolfit.train_clip --out tools/weights/clip.safetensors",
}


def default_tools(perception: Perception | None = None) -> list[Tool]:
    """The default vision tools over ``perception`` (default: ``WorldModels``, the world-trained models).

    The tools are declared once in ``vidagent.tools.default_tools``; the backend decides only what they
    perceive. Heavy weights load lazily, on the first call that needs them.
    """
    from vidagent.tools.default_tools import DefaultTools  # noqa: PLC0415
    from vidagent.tools.world_models import WorldModels  # noqa: PLC0415

    return DefaultTools(perception if perception is not None else WorldModels()).tools()


def require_weights(path: Path, what: str, rebuild: str) -> Path:
    """Return ``path`` if it is a non-empty file; else a ``ToolError`` naming it and the fix."""
    if not path.exists():
        raise ToolError(f"{what} weights not found: {path}",
                        f"rebuild them with `{rebuild}` or pass the path of your own weights")
    if path.is_file() and path.stat().st_size == 0:
        raise ToolError(f"{what} weights file is empty: {path}", f"rebuild it with `{rebuild}`")
    return path


def corrupt_weights(path: Path, what: str, rebuild: str, error: BaseException) -> ToolError:
    """The error for a weights file that exists but cannot be loaded."""
    return ToolError(f"{what} weights in {path} cannot be loaded ({type(error).__name__}: {str(error)[:200]})",
                     f"rebuild them with `{rebuild}`, or pass a valid file")


def weights_fingerprint(path: Path) -> str:
    """name:size:mtime of a weights file or directory (its files), so new weights never hit old results."""
    if not path.exists():
        return f"{path.name}:missing"
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stats = [p.stat() for p in files]
    return f"{path.name}:{sum(s.st_size for s in stats)}:{max((s.st_mtime_ns for s in stats), default=0)}"
