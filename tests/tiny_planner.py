"""Helpers for the training tests: a tiny Llama built from a config with the SmolLM2 tokenizer, and a
tiny world. Nothing is downloaded; the tokenizer comes from the offline SmolLM2 copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def smollm2_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from vidagent.agent.planner_loading import convert_default_gguf, converted_dir

    target = converted_dir()
    if not (target / "model.safetensors").is_file():
        convert_default_gguf(target)
    return AutoTokenizer.from_pretrained(str(target))


def tiny_llama(tokenizer: Any, seed: int = 0) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def tiny_world(root: Path, videos: int = 3, seed: int = 11) -> Path:
    from vidagent.tasks.world.config import WorldConfig
    from vidagent.tasks.world.generate import generate_world

    config = WorldConfig(min_duration_s=6.0, max_duration_s=8.0, questions_per_video=8)
    generate_world(root, videos, seed, config, workers=1, progress=False)
    return root


def some_split(world_root: Path) -> str:
    """A split of the tiny world that has videos (splits are a hash of the video seed)."""
    import json

    manifest = json.loads((world_root / "world.json").read_text())
    return next(name for name in ("train", "val", "test") if manifest["splits"].get(name))
