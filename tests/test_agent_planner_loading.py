"""Planner specs: local model directory, LoRA adapter directory, replay file, provider strings, hub ids
offline, and (slow) the default SmolLM2 converted from its GGUF."""

from __future__ import annotations

import json
import sys
import types

import pytest
import torch
from vidagent.agent.chat_models.langchain_api import chat_model_from_string, is_provider_spec, known_providers
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


def test_errors_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_openai", None)  # not installed (whether it is or not)
    with pytest.raises(ConfigError, match="pip install langchain-openai"):
        load_planner("openai:gpt-4o-mini")
    with pytest.raises(ConfigError, match="allow-download"):
        load_planner("someone/some-model")
    with pytest.raises(ConfigError, match="neither a model directory"):
        load_planner(str(tmp_path))
    with pytest.raises(ConfigError, match="local planners only"):
        load_planner("ollama:qwen2.5", do_sample=True)


@pytest.fixture(autouse=True)
def fresh_init_chat_model_cache():
    """init_chat_model caches each provider's class: a faked integration module must not outlive its test."""
    from langchain.chat_models import base

    clear = getattr(getattr(base, "_get_chat_model_creator", None), "cache_clear", lambda: None)
    clear()
    yield
    clear()


def test_provider_specs_go_to_init_chat_model_and_paths_do_not():
    assert is_provider_spec("openai:gpt-4o-mini") and is_provider_spec("ollama:qwen2.5:7b")
    assert is_provider_spec("foo:bar")  # provider-shaped: init_chat_model decides, with a clear error
    for spec in ("replay:r.json", "someone/some-model", "/no/such/dir", "C:\\models\\x", "default", "x:"):
        assert not is_provider_spec(spec), spec
    assert {"openai", "anthropic", "ollama"} <= set(known_providers())


def test_unknown_provider_names_the_providers_init_chat_model_knows():
    with pytest.raises(ConfigError, match="unknown planner provider 'foo'") as caught:
        load_planner("foo:bar")
    assert "init_chat_model" in caught.value.fix and "openai" in caught.value.fix and "ollama" in caught.value.fix
    with pytest.raises(ConfigError) as caught:
        load_planner("opneai:gpt-4o-mini")
    assert caught.value.fix.startswith("did you mean openai?")


def test_missing_integration_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # `import langchain_anthropic` fails
    with pytest.raises(ConfigError, match="needs the package langchain-anthropic") as caught:
        load_planner("anthropic:claude-sonnet-4-5")
    assert caught.value.fix == "pip install langchain-anthropic"
    monkeypatch.setitem(sys.modules, "langchain_google_genai", None)
    with pytest.raises(ConfigError) as caught:
        chat_model_from_string("google-genai:gemini-2.5-flash")  # init_chat_model's - to _ normalisation
    assert caught.value.fix == "pip install langchain-google-genai"


@pytest.mark.parametrize("spec", ["/no/such/dir", "./no-such-dir", "~/no/such/planner", "a/b/c", "missing.gguf"])
def test_missing_directory_is_not_a_hub_id(spec):
    with pytest.raises(ConfigError, match="no such file or directory") as caught:
        load_planner(spec)
    assert "Repo id" not in str(caught.value) and "existing model directory" in caught.value.fix


class FakeChatOpenAI:
    """Stands in for langchain_openai.ChatOpenAI: records what init_chat_model passes."""

    def __init__(self, **kwargs):
        if kwargs.get("api_key") == "refuse":
            raise ValueError("The api_key client option must be set")
        self.kwargs = kwargs


def test_known_provider_is_built_by_init_chat_model(monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_openai", types.SimpleNamespace(ChatOpenAI=FakeChatOpenAI))
    model = load_planner("openai:gpt-4o-mini")
    assert isinstance(model, FakeChatOpenAI) and model.kwargs == {"model": "gpt-4o-mini", "temperature": 0}
    model = chat_model_from_string("openai:ft:gpt-4o-mini:org::abc", temperature=0.5)  # colons in the model
    assert model.kwargs == {"model": "ft:gpt-4o-mini:org::abc", "temperature": 0.5}
    with pytest.raises(ConfigError, match="cannot build the planner openai:gpt-4o-mini: ValueError") as caught:
        chat_model_from_string("openai:gpt-4o-mini", api_key="refuse")
    assert "API key" in caught.value.fix


def test_installed_provider_builds_without_network():
    openai = pytest.importorskip("langchain_openai")
    model = chat_model_from_string("openai:gpt-4o-mini", api_key="sk-dummy")  # constructing does not connect
    assert isinstance(model, openai.ChatOpenAI) and model.model_name == "gpt-4o-mini" and model.temperature == 0


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
