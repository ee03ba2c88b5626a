"""The prefix-reusing decode loop (``agent/chat_models/decoding.py``) against transformers' own greedy
``generate``, on a tiny random Llama: same tokens, same log-probabilities, the shared prefix read once;
and the two ``Decoder``s (``PrefixReuseDecoder``, the default, and ``GenerateDecoder``, the reference)
held token-equal."""

from __future__ import annotations

import warnings

import pytest
import torch
from vidagent.agent.chat_models import decoding
from vidagent.agent.chat_models.decoding import (
    Decoder,
    GenerateDecoder,
    PrefixCache,
    PrefixReuseDecoder,
    decode_batch,
    make_decoder,
    shared_prefix_length,
)

VOCAB = 97


@pytest.fixture(scope="module")
def lm():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                         eos_token_id=1, pad_token_id=0, bos_token_id=2)
    return LlamaForCausalLM(config).eval()


def prompts_with_shared_prefix() -> list[list[int]]:
    g = torch.Generator().manual_seed(3)
    system = torch.randint(3, VOCAB, (40,), generator=g).tolist()
    return [system + torch.randint(3, VOCAB, (n,), generator=g).tolist() for n in (5, 11, 2)]


def reference(lm, prompt: list[int], n: int) -> list[int]:
    out = lm.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                      max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
    return out[0, len(prompt):].tolist()


def test_shared_prefix_length_leaves_every_prompt_a_token():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 9, 9]]) == 3
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2
    assert shared_prefix_length([[5, 6, 7]]) == 2


@pytest.mark.parametrize("with_cache", [False, True])
def test_batched_greedy_matches_generate_row_by_row(lm, with_cache):
    prompts = prompts_with_shared_prefix()
    cache = PrefixCache() if with_cache else None
    decoded = decode_batch(lm, prompts, max_new_tokens=6, stop_ids={-1}, pad_id=0, prefix_cache=cache)
    assert [d.tokens for d in decoded] == [reference(lm, p, 6) for p in prompts]
    if with_cache:  # the shared 40 tokens were read once, then each row's own; the 3 prompts replace them
        assert cache.computed == 40 + sum(len(p) - 40 for p in prompts) and len(cache) == 3


def test_logprobs_are_those_of_a_full_forward_pass(lm):
    prompt = prompts_with_shared_prefix()[1]
    torch.manual_seed(0)
    (row,) = decode_batch(lm, [prompt], max_new_tokens=5, stop_ids={-1}, pad_id=0, do_sample=True,
                          temperature=1.3, prefix_cache=PrefixCache())
    with torch.no_grad():
        logits = lm(torch.tensor([prompt + row.tokens])).logits[0, len(prompt) - 1:-1] / 1.3
    expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(row.tokens)[:, None]).squeeze(-1)
    assert torch.allclose(torch.tensor(row.logprobs), expected, atol=1e-4)


def test_a_second_batch_reuses_the_cached_prefix_and_still_matches(lm):
    prompts = prompts_with_shared_prefix()
    cache = PrefixCache()
    decode_batch(lm, prompts[:2], max_new_tokens=3, stop_ids={-1}, pad_id=0, prefix_cache=cache)
    first = cache.computed
    # a single prompt: the 40 tokens it shares with the stored ones come from the cache
    (again,) = decode_batch(lm, [prompts[2]], max_new_tokens=4, stop_ids={-1}, pad_id=0, prefix_cache=cache)
    assert cache.hits >= 40 and cache.computed - first == len(prompts[2]) - 40
    assert again.tokens == reference(lm, prompts[2], 4)


def test_a_next_turn_reads_only_its_new_tokens(lm):
    """Turn 2 of each conversation = its turn-1 prompt + the reply + an observation: each row starts from
    its own stored prompt (rows of different lengths in one batch) and still matches generate."""
    prompts = prompts_with_shared_prefix()
    cache = PrefixCache()
    first = decode_batch(lm, prompts, max_new_tokens=4, stop_ids={-1}, pad_id=0, prefix_cache=cache)
    g = torch.Generator().manual_seed(5)
    turn2 = [p + d.tokens + torch.randint(3, VOCAB, (n,), generator=g).tolist()
             for p, d, n in zip(prompts, first, (3, 9, 1), strict=True)]
    before = cache.computed
    decoded = decode_batch(lm, turn2, max_new_tokens=5, stop_ids={-1}, pad_id=0, prefix_cache=cache)
    assert cache.computed - before == sum(len(t) - len(p) for t, p in zip(turn2, prompts, strict=True))
    assert [d.tokens for d in decoded] == [reference(lm, t, 5) for t in turn2]


def test_an_entry_that_starts_a_new_one_is_replaced_by_it(lm):
    prompt = prompts_with_shared_prefix()[1]
    cache = PrefixCache()
    for n in (30, 40, len(prompt)):  # three turns of one conversation
        decode_batch(lm, [prompt[:n]], max_new_tokens=1, stop_ids={-1}, pad_id=0, prefix_cache=cache)
    assert len(cache) == 1
    decode_batch(lm, [prompt[:20] + [5, 6]], max_new_tokens=1, stop_ids={-1}, pad_id=0, prefix_cache=cache)
    assert len(cache) == 2  # a branch is kept beside the longer conversation


def test_the_cache_is_bounded_in_bytes(lm):
    prompts = prompts_with_shared_prefix()
    one = PrefixCache()
    decode_batch(lm, prompts[:1], max_new_tokens=1, stop_ids={-1}, pad_id=0, prefix_cache=one)
    size = one._bytes
    small = PrefixCache(max_bytes=int(size * 1.5))
    for p in prompts:
        decode_batch(lm, [p], max_new_tokens=1, stop_ids={-1}, pad_id=0, prefix_cache=small)
    assert len(small) == 1 and small._bytes <= size * 1.5


def test_rows_stop_at_their_own_stop_token(lm):
    prompts = prompts_with_shared_prefix()
    free = decode_batch(lm, prompts, max_new_tokens=6, stop_ids={-1}, pad_id=0)
    stop = free[0].tokens[1]  # row 0 stops after its second token
    decoded = decode_batch(lm, prompts, max_new_tokens=6, stop_ids={stop}, pad_id=0, prefix_cache=PrefixCache())
    assert decoded[0].tokens == free[0].tokens[:2]
    for row, reference_row in zip(decoded[1:], free[1:], strict=True):
        cut = reference_row.tokens.index(stop) + 1 if stop in reference_row.tokens else 6
        assert row.tokens == reference_row.tokens[:cut]


def test_stops_reply_ends_a_row_early(lm):
    prompts = prompts_with_shared_prefix()
    decoded = decode_batch(lm, prompts, max_new_tokens=6, stop_ids={-1}, pad_id=0,
                           stops_reply=lambda tokens: len(tokens) == 3)
    assert [len(d.tokens) for d in decoded] == [3, 3, 3]


def test_growing_cache_reallocating_every_step_still_matches_generate(lm, monkeypatch):
    """The pre-allocated key/value buffers: with no spare room they regrow on every token, rows leave the
    batch in between, and a cached prefix is cropped and repeated; the tokens must not change."""
    monkeypatch.setattr(decoding, "GROW_TOKENS", 1)
    prompts = prompts_with_shared_prefix()
    free = decode_batch(lm, prompts, max_new_tokens=12, stop_ids={-1}, pad_id=0)
    assert [d.tokens for d in free] == [reference(lm, p, 12) for p in prompts]
    stop = free[1].tokens[2]
    cache = PrefixCache()
    decode_batch(lm, [prompts[0][:45], prompts[0][:45] + [3]], max_new_tokens=2, stop_ids={-1}, pad_id=0,
                 prefix_cache=cache)  # stores 44/45/46-token entries; the next batch reads 40 and 45 from them
    decoded = decode_batch(lm, prompts, max_new_tokens=12, stop_ids={stop}, pad_id=0, prefix_cache=cache)
    assert cache.hits >= 40
    for row, reference_row in zip(decoded, free, strict=True):
        cut = reference_row.tokens.index(stop) + 1 if stop in reference_row.tokens else 12
        assert row.tokens == reference_row.tokens[:cut]


def test_growing_cache_keeps_what_was_written():
    kv = decoding.growing_cache()
    keys = torch.arange(2 * 1 * 5 * 3, dtype=torch.float32).reshape(2, 1, 5, 3)
    for step in range(5):  # one token at a time
        k, v = kv.update(keys[:, :, step : step + 1], -keys[:, :, step : step + 1], layer_idx=0)
    assert torch.equal(k, keys) and torch.equal(v, -keys) and kv.get_seq_length() == 5
    kv.crop(-2)
    kv.batch_select_indices(torch.tensor([1]))
    k, _ = kv.update(keys[1:, :, 4:5], -keys[1:, :, 4:5], layer_idx=0)
    assert torch.equal(k, torch.cat([keys[1:, :, :3], keys[1:, :, 4:5]], dim=2))


def test_empty_prompt_is_rejected(lm):
    with pytest.raises(ValueError, match="non-empty"):
        decode_batch(lm, [[]], max_new_tokens=2, stop_ids={1}, pad_id=0)


# -- the Decoder interface: the prefix-reusing loop against the plain-generate reference -----------------

def mixed_prompts() -> list[list[int]]:
    """The planner's shape: three prompts sharing a long system prompt, plus one that shares nothing."""
    g = torch.Generator().manual_seed(11)
    return prompts_with_shared_prefix() + [torch.randint(3, VOCAB, (23,), generator=g).tolist()]


def assert_same(decoded, expected) -> None:
    assert [d.tokens for d in decoded] == [e.tokens for e in expected]
    for d, e in zip(decoded, expected, strict=True):
        assert len(d.logprobs) == len(d.tokens)
        assert torch.allclose(torch.tensor(d.logprobs), torch.tensor(e.logprobs), atol=1e-4)


def test_decoders_implement_the_interface():
    assert isinstance(PrefixReuseDecoder(), Decoder) and isinstance(GenerateDecoder(), Decoder)
    assert isinstance(make_decoder("prefix"), PrefixReuseDecoder)
    assert isinstance(make_decoder("generate"), GenerateDecoder)
    mine = GenerateDecoder()
    assert make_decoder(mine) is mine
    with pytest.raises(ValueError, match="unknown decoder"):
        make_decoder("beam")
    with pytest.raises(TypeError):
        make_decoder(object())


@pytest.mark.parametrize("prompts", [prompts_with_shared_prefix(), mixed_prompts()], ids=["shared", "mixed"])
def test_greedy_prefix_reuse_equals_generate(lm, prompts):
    reuse = PrefixReuseDecoder()
    options = {"max_new_tokens": 8, "stop_ids": {-1}, "pad_id": 0}
    expected = GenerateDecoder()(lm, prompts, **options)
    assert [len(e.tokens) for e in expected] == [8] * len(prompts)
    assert_same(reuse(lm, prompts, **options), expected)
    # the same call again: every row now starts from its own stored prompt
    assert_same(reuse(lm, prompts, **options), expected)
    assert reuse.prefix_cache.hits > 0


def test_greedy_prefix_reuse_equals_generate_from_a_warm_cache(lm):
    """An earlier call filled the cache (two of the prompts, then a next turn of every conversation):
    rows start from cached prefixes of different lengths and still match the reference."""
    prompts = mixed_prompts()
    reuse, reference_decoder = PrefixReuseDecoder(), GenerateDecoder()
    options = {"max_new_tokens": 5, "stop_ids": {-1}, "pad_id": 0}
    reuse(lm, prompts[:2], max_new_tokens=2, stop_ids={-1}, pad_id=0)
    first = reuse(lm, prompts, **options)
    assert_same(first, reference_decoder(lm, prompts, **options))
    g = torch.Generator().manual_seed(7)
    turn2 = [p + d.tokens + torch.randint(3, VOCAB, (n,), generator=g).tolist()
             for p, d, n in zip(prompts, first, (4, 1, 9, 2), strict=True)]
    computed = reuse.prefix_cache.computed
    assert_same(reuse(lm, turn2, **options), reference_decoder(lm, turn2, **options))
    assert reuse.prefix_cache.computed - computed == sum(len(t) - len(p) for t, p in zip(turn2, prompts, strict=True))
    reuse.clear()
    assert len(reuse.prefix_cache) == 0


def test_both_decoders_stop_rows_alike(lm):
    """A stop id ends row 0 after two tokens, ``stops_reply`` ends row 1 after three (as a closing tag
    would); the other rows go on, and both decoders cut every row at the same token."""
    prompts = mixed_prompts()
    free = GenerateDecoder()(lm, prompts, max_new_tokens=8, stop_ids={-1}, pad_id=0)
    opening = free[1].tokens[:3]
    stop = free[0].tokens[1]
    assert stop not in opening  # else row 1 would stop on it first

    def stops_reply(tokens: list[int]) -> bool:
        return tokens == opening

    options = {"max_new_tokens": 8, "stop_ids": {stop}, "pad_id": 0, "stops_reply": stops_reply}
    expected = GenerateDecoder()(lm, prompts, **options)
    for row, full in zip(expected, free, strict=True):  # the reference cuts the unstopped run as documented
        cut = next((k + 1 for k, t in enumerate(full.tokens) if t == stop or full.tokens[: k + 1] == opening), 8)
        assert row.tokens == full.tokens[:cut]
    assert expected[0].tokens == free[0].tokens[:2] and expected[1].tokens == opening
    assert len(expected[2].tokens) == 8  # a row that meets neither runs to max_new_tokens
    assert_same(PrefixReuseDecoder()(lm, prompts, **options), expected)


@pytest.mark.parametrize("make", [PrefixReuseDecoder, GenerateDecoder], ids=["prefix", "generate"])
def test_sampled_logprobs_are_those_of_a_plain_forward_pass(lm, make):
    """Sampling: the two decoders draw differently from one seed, but each records log p(token) under
    softmax(logits / temperature) of the model's own forward pass over prompt + tokens so far."""
    prompts = mixed_prompts()
    torch.manual_seed(4)
    decoded = make()(lm, prompts, max_new_tokens=6, stop_ids={-1}, pad_id=0, do_sample=True, temperature=1.3,
                     top_p=0.9)
    for prompt, row in zip(prompts, decoded, strict=True):
        assert len(row.tokens) == 6 == len(row.logprobs)
        with torch.no_grad():
            logits = lm(torch.tensor([prompt + row.tokens])).logits[0, len(prompt) - 1 : -1] / 1.3
        expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(row.tokens)[:, None]).squeeze(-1)
        assert torch.allclose(torch.tensor(row.logprobs), expected, atol=1e-4)


@pytest.mark.parametrize("make", [PrefixReuseDecoder, GenerateDecoder], ids=["prefix", "generate"])
def test_decoding_raises_no_future_warning(lm, make):
    """The cache goes to the model as ``cache=``, the name the installed transformers takes (passing
    ``past_key_values`` warns that 5.40 removes it)."""
    decoder = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decoder(lm, mixed_prompts(), max_new_tokens=3, stop_ids={-1}, pad_id=0)
        decoder(lm, mixed_prompts(), max_new_tokens=3, stop_ids={-1}, pad_id=0, do_sample=True, temperature=1.3)
    assert [str(w.message) for w in caught if issubclass(w.category, FutureWarning)] == []


class DropsCache(torch.nn.Module):
    """A model whose forward ignores ``cache=`` (as a transformers that does not know the name may)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, **kwargs):
        kwargs.pop("cache", None)
        return self.inner(**kwargs)


def test_a_model_that_ignores_the_cache_argument_fails_loudly(lm):
    with pytest.raises(RuntimeError, match="did not fill the key/value cache"):
        decode_batch(DropsCache(lm), prompts_with_shared_prefix(), max_new_tokens=2, stop_ids={-1}, pad_id=0)
