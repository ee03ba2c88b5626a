"""The Python API with other planners: native tool calling, prompted chat models, concurrent questions
batched on one local model, threads, and the ``langgraph dev`` entry point."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field
from vidagent.agent import Agent, ScriptedChatModel, sqlite_checkpointer
from vidagent.agent.chat_models.langchain_api import PromptedChatModel
from vidagent.agent.parsing import format_answer, format_tool_call
from vidagent.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


class NativeToolModel(BaseChatModel):
    """A stand-in for an API model: native tool calls, ``bind_tools`` records the schemas."""

    replies: list[AIMessage]
    bound: list[Any] = Field(default_factory=list)
    seen: list[list[Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "native-fake"

    def bind_tools(self, tools, **kwargs):
        self.bound.extend(tools)
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=self.replies[len(self.seen) - 1])])


class PlainModel(BaseChatModel):
    """A chat model without tool calling that writes whatever it is told to."""

    replies: list[str]
    seen: list[list[Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "plain-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.replies[len(self.seen) - 1]))])


def tools():
    from test_agent_graph import TOOLS

    return TOOLS


def test_native_tool_calling_model(tiny_video):
    call = {"name": "count_objects", "args": {"start_s": 0, "end_s": 4}, "id": "call_abc"}
    model = NativeToolModel(replies=[AIMessage("Let me count.", tool_calls=[call]), AIMessage("<answer>2</answer>")],
                            bound=[], seen=[])
    result = Agent(planner=model, tools=tools()).ask(tiny_video, "How many dogs?")
    assert [t["name"] for t in model.bound] == ["count_objects", "broken_tool", "greedy_tool"]
    assert result.answered and result.answer.value == 2 and result.answer.sources == ["call_abc"]
    system = model.seen[0][0].content
    assert "<answer>" in system and "count_objects(" not in system  # tools travel natively, not as cards
    assert model.seen[1][-1].tool_call_id == "call_abc"


def test_a_model_without_tool_calling_needs_wrapping(tiny_video):
    model = PlainModel(replies=[], seen=[])
    with pytest.raises(ConfigError, match="PromptedChatModel"):
        Agent(planner=model, tools=tools())


def test_prompted_chat_model_plans_in_text(tiny_video):
    inner = PlainModel(replies=[format_tool_call("count_objects", {"start_s": 0, "end_s": 4}),
                                format_answer("2")], seen=[])
    result = Agent(planner=PromptedChatModel(inner=inner), tools=tools()).ask(tiny_video, "How many dogs?")
    assert result.answered and result.answer.value == 2
    second = inner.seen[1]
    assert "count_objects(start_s: float" in second[0].content  # cards in the system prompt
    assert second[-1].content == "<tool_response>2 dog in 0.0-4.0s.</tool_response>"
    assert all(type(m).__name__ in {"SystemMessage", "HumanMessage", "AIMessage"} for m in second)


def tiny_local_chat(**options):
    """A ``LocalChatModel`` over a random 2-layer Llama with SmolLM2's tokenizer: real batched decoding, fast."""
    from test_local_chat_model import make_model
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from vidagent.agent.planner_loading import converted_dir, default_gguf_path

    if (converted_dir() / "tokenizer.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(str(converted_dir()))
    else:
        gguf = default_gguf_path()
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, eos_token_id=tokenizer.eos_token_id)
    return make_model(LlamaForCausalLM(config).eval(), tokenizer, **options)


def test_concurrent_questions_share_batched_generate_calls(tiny_video):
    chat = tiny_local_chat(batch_wait_s=0.3, max_new_tokens=4)
    agent = Agent(planner=chat, tools=tools(), max_tool_calls=0, max_llm_calls=1)
    results = {}

    def ask(k):
        results[k] = agent.ask(tiny_video, f"Question {k}?")

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r.stats.llm_calls == 1 for r in results.values())
    assert max(chat.batcher.batch_sizes) > 1


def test_thread_keeps_the_conversation(tiny_video, tmp_path):
    saver = sqlite_checkpointer(tmp_path / "threads.sqlite")
    questions_seen = []

    def follow_up(messages):
        questions_seen.extend(m.content for m in messages if isinstance(m, HumanMessage))
        return format_answer("white")

    model = ScriptedChatModel(replies=[format_tool_call("count_objects", {"start_s": 0, "end_s": 4}),
                                       format_answer("2"), follow_up])
    agent = Agent(planner=model, tools=tools(), checkpointer=saver)
    first = agent.ask(tiny_video, "How many dogs?", thread_id="t")
    second = agent.ask(tiny_video, "What color are they?", thread_id="t")
    assert first.answer.value == 2 and second.answer.value == "white"
    (call,) = [s for s in first.trace if s.kind == "tool"]
    tool_message = next(m for m in first.messages if isinstance(m, ToolMessage))
    assert call.result is not None and tool_message.artifact.result is call.result  # typed, via the artifact
    # a text-format planner gets each question on its own, a reference resolved ("they" -> "the dogs")
    assert not any("How many dogs?" in q for q in questions_seen)
    assert any("What color are the dogs?" in q for q in questions_seen)
    assert [s.turn for s in second.trace] == [2, 2, 2]  # only the new question's steps
    assert [s.kind for s in second.trace] == ["notice", "plan", "final"]  # "they" resolved to "the dogs"
    assert second.stats.tool_calls == 0 and second.answer.sources == []
    with pytest.raises(ConfigError, match="checkpointer"):
        Agent(planner=model, tools=tools()).ask(tiny_video, "?", thread_id="t")


def test_langgraph_json_entry_point_serves_the_graph(tiny_video, tmp_path, monkeypatch):
    config = json.loads((ROOT / "langgraph.json").read_text())
    path, _, attr = config["graphs"]["vidagent"].partition(":")
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"replies": [format_tool_call("count_objects", {"start_s": 0, "end_s": 4}),
                                              format_answer("2")]}))
    monkeypatch.setenv("VIDAGENT_PLANNER", f"replay:{replay}")
    monkeypatch.setenv("VIDAGENT_TOOLS", "test_agent_graph:count_objects")
    spec = importlib.util.spec_from_file_location("vidagent_serve", ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph = getattr(module, attr)()
    # no VideoSession in the config: the server only passes the input
    state = graph.invoke({"video": str(tiny_video), "question": "How many dogs?",
                          "budget": {"max_tool_calls": 2, "frame_budget": 10}}, {"recursion_limit": 20})
    assert state["final"]["answered"] and state["final"]["answer"]["value"] == 2
    assert [s["frames_seen"] for s in state["steps"] if s["kind"] == "tool"] == [4]


def test_a_native_model_writing_calls_as_text_is_understood(tiny_video):
    model = NativeToolModel(replies=[AIMessage(format_tool_call("count_objects", {"start_s": 0, "end_s": 4})),
                                     AIMessage(format_answer("2"))], bound=[], seen=[])
    result = Agent(planner=model, tools=tools()).ask(tiny_video, "How many dogs?")
    assert result.answered and result.stats.tool_calls == 1 and result.answer.value == 2
