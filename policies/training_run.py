"""What ``train sft`` and ``train grpo`` share around TRL's trainers: the output directory of a run (removed
again when the run fails before its first checkpoint), TRL checkpoints, the base model named in TRL's
model card, and the peak memory a progress line reports."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_BASE = "default"  # save_planner's name for SmolLM2-135M-Instruct (vidagent.policies.models)


def latest_trl_checkpoint(out: str | Path) -> str | None:
    """The newest complete ``OUT/checkpoint-N`` (one with its ``trainer_state.json``), or None."""
    found = [p for p in Path(out).glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    best = max(found, key=lambda p: int(p.name.split("-")[1]), default=None)
    return str(best) if best is not None else None


@contextmanager
def run_directory(out: str | Path, command: str, *, note: Callable[[str], Any] | None = None) -> Iterator[Path]:
    """Create ``out`` for one training run. If the run fails or is interrupted (Ctrl-C) before TRL wrote a
    checkpoint, what this run put there goes again: the directory if it made it (or found it empty), so a
    failed run leaves no folder holding only its config. A directory that already held something (a run to
    ``--resume``) is never touched. With checkpoints, everything stays and ``note`` says how to continue.
    The exception is re-raised either way (the CLI turns Ctrl-C into exit status 130)."""
    note = note or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    existed = out.exists()
    was_empty = not existed or (out.is_dir() and not any(out.iterdir()))
    out.mkdir(parents=True, exist_ok=True)
    try:
        yield out
    except BaseException as error:
        stopped = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        checkpoint = latest_trl_checkpoint(out)
        if checkpoint is not None:
            note(f"{command} {stopped}; kept {out} with its latest checkpoint {Path(checkpoint).name}: continue "
                 f"with the same command and --resume (--out {out})")
        elif was_empty:
            _empty(out, remove=not existed)
            note(f"{command} {stopped} before its first checkpoint; removed {out}")
        raise


def _empty(out: Path, *, remove: bool) -> None:
    if remove:
        shutil.rmtree(out, ignore_errors=True)
        return
    for path in out.iterdir():
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def card_base_model(base_name: str) -> str:
    """The base model TRL's model card names: the Hub id for the default base (its offline copy is a local
    directory, which TRL leaves out as "[None]"), else the model directory's name."""
    if base_name in (DEFAULT_BASE, "base"):
        from vidagent.agent.planner_loading import DEFAULT_HF_ID  # noqa: PLC0415

        return DEFAULT_HF_ID
    return Path(base_name).name


@contextmanager
def card_names_base(model: Any, base_model: str | None) -> Iterator[None]:
    """TRL's ``create_model_card`` reads the base model from ``model.config._name_or_path``: a local path
    there (the offline SmolLM2 copy) becomes "fine-tuned version of [None]". Name ``base_model`` while the
    card is written; the config is restored after."""
    config = getattr(model, "config", None)
    if base_model is None or config is None:
        yield
        return
    saved = getattr(config, "_name_or_path", "")
    config._name_or_path = base_model
    try:
        yield
    finally:
        config._name_or_path = saved


def peak_memory() -> str:
    """``peak RSS 3.1 GB`` (this process, since it started), plus the GPU's peak allocation on CUDA."""
    import resource  # noqa: PLC0415

    import torch  # noqa: PLC0415

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    text = f"peak RSS {peak / 1e9:.1f} GB"
    if torch.cuda.is_available():
        text += f", GPU {torch.cuda.max_memory_allocated() / 1e9:.1f} GB"
    return text
