"""Trainable planners: load a starting point, wrap it in LoRA (or not), save a loadable planner directory.

A saved planner is what ``--planner DIR`` loads (``vidagent.agent.planner_loading``):

- LoRA: ``adapter_config.json`` + ``adapter_model.safetensors`` (peft), with ``base_model_name_or_path``
  ``"default"`` when the base is SmolLM2-135M-Instruct (resolved to the offline copy, whatever the machine);
- full fine-tuning: ``config.json`` + ``model.safetensors`` + tokenizer (``save_pretrained``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError

BASE_SPEC = "base"  # the raw default base model (no adapter)


def load_base(spec: str) -> tuple[Any, Any, str]:
    """(model, tokenizer, base name for adapter configs) of a starting point without LoRA applied.

    ``spec``: ``base`` (SmolLM2-135M-Instruct), a model directory, or a LoRA adapter directory (returned as a
    trainable ``PeftModel``: training continues that adapter, so its output stays one base-relative adapter).
    """
    from vidagent.agent.planner_loading import (  # noqa: PLC0415
        _auto_model,
        _auto_tokenizer,
        load_default_base,
        peft_quietly,
    )

    if spec in (BASE_SPEC, "default"):
        model, tokenizer = load_default_base()
        return model, tokenizer, "default"
    path = Path(spec).expanduser()
    if (path / "adapter_config.json").is_file():
        from peft import PeftModel  # noqa: PLC0415

        base = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"]
        model, tokenizer, base_name = load_base(BASE_SPEC if base in ("default", None) else base)
        with peft_quietly():
            return (PeftModel.from_pretrained(model, str(path), is_trainable=True, local_files_only=True), tokenizer,
                    base_name)
    if (path / "config.json").is_file():
        return _auto_model(str(path)), _auto_tokenizer(str(path)), str(path.resolve())
    raise ConfigError(f"cannot start training from {spec!r}",
                      "pass --planner base, a model directory (config.json) or an adapter directory")


def with_lora(model: Any, r: int, alpha: int, dropout: float) -> Any:
    """Wrap ``model`` in a fresh LoRA adapter on every linear layer (r=0: train all weights as they are).
    A model that already is a ``PeftModel`` keeps its adapter."""
    from peft import LoraConfig, PeftModel, get_peft_model  # noqa: PLC0415
    from vidagent.agent.planner_loading import peft_quietly  # noqa: PLC0415

    if isinstance(model, PeftModel) or r == 0:
        return model
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear",
                        task_type="CAUSAL_LM")
    with peft_quietly():
        return get_peft_model(model, config)


def trainable_model(spec: str, r: int, alpha: int, dropout: float) -> tuple[Any, Any, str]:
    model, tokenizer, base_name = load_base(spec)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return with_lora(model, r, alpha, dropout), tokenizer, base_name


def planner_to_train(config: Any, model: Any, tokenizer: Any, base_name: str, *, log: Any,
                     stage: str) -> tuple[Any, Any, str]:
    """(model, tokenizer, base name) a ``train sft|grpo`` run trains: ``config.planner`` loaded with a fresh
    LoRA adapter (saying so on ``log``), or a given ``model`` wrapped in one (tests, notebooks)."""
    if model is None:
        log(f"{stage}: loading the planner {config.planner!r} ...")
        return trainable_model(config.planner, config.lora_r, config.lora_alpha, config.lora_dropout)
    return with_lora(model, config.lora_r, config.lora_alpha, config.lora_dropout), tokenizer, base_name


def save_planner(model: Any, tokenizer: Any, out: str | Path, base_name: str = "default") -> Path:
    """Write a planner directory that ``--planner OUT`` loads (see the module docstring)."""
    from peft import PeftModel  # noqa: PLC0415

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(model, PeftModel):
        model.save_pretrained(str(out))
        config_path = out / "adapter_config.json"
        config = json.loads(config_path.read_text())
        config["base_model_name_or_path"] = base_name  # not this machine's cache path
        config_path.write_text(json.dumps(config, indent=2))
    else:
        model.save_pretrained(str(out))
        tokenizer.save_pretrained(str(out))
    return out


def trainable_parameters(model: Any) -> dict[str, Any]:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def ship_adapter(source: str | Path, target: str | Path, *, half: bool = True) -> Path:
    """Copy a LoRA planner directory's adapter (config + weights, fp16 when ``half``: a few MB) to ``target``,
    e.g. ``policies/adapters/default`` (the adapter ``vidagent ask`` applies by default)."""
    import torch  # noqa: PLC0415
    from safetensors.torch import load_file, save_file  # noqa: PLC0415

    source, target = Path(source), Path(target)
    if not (source / "adapter_config.json").is_file():
        raise ConfigError(f"{source} is not a LoRA planner directory", "pass the OUT of `vidagent train sft|grpo`")
    target.mkdir(parents=True, exist_ok=True)
    weights = load_file(str(source / "adapter_model.safetensors"))
    if half:
        weights = {k: v.to(torch.float16) for k, v in weights.items()}
    save_file(weights, str(target / "adapter_model.safetensors"))
    (target / "adapter_config.json").write_text((source / "adapter_config.json").read_text())
    return target
