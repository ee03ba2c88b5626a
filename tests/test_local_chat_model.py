"""The local transformers adapter, with a tiny Llama (hidden 32, 2 layers) and the SmolLM2 tokenizer:
rendering, recorded ids and masks, log-probabilities, batching, and a full graph run."""

from __future__ import annotations

import threading

import pytest
import torch
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from vidagent.agent import Agent
from vidagent.agent.chat_models.local import Generation, LocalChatModel
from vidagent.agent.parsing import format_answer, format_tool_call
from vidagent.agent.prompts import LAST_TURN_MESSAGE


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer
    from vidagent.agent.planner_loading import converted_dir, default_gguf_path

    if (converted_dir() / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(str(converted_dir()))
    gguf = default_gguf_path()
    return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


@pytest.fixture(scope="module")
def tiny_lm(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id, tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


def make_model(tiny_lm, tokenizer, **options):
    options.setdefault("max_new_tokens", 8)
    return LocalChatModel(model=tiny_lm, tokenizer=tokenizer, model_name="tiny", **options)


CONVERSATION = [SystemMessage("You call tools."), HumanMessage("How many dogs?")]


def test_generation_records_ids_logprobs_and_usage(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer)
    reply = chat.invoke(CONVERSATION)
    ids = reply.response_metadata["completion_ids"]
    lps = reply.response_metadata["completion_logprobs"]
    assert 0 < len(ids) <= 8 and len(lps) == len(ids) and all(lp <= 0 for lp in lps)
    assert reply.usage_metadata["output_tokens"] == len(ids)
    assert reply.content == tokenizer.decode(ids, skip_special_tokens=True)
    assert chat.invoke(CONVERSATION).response_metadata["completion_ids"] == ids  # greedy is deterministic


@pytest.mark.parametrize("options", [{}, {"do_sample": True, "temperature": 1.5, "seed": 1}])
def test_recorded_logprobs_match_a_forward_pass(tiny_lm, tokenizer, options):
    chat = make_model(tiny_lm, tokenizer, **options)
    prompt = chat.render(CONVERSATION, add_generation_prompt=True).ids
    reply = chat.invoke(CONVERSATION)
    ids = reply.response_metadata["completion_ids"]
    with torch.no_grad():
        logits = tiny_lm(torch.tensor([prompt + ids])).logits[0]  # [T, V]
    temperature = options.get("temperature", 1.0)
    expected = torch.log_softmax(logits[len(prompt) - 1: -1] / temperature, -1).gather(-1, torch.tensor(ids)[:, None])[:, 0]
    assert torch.allclose(expected, torch.tensor(reply.response_metadata["completion_logprobs"]), atol=1e-4)


def test_sampling_is_reproducible_with_a_seed(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer, do_sample=True, temperature=1.5, seed=3)
    first = chat.invoke(CONVERSATION).response_metadata["completion_ids"]
    assert chat.invoke(CONVERSATION).response_metadata["completion_ids"] == first


def test_the_next_prompt_extends_the_previous_one_token_for_token(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer)
    prompt1 = chat.render(CONVERSATION, add_generation_prompt=True).ids
    reply = chat.invoke(CONVERSATION)
    completion = reply.response_metadata["completion_ids"]
    rest = [reply, ToolMessage("2 dog in 0.0-4.0s.", tool_call_id="c1", name="count")]
    rendered = chat.render(CONVERSATION + rest, add_generation_prompt=True)
    assert rendered.ids[: len(prompt1) + len(completion)] == prompt1 + completion
    assert sum(rendered.generated_mask) == len(completion)
    start = len(prompt1)
    assert rendered.generated_mask[start: start + len(completion)] == [1] * len(completion)
    assert rendered.prompt_length == len(prompt1)
    text = tokenizer.decode(rendered.ids[start + len(completion):])
    assert "<tool_response>2 dog in 0.0-4.0s.</tool_response>" in text and text.endswith("assistant\n")


def test_messages_from_other_sources_render_their_calls_and_get_an_sft_mask(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer)
    call = {"name": "count", "args": {"start_s": 0}, "id": "c1"}
    messages = CONVERSATION + [AIMessage("", tool_calls=[call]), ToolMessage("2 dogs", tool_call_id="c1"),
                               AIMessage(format_answer("2"))]
    rendered = chat.render(messages)
    assert sum(rendered.generated_mask) == 0
    taught = tokenizer.decode([t for t, m in zip(rendered.ids, rendered.assistant_mask, strict=True) if m])
    assert taught == format_tool_call("count", {"start_s": 0}) + "<|im_end|>" + format_answer("2") + "<|im_end|>"


def test_batching_concurrent_calls_gives_the_same_greedy_output(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer, batch_wait_s=0.3)
    questions = [[SystemMessage("You call tools."), HumanMessage(q)]
                 for q in ["How many dogs?", "When does the red car stop near the tree?", "Who jumps?"]]
    alone = [chat.generate_batch([chat.render(q, add_generation_prompt=True).ids])[0].completion_ids
             for q in questions]
    outputs: dict[int, list[int]] = {}

    def run(k):
        outputs[k] = chat.invoke(questions[k]).response_metadata["completion_ids"]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(chat.batcher.batch_sizes) > 1
    assert [outputs[k] for k in range(3)] == alone


def test_a_generation_error_reaches_the_caller(tiny_lm, tokenizer, monkeypatch):
    chat = make_model(tiny_lm, tokenizer)

    def boom(prompts):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(chat.batcher, "_run", boom)
    with pytest.raises(RuntimeError, match="out of memory"):
        chat.invoke(CONVERSATION)


@pytest.fixture()
def scripted_local(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer)
    replies = iter([format_tool_call("count_objects", {"start_s": 0, "end_s": 4}), format_answer("2")])

    def fake(prompts):
        out = []
        for _ in prompts:
            ids = tokenizer(next(replies), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            out.append(Generation(ids, [-0.5] * len(ids), True, 0.0))
        return out

    chat.batcher._run = fake
    return chat


def test_full_graph_run_records_a_training_trajectory(scripted_local, tokenizer, tiny_video):
    """The generator's output is faked (a random model writes no tool calls); everything else is real:
    parsing, the loop, observations, and a trajectory whose model tokens are exactly the generated ones."""
    from test_agent_graph import TOOLS

    result = Agent(planner=scripted_local, tools=TOOLS).ask(tiny_video, "How many dogs?")
    assert result.answered and result.answer.value == 2 and result.stats.tool_calls == 1
    trajectory = scripted_local.trajectory(result.conversation())
    generated = [t for t, m in zip(trajectory["completion_ids"], trajectory["env_mask"], strict=True) if m]
    replies = [m.response_metadata["completion_ids"] for m in result.messages if isinstance(m, AIMessage)]
    assert generated == replies[0] + replies[1]
    assert trajectory["completion_ids"][-1] == tokenizer.eos_token_id  # ends with the model's last token
    observation = tokenizer.decode([t for t, m in zip(trajectory["completion_ids"], trajectory["env_mask"],
                                                      strict=True) if not m])
    assert "<tool_response>2 dog in 0.0-4.0s.</tool_response>" in observation
    assert len(trajectory["logprobs"]) == len(trajectory["completion_ids"])
    prompt = tokenizer.decode(trajectory["prompt_ids"])
    assert "count_objects(start_s: float" in prompt and prompt.endswith("<|im_start|>assistant\n")


def test_a_reply_ends_right_after_a_closing_tag(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer)
    call = format_tool_call("count", {"start_s": 0})
    row = tokenizer(call + " and then more text", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] * 3
    end = chat._reply_end(row)
    assert tokenizer.decode(row[:end]) == call
    plain = tokenizer("no tags here", add_special_tokens=False)["input_ids"]
    assert chat._reply_end(plain + [tokenizer.eos_token_id, tokenizer.eos_token_id]) == len(plain) + 1
    assert chat._reply_end(plain) is None  # hit max_new_tokens
    assert make_model(tiny_lm, tokenizer, stop_at_closing_tag=False)._reply_end(row) == row.index(tokenizer.eos_token_id) + 1


def test_guided_replies_start_with_a_call_that_is_prompt_not_completion(tiny_lm, tokenizer):
    from vidagent.agent.chat_models.local import GUIDE_PREFIX

    chat = make_model(tiny_lm, tokenizer, guide_format=True)
    prompt = chat.render(CONVERSATION, add_generation_prompt=True).ids
    reply = chat.invoke(CONVERSATION)
    assert reply.content.startswith(GUIDE_PREFIX) and reply.response_metadata["reply_prefix"] == GUIDE_PREFIX
    completion = reply.response_metadata["completion_ids"]
    assert reply.usage_metadata["input_tokens"] == len(prompt) + len(tokenizer(GUIDE_PREFIX, add_special_tokens=False)["input_ids"])
    observation = ToolMessage("2 dogs", tool_call_id="c", name="count")
    rendered = chat.render([*CONVERSATION, reply, observation], add_generation_prompt=True)
    guided = prompt + tokenizer(GUIDE_PREFIX, add_special_tokens=False)["input_ids"]
    assert rendered.ids[: len(guided) + len(completion)] == guided + completion  # what the model saw
    assert sum(rendered.generated_mask) == len(completion)
    # after an observation the model is free to answer: no prefix
    follow = chat.invoke([*CONVERSATION, reply, observation])
    assert follow.response_metadata["reply_prefix"] == ""
    last = chat.invoke([*CONVERSATION, reply, observation, HumanMessage(LAST_TURN_MESSAGE)])
    assert last.content.startswith("<answer>")


def test_a_fixed_reply_prefix_starts_every_reply_and_stays_prompt(tiny_lm, tokenizer):
    chat = make_model(tiny_lm, tokenizer, reply_prefix="<answer>", guide_format=True)
    reply = chat.invoke(CONVERSATION)  # guide_format alone would start a tool call here
    assert reply.content.startswith("<answer>") and reply.response_metadata["reply_prefix"] == "<answer>"
    completion = reply.response_metadata["completion_ids"]
    assert reply.content == "<answer>" + tokenizer.decode(completion, skip_special_tokens=True)
    rendered = chat.render([*CONVERSATION, reply])
    assert sum(rendered.generated_mask) == len(completion)


def test_the_reference_decoder_gives_the_default_decoders_replies(tiny_lm, tokenizer):
    """``decoder="generate"`` (or ``reuse_prefix=False``) decodes with plain ``model.generate``; greedy, it
    writes the same reply as the default prefix-reusing decoder, and clearing the prefix cache works for
    either."""
    from vidagent.agent.chat_models.decoding import GenerateDecoder, PrefixReuseDecoder

    default = make_model(tiny_lm, tokenizer)
    assert isinstance(default.active_decoder, PrefixReuseDecoder)
    expected = default.invoke(CONVERSATION).response_metadata
    assert len(default.active_decoder.prefix_cache) == 1
    default.clear_prefix_cache()
    assert len(default.active_decoder.prefix_cache) == 0
    for chat in (make_model(tiny_lm, tokenizer, decoder="generate"), make_model(tiny_lm, tokenizer, reuse_prefix=False)):
        assert isinstance(chat.active_decoder, GenerateDecoder)
        reply = chat.invoke(CONVERSATION).response_metadata
        assert reply["completion_ids"] == expected["completion_ids"]
        assert torch.allclose(torch.tensor(reply["completion_logprobs"]), torch.tensor(expected["completion_logprobs"]),
                              atol=1e-4)
        chat.clear_prefix_cache()
    with pytest.raises(ValueError, match="unknown decoder"):
        make_model(tiny_lm, tokenizer, decoder="beam")


def test_a_model_copy_decodes_with_its_own_settings(tiny_lm, tokenizer):
    """``model_copy(update=...)`` copies private attributes; the copy must not feed the original's batcher."""
    chat = make_model(tiny_lm, tokenizer)
    chat.invoke(CONVERSATION)  # the original's batcher and decoder now exist
    sampled = chat.model_copy(update={"do_sample": True, "temperature": 5.0, "seed": 3, "max_new_tokens": 6})
    assert sampled.batcher is not chat.batcher and sampled.batcher.owner is sampled
    other = chat.model_copy(update={"decoder": "generate"})
    assert type(other.active_decoder).__name__ == "GenerateDecoder"
    assert type(chat.active_decoder).__name__ == "PrefixReuseDecoder"
