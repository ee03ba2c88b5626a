"""Planner specs: local model directory, LoRA adapter directory, replay file, provider strings, hub ids
offline, and (slow) the default SmolLM2 converted from its GGUF."""

from __future__ import annotations

import json

import pytest
import torch
from vidagent.agent.chat_models.local import LocalChatModel
from vidagent.agent.chat_models.scripted import ScriptedChatModel
from vidagent.agent.planner_loading import load_planner
from vidagent.errors import ConfigError


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from vidagent.agent.planner_loading import converted_dir, default_gguf_path

    if (converted_dir() / "tokenizer.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(str(converted_dir()))
    else:
        gguf = default_gguf_path()
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    path = tmp_path_factory.mktemp("tiny_planner")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_local_directory(tiny_dir):
    chat = load_planner(str(tiny_dir), max_new_tokens=4)
    assert isinstance(chat, LocalChatModel) and chat.max_new_tokens == 4 and chat.model_name == tiny_dir.name


def test_lora_adapter_directory(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path / "cache"))
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_dir))
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_dir)
    assert (adapter / "adapter_model.safetensors").is_file()
    chat = load_planner(str(adapter))
    plain = load_planner(str(tiny_dir))
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        assert not torch.allclose(chat.model(ids).logits, plain.model(ids).logits)  # the adapter is applied
    assert chat.model_name == f"{tiny_dir.name}+adapter"
    (merged,) = (tmp_path / "cache" / "planners" / "merged").iterdir()  # merged once, then reused
    again = load_planner(str(adapter))
    with torch.no_grad():
        assert torch.allclose(chat.model(ids).logits, again.model(ids).logits)
    assert [p.name for p in (tmp_path / "cache" / "planners" / "merged").iterdir()] == [merged.name]


def test_replay_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"program": [{"name": "a", "arguments": {"x": 1}}], "answer": "3"}))
    model = load_planner(f"replay:{path}")
    assert isinstance(model, ScriptedChatModel) and len(model.replies) == 2


def test_errors_say_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="pip install langchain-openai"):
        load_planner("openai:gpt-4o-mini")
    with pytest.raises(ConfigError, match="allow-download"):
        load_planner("someone/some-model")
    with pytest.raises(ConfigError, match="neither a model directory"):
        load_planner(str(tmp_path))
    with pytest.raises(ConfigError, match="local planners only"):
        load_planner("ollama:qwen2.5", do_sample=True)


@pytest.mark.slow
def test_default_planner_converts_the_gguf_once(tmp_path, monkeypatch):
    from vidagent.agent import planner_loading

    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path))
    chat = load_planner(None, max_new_tokens=2)
    assert (tmp_path / "planners" / "smollm2-135m-instruct" / "model.safetensors").is_file()
    assert "quantization_config" not in json.loads(
        (tmp_path / "planners" / "smollm2-135m-instruct" / "config.json").read_text())
    def no_second_conversion(target):
        raise AssertionError("the cached copy should have been used")

    monkeypatch.setattr(planner_loading, "convert_default_gguf", no_second_conversion)
    again = load_planner(None, max_new_tokens=2)
    assert again.guide_format == (planner_loading.default_adapter_dir() is None)  # guided only when un-tuned
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        assert torch.allclose(chat.model(ids).logits, again.model(ids).logits)
