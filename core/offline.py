"""Offline, telemetry-free defaults: vidagent never downloads at run time, models load from local paths.

Nothing here runs on ``import vidagent``. The CLI and the served graph call ``apply_offline_defaults``;
the detector calls ``prepare_ultralytics`` before it imports ultralytics; training runs call
``prepare_training_env``.
"""

from __future__ import annotations

import os
from pathlib import Path

# Importing vidagent changes nothing in the process: a library must not rewrite its host's environment.
# Model loaders pass ``local_files_only=True`` themselves; the groups below are set (``setdefault``, so a
# user who wants the hub can still opt in) only where they are needed.
HUB_ENV = {  # programs: the vidagent CLI and the served graph
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "RAY_USAGE_STATS_ENABLED": "0",  # `vidagent index --engine ray`
}
YOLO_ENV = {  # right before ultralytics is imported: it reads these at import time
    "YOLO_OFFLINE": "true",
    "YOLO_AUTOINSTALL": "false",
    "YOLO_VERBOSE": "false",
}
TRAINING_ENV = {  # training runs (TRL reports to W&B when it is installed and not told otherwise)
    "WANDB_MODE": "disabled",
    "WANDB_DISABLED": "true",
    "TRL_EXPERIMENTAL_SILENCE": "1",
    "TOKENIZERS_PARALLELISM": "false",  # rollout threads would otherwise print a fork warning
}


def _set_defaults(env: dict[str, str]) -> None:
    for key, value in env.items():
        os.environ.setdefault(key, value)


def apply_offline_defaults() -> None:
    """For programs (the CLI, the served graph): every group, so no library reaches the network."""
    for env in (HUB_ENV, YOLO_ENV, TRAINING_ENV):
        _set_defaults(env)


def prepare_training_env() -> None:
    """Before a training run: no experiment trackers, no tokenizer fork warnings."""
    _set_defaults(TRAINING_ENV)


def cache_root() -> Path:
    """Root of vidagent's on-disk caches (``VIDAGENT_CACHE_DIR`` overrides the user cache dir)."""
    override = os.environ.get("VIDAGENT_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("vidagent"))


def prepare_ultralytics() -> None:
    """Make ultralytics safe offline: sync off, a local font in place (else it downloads Arial.ttf).

    Call this right before importing ultralytics; it only touches files under the config dir.
    """
    _set_defaults(YOLO_ENV)
    # ultralytics keeps its settings and downloaded fonts here; pin it inside vidagent's cache so the font
    # is pre-placed and sync is off before ultralytics is ever imported.
    os.environ.setdefault("YOLO_CONFIG_DIR", str(cache_root() / "ultralytics"))
    config_dir = Path(os.environ["YOLO_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    font = config_dir / "Arial.ttf"
    if not font.exists():
        source = _find_local_font()
        if source is not None:
            font.write_bytes(source.read_bytes())
    from ultralytics import settings  # noqa: PLC0415  (import only after the environment is set)

    if settings.get("sync", True) or settings.get("raytune", True):
        # raytune: with Ray installed (`vidagent index --engine ray`) ultralytics' trainer would import it and
        # report to a Ray Tune session that does not exist
        settings.update({"sync": False, "raytune": False})


def _find_local_font() -> Path | None:
    """A TrueType font shipped by an installed package (matplotlib ships DejaVuSans)."""
    try:
        import matplotlib  # noqa: PLC0415
    except ImportError:
        return None
    candidate = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return candidate if candidate.exists() else None


if __name__ == "__main__":  # `python -m vidagent.offline --prepare`, run by `make setup`
    apply_offline_defaults()
    prepare_ultralytics()
    print(f"offline defaults ready; caches under {cache_root()}")
