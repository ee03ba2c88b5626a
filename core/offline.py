"""Offline, telemetry-free defaults, applied before any heavy import.

vidagent never downloads at run time: models load from local paths only. The environment variables
below are set with ``setdefault`` so a user who *wants* the hub can still opt in explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DISABLE_TELEMETRY": "1",
    "YOLO_OFFLINE": "true",
    "YOLO_VERBOSE": "false",
    "WANDB_MODE": "disabled",
    "WANDB_DISABLED": "true",
    "TRL_EXPERIMENTAL_SILENCE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
}


def apply_offline_defaults() -> None:
    """Set the environment so that no library reaches the network. Idempotent and cheap."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    # ultralytics keeps its settings and downloaded fonts here; pin it inside the user's cache so we can
    # pre-place the font and switch off sync before ultralytics is ever imported.
    os.environ.setdefault("YOLO_CONFIG_DIR", str(cache_root() / "ultralytics"))


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
    config_dir = Path(os.environ["YOLO_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    font = config_dir / "Arial.ttf"
    if not font.exists():
        source = _find_local_font()
        if source is not None:
            font.write_bytes(source.read_bytes())
    from ultralytics import settings  # noqa: PLC0415  (import only after the environment is set)

    if settings.get("sync", True):
        settings.update({"sync": False})


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
