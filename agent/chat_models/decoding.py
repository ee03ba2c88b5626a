"""How the planner turns prompt ids into completion ids: a small interface and two implementations.

``Decoder`` is the interface: ``decoder(model, prompts, max_new_tokens=..., stop_ids=..., pad_id=...,
do_sample=..., temperature=..., top_p=..., stops_reply=...)`` -> one ``Decoded`` per prompt (the generated
ids, through the stop token, and the log-probability of each under softmax(logits / temperature) when
sampling, log_softmax(logits) when greedy), and ``decoder.clear()`` forgets anything that depends on the
weights. ``GenerateDecoder`` is the reference: plain ``model.generate``. ``PrefixReuseDecoder`` (the
default) is a speed-up that must give the same tokens (``tests/test_decoding.py`` holds them token-equal):

Every planner call starts with the same ~900-token system prompt (tool cards and worked examples), and the
next turn of a conversation repeats the previous turn's prompt; on a CPU, re-reading tokens costs far more
than writing the reply (SmolLM2-135M on 2 cores: 1.7 s to read 1,000 tokens, 0.05 s per generated token).
So prompt keys/values are kept in an LRU (``PrefixCache``): each row of a batch starts from the longest
prompt prefix it has in the cache (the shared system prompt, computed once per batch, or its own
conversation's previous prompt) and reads only the rest:

    row 0:  [pad][cached prefix of row 0    ][pad ..][row 0's new tokens] -> generated tokens
    row 1:  [cached prefix of row 1 (longer) ][pad ....... ][row 1's new ] -> ...
    mask:    0 .. 1 ........................... 0 .... 0 ... 1 .......... 1   1 1 ...

Positions are given explicitly, so the padding changes nothing: each row sees exactly the positions and
tokens it would see alone. After reading its prompt, each row's keys/values are stored under its prompt.
Rows that finish leave the batch.

``transformers``' ``generate`` cannot start a batch from per-row caches, hence this loop; it keeps what the
planner needs from ``generate``: greedy or temperature/top-p sampling, the log-probability of each chosen
token under softmax(logits / temperature), and stopping at end-of-turn ids or a closing tag.

The loop hands its cache to the model as ``cache=``: the name transformers 5.24 takes (it still accepts
``past_key_values`` with a FutureWarning until 5.40). A transformers without that argument may ignore it
and decode from an empty cache, so the loop checks that the model wrote into it (and pyproject pins the
range it was tested on).
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

MIN_REUSE = 16  # a shorter cached prefix is not worth the copy
GROW_TOKENS = 128  # room a growing cache layer adds when full (it doubles when that is more)

Entry = tuple[tuple[Any, Any], ...]  # per layer: (keys, values), each [1, kv_heads, tokens, head_dim]


@dataclass
class Decoded:
    tokens: list[int]  # generated ids, through the stop token (or max_new_tokens)
    logprobs: list[float]  # of each token: softmax(logits / temperature) when sampling, softmax(logits) greedy


@runtime_checkable
class Decoder(Protocol):
    """Prompt ids -> completion ids and their log-probabilities, for a batch of prompts.

    A row ends at its first token in ``stop_ids`` (kept), when ``stops_reply(tokens so far)`` is true (a
    closing tag; the last token is kept), or after ``max_new_tokens``; ``pad_id`` fills left padding. Greedy
    takes the argmax; sampling draws from softmax(logits / temperature) cut to ``top_p``, nothing else (no
    top-k, no repetition penalty, whatever the model's generation config says)."""

    def __call__(self, model: Any, prompts: Sequence[Sequence[int]], *, max_new_tokens: int, stop_ids: set[int],
                 pad_id: int, do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0,
                 stops_reply: Callable[[list[int]], bool] | None = None) -> list[Decoded]: ...

    def clear(self) -> None:
        """Forget whatever depends on the model's weights (call it after every weight update)."""
        ...


class PrefixReuseDecoder:
    """The default ``Decoder``: ``decode_batch`` with a ``PrefixCache`` kept between calls (see the module
    docstring: on a CPU, re-reading the shared system prompt dominates a planner call). Same tokens as
    ``GenerateDecoder``; ``clear()`` empties the cache, which must happen whenever the weights change."""

    def __init__(self, prefix_cache: PrefixCache | None = None):
        self.prefix_cache = prefix_cache if prefix_cache is not None else PrefixCache()

    def __call__(self, model: Any, prompts: Sequence[Sequence[int]], *, max_new_tokens: int, stop_ids: set[int],
                 pad_id: int, do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0,
                 stops_reply: Callable[[list[int]], bool] | None = None) -> list[Decoded]:
        return decode_batch(model, prompts, max_new_tokens=max_new_tokens, stop_ids=stop_ids, pad_id=pad_id,
                            do_sample=do_sample, temperature=temperature, top_p=top_p, stops_reply=stops_reply,
                            prefix_cache=self.prefix_cache)

    def clear(self) -> None:
        self.prefix_cache.clear()

    def __repr__(self) -> str:
        return f"PrefixReuseDecoder({len(self.prefix_cache)} cached prompts)"


# what ``generate`` could add on its own (from the model's generation config or transformers' defaults) and
# the ``Decoder`` contract leaves out; set explicitly so that only temperature and top-p shape sampling
_NEUTRAL_GENERATE = {"num_beams": 1, "num_return_sequences": 1, "repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
                     "min_length": 0, "min_new_tokens": None, "bad_words_ids": None, "suppress_tokens": None,
                     "begin_suppress_tokens": None, "forced_bos_token_id": None, "forced_eos_token_id": None,
                     "sequence_bias": None}
_NEUTRAL_SAMPLING = {"top_k": 0, "min_p": None, "top_h": None, "typical_p": 1.0, "epsilon_cutoff": 0.0,
                     "eta_cutoff": 0.0}


class GenerateDecoder:
    """The reference ``Decoder``: plain ``model.generate`` on the left-padded batch, nothing cached between
    calls. ``stop_ids`` are its ``eos_token_id``s, ``stops_reply`` a per-row stopping criterion, and the
    log-probabilities come from the raw logits it returns (``output_logits``); a finished row's padding is
    cut. Slower on long shared prompts (every call reads every prompt in full), but it is what the
    prefix-reusing loop is tested against, and the one to pick when in doubt (``LocalChatModel(...,
    decoder="generate")``)."""

    def __call__(self, model: Any, prompts: Sequence[Sequence[int]], *, max_new_tokens: int, stop_ids: set[int],
                 pad_id: int, do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0,
                 stops_reply: Callable[[list[int]], bool] | None = None) -> list[Decoded]:
        import torch
        from transformers import StoppingCriteriaList

        _check_prompts(prompts)
        device = next(model.parameters()).device
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[pad_id] * (width - len(p)) + list(p) for p in prompts], device=device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
        options: dict[str, Any] = dict(_NEUTRAL_GENERATE)
        if do_sample:
            options.update(_NEUTRAL_SAMPLING, temperature=temperature, top_p=top_p)
        if stops_reply is not None:
            options["stopping_criteria"] = StoppingCriteriaList([_reply_stop_class()(stops_reply, stop_ids, width)])
        eos = sorted(i for i in stop_ids if i >= 0) or None  # a negative id is never generated: no stop
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                 do_sample=do_sample, eos_token_id=eos, pad_token_id=pad_id,
                                 output_logits=True, return_dict_in_generate=True, **options)
        generated = out.sequences[:, width:]  # [B, steps]; a finished row continues with pad_id
        scale = temperature if do_sample else 1.0
        logprobs = torch.stack([torch.log_softmax(step.float() / scale, dim=-1).gather(-1, generated[:, t, None])[:, 0]
                                for t, step in enumerate(out.logits)], dim=1)  # [B, steps]
        results = []
        for row, row_logprobs in zip(generated.tolist(), logprobs.tolist(), strict=True):
            n = _finished_length(row, stop_ids, stops_reply)
            results.append(Decoded(row[:n], row_logprobs[:n]))
        return results

    def clear(self) -> None:  # nothing is kept between calls
        pass

    def __repr__(self) -> str:
        return "GenerateDecoder()"


DECODERS: dict[str, Callable[[], Decoder]] = {"prefix": PrefixReuseDecoder, "generate": GenerateDecoder}


def make_decoder(spec: str | Decoder) -> Decoder:
    """A ``Decoder`` from its name (``"prefix"``: the prefix-reusing default, ``"generate"``: the reference)
    or the decoder itself."""
    if isinstance(spec, str):
        if spec not in DECODERS:
            raise ValueError(f"unknown decoder {spec!r}; one of {sorted(DECODERS)} or a Decoder instance")
        return DECODERS[spec]()
    if not isinstance(spec, Decoder):
        raise TypeError(f"a decoder must be callable and have clear(); got {type(spec).__name__}")
    return spec


def _finished_length(row: list[int], stop_ids: set[int], stops_reply: Callable[[list[int]], bool] | None) -> int:
    """Tokens of ``row`` through its first stop: what ``decode_batch`` keeps of the same tokens."""
    for k, token in enumerate(row):
        if token in stop_ids or (stops_reply is not None and stops_reply(row[: k + 1])):
            return k + 1
    return len(row)


@functools.cache
def _reply_stop_class() -> type:
    """A ``StoppingCriteria`` ending each row of ``generate`` once ``stops_reply`` holds for its tokens
    (defined on first use, as ``_growing_classes``)."""
    import torch
    from transformers import StoppingCriteria

    class ReplyStop(StoppingCriteria):
        def __init__(self, stops_reply: Callable[[list[int]], bool], stop_ids: set[int], prompt_width: int):
            self.stops_reply, self.stop_ids, self.prompt_width = stops_reply, stop_ids, prompt_width
            self.done: list[bool] | None = None

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            rows = input_ids[:, self.prompt_width :].tolist()
            if self.done is None:
                self.done = [False] * len(rows)
            for i, row in enumerate(rows):  # a finished row is only padded further: not asked again
                if not self.done[i]:
                    self.done[i] = row[-1] in self.stop_ids or self.stops_reply(row)
            return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)

    return ReplyStop


class PrefixCache:
    """An LRU of prompt keys/values for one model, keyed by token ids and bounded in bytes. A lookup finds
    the stored prompt sharing the longest prefix with the one asked for, so a new turn of a conversation
    starts from its previous turn and every conversation from the cached system prompt. Must be cleared
    when the model's weights change (``LocalChatModel.clear_prefix_cache``)."""

    def __init__(self, max_bytes: int = 1 << 30, max_entries: int = 64):
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._entries: OrderedDict[tuple[int, ...], Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0  # prompt tokens served from the cache (for tests and benchmarks)
        self.computed = 0  # prompt tokens run through the model

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, tokens: Sequence[int], limit: int) -> tuple[Entry | None, int]:
        """The entry sharing the longest prefix with ``tokens`` and that length (at most ``limit``); the
        entry's tensors are shared, not copied: read them only."""
        key = tuple(tokens)
        with self._lock:
            best, best_len = None, 0
            for stored_key in self._entries:
                n = min(len(os.path.commonprefix([stored_key, key])), limit)
                if n > best_len:
                    best, best_len = stored_key, n
            if best is None or best_len < MIN_REUSE:
                return None, 0
            self._entries.move_to_end(best)
            return self._entries[best], best_len

    def store(self, tokens: Sequence[int], entry: Entry) -> None:
        size = _nbytes(entry)
        key = tuple(tokens)
        with self._lock:
            if key in self._entries or size > self.max_bytes:
                return
            # an entry whose tokens start the new one is subsumed: every lookup it served, the new one serves
            # at least as well (a conversation's previous turn; the system prompt once a row holds it)
            for stored_key in [k for k in self._entries if len(k) < len(key) and key[: len(k)] == k]:
                self._drop(stored_key)
            self._entries[key] = entry
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[int, ...]) -> None:
        self._bytes -= _nbytes(self._entries.pop(key))

    def ensure(self, model: Any, prefix: Sequence[int]) -> None:
        """Make sure ``prefix`` is cached, reading only what no stored entry already covers."""
        entry, n = self.lookup(prefix, len(prefix))
        if n == len(prefix):
            self.hits += n
            return
        kv = batched_cache([(entry, n)])
        _forward(model, list(prefix[n:]), kv, start=n)
        self.hits += n
        self.computed += len(prefix) - n
        self.store(prefix, tuple((k.clone(), v.clone()) for k, v in _layers(kv)))


def _nbytes(entry: Entry) -> int:
    return sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in entry)


def growing_cache() -> Any:
    """A ``DynamicCache`` whose layers write into pre-allocated room instead of concatenating.

    ``DynamicLayer`` runs ``torch.cat`` on every decode step, copying the whole key/value history of every
    layer; here each layer keeps a buffer with spare room along the sequence axis and exposes the filled
    part as a view, reallocating only when full (amortised O(1) per token)."""
    return _growing_classes()[0]()


def batched_cache(rows: Sequence[tuple[Entry | None, int]]) -> Any:
    """A growing cache for a batch: row ``i`` holds the first ``n_i`` tokens of its entry, right-aligned
    (left slots are padding for the attention mask to hide). All rows empty: an empty cache."""
    kv = growing_cache()
    width = max(n for _, n in rows)
    if width == 0:
        return kv
    template = next(entry for entry, n in rows if n)
    for layer, (k0, v0) in enumerate(template):
        keys = k0.new_zeros((len(rows), k0.shape[1], width, k0.shape[3]))
        values = v0.new_zeros((len(rows), v0.shape[1], width, v0.shape[3]))
        for i, (entry, n) in enumerate(rows):
            if n:
                keys[i, :, width - n :] = entry[layer][0][0, :, :n]
                values[i, :, width - n :] = entry[layer][1][0, :, :n]
        kv.update(keys, values, layer)
    return kv


def _layers(kv: Any) -> list[tuple[Any, Any]]:
    return [(layer.keys, layer.values) for layer in kv.layers]


@functools.cache
def _growing_classes() -> tuple[Any, Any]:
    """(GrowingCache, GrowingLayer), defined on first use so that importing this module stays light."""
    import torch
    from transformers import DynamicCache
    from transformers.cache_utils import Cache, DynamicLayer

    class GrowingLayer(DynamicLayer):
        """``keys``/``values`` are views [B, H, n, D] of buffers [B, H, capacity, D]."""

        def lazy_initialization(self, key_states: Any, value_states: Any) -> None:
            super().lazy_initialization(key_states, value_states)
            self._kbuf = self._vbuf = None
            self._n = 0

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            new = key_states.shape[-2]
            full = self._kbuf is None or self._n + new > self._kbuf.shape[-2]
            if full or self._kbuf.shape[0] != key_states.shape[0]:
                capacity = self._n + new + max(GROW_TOKENS, self._n)
                self._kbuf = self._grow(self.keys, key_states, capacity)
                self._vbuf = self._grow(self.values, value_states, capacity)
            self._kbuf[:, :, self._n : self._n + new] = key_states
            self._vbuf[:, :, self._n : self._n + new] = value_states
            self._n += new
            self.keys, self.values = self._kbuf[:, :, : self._n], self._vbuf[:, :, : self._n]
            return self.keys, self.values

        def _grow(self, filled: Any, like: Any, capacity: int) -> Any:
            shape = (like.shape[0], like.shape[1], capacity, like.shape[3])
            buffer = torch.empty(shape, dtype=like.dtype, device=like.device)
            if self._n:
                buffer[:, :, : self._n] = filled
            return buffer

        def crop(self, tokens_to_remove: int) -> None:
            super().crop(tokens_to_remove)  # views of the buffers: the room beyond them is reused
            self._n = self.keys.shape[-2] if self.is_initialized else 0

        def batch_repeat_interleave(self, repeats: int) -> None:
            if self.get_seq_length() > 0:  # compact copies; room is added by the next update
                self._kbuf = self.keys.repeat_interleave(repeats, dim=0)
                self._vbuf = self.values.repeat_interleave(repeats, dim=0)
                self.keys, self.values = self._kbuf, self._vbuf

        def batch_select_indices(self, indices: Any) -> None:
            if self.get_seq_length() > 0:
                # rows of the buffers, room included, so the next tokens need no reallocation
                self._kbuf, self._vbuf = self._kbuf[indices], self._vbuf[indices]
                self.keys, self.values = self._kbuf[:, :, : self._n], self._vbuf[:, :, : self._n]

    class GrowingCache(DynamicCache):
        def __init__(self) -> None:  # DynamicCache's own __init__ would replicate DynamicLayer
            Cache.__init__(self, layer_class_to_replicate=GrowingLayer)

    return GrowingCache, GrowingLayer


def shared_prefix_length(prompts: Sequence[Sequence[int]]) -> int:
    """Tokens every prompt starts with, leaving each prompt at least one token of its own (its last
    position's logits start the reply)."""
    n = len(os.path.commonprefix([list(p) for p in prompts])) if len(prompts) > 1 else len(prompts[0])
    return min(n, min(len(p) for p in prompts) - 1)


def decode_batch(model: Any, prompts: Sequence[Sequence[int]], *, max_new_tokens: int, stop_ids: set[int],
                 pad_id: int, do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0,
                 stops_reply: Callable[[list[int]], bool] | None = None,
                 prefix_cache: PrefixCache | None = None) -> list[Decoded]:
    """Generate a reply for each prompt. ``stops_reply(tokens)`` ends a row early (a closing tag)."""
    import torch

    _check_prompts(prompts)
    device = next(model.parameters()).device
    batch = len(prompts)
    cached: list[tuple[Entry | None, int]] = [(None, 0)] * batch
    if prefix_cache is not None:
        shared = shared_prefix_length(prompts)
        if batch > 1 and shared >= MIN_REUSE:
            prefix_cache.ensure(model, prompts[0][:shared])  # the system prompt: read once for the batch
        cached = [prefix_cache.lookup(p, len(p) - 1) for p in prompts]  # each row keeps one token to read
        prefix_cache.hits += sum(n for _, n in cached)
    kv = batched_cache(cached)
    lengths = [n for _, n in cached]
    width_cached = max(lengths)

    suffixes = [list(p[n:]) for p, n in zip(prompts, lengths, strict=True)]
    width = max(len(s) for s in suffixes)
    ids = torch.tensor([[pad_id] * (width - len(s)) + s for s in suffixes], device=device)  # [B, width]
    own = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in suffixes], device=device)
    old = torch.tensor([[0] * (width_cached - n) + [1] * n for n in lengths], dtype=own.dtype, device=device)
    mask = torch.cat([old, own], dim=1)  # [B, width_cached + width]
    start = torch.tensor(lengths, device=device)[:, None]
    positions = torch.maximum(start + own.cumsum(-1) - 1, start)  # [B, width]; pads get a harmless position
    next_position = positions[:, -1] + 1  # [B]

    tokens: list[list[int]] = [[] for _ in range(batch)]
    logprobs: list[list[float]] = [[] for _ in range(batch)]
    active = list(range(batch))  # prompt indices still generating, in cache-row order
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=kv,
                       use_cache=True, logits_to_keep=1).logits[:, -1].float()  # [B, V]
        _check_written(kv, width_cached + width)
        if prefix_cache is not None:
            prefix_cache.computed += sum(len(s) for s in suffixes)
            _store_rows(prefix_cache, prompts, kv, mask)
        for _ in range(max_new_tokens):
            chosen, chosen_logprobs = _choose(logits, do_sample, temperature, top_p)  # [A], [A]
            keep = []
            for row, (index, token, lp) in enumerate(zip(active, chosen.tolist(), chosen_logprobs.tolist(),
                                                         strict=True)):
                tokens[index].append(token)
                logprobs[index].append(lp)
                done = token in stop_ids or (stops_reply is not None and stops_reply(tokens[index]))
                if not done:
                    keep.append(row)
            if not keep:
                break
            if len(keep) < len(active):
                rows = torch.tensor(keep, device=device)
                kv.batch_select_indices(rows)
                mask, chosen, next_position = mask[rows], chosen[rows], next_position[rows]
                active = [active[r] for r in keep]
            mask = torch.cat([mask, torch.ones(len(active), 1, dtype=mask.dtype, device=device)], dim=1)
            logits = model(input_ids=chosen[:, None], attention_mask=mask, position_ids=next_position[:, None],
                           cache=kv, use_cache=True).logits[:, -1].float()
            next_position = next_position + 1
    return [Decoded(t, lp) for t, lp in zip(tokens, logprobs, strict=True)]


def _store_rows(prefix_cache: PrefixCache, prompts: Sequence[Sequence[int]], kv: Any, mask: Any) -> None:
    """Store each row's prompt keys/values (its unmasked slots, in order) under its prompt: the next turn
    of that conversation starts from them."""
    for i, prompt in enumerate(prompts):
        slots = mask[i].nonzero().squeeze(-1)
        prefix_cache.store(prompt, tuple((k[i : i + 1, :, slots].contiguous(),
                                           v[i : i + 1, :, slots].contiguous()) for k, v in _layers(kv)))


def _choose(logits: Any, do_sample: bool, temperature: float, top_p: float) -> tuple[Any, Any]:
    """Next tokens [B] and their log-probabilities under softmax(logits / temperature) [B]."""
    import torch

    logp = torch.log_softmax(logits / (temperature if do_sample else 1.0), dim=-1)  # [B, V]
    if not do_sample:
        chosen = logp.argmax(-1)
    else:
        probs = logp.exp()
        if top_p < 1.0:
            sorted_probs, order = probs.sort(-1, descending=True)
            drop = sorted_probs.cumsum(-1) - sorted_probs > top_p  # keep the smallest set reaching top_p
            probs = probs.scatter(-1, order, sorted_probs.masked_fill(drop, 0.0))
        chosen = torch.multinomial(probs, 1).squeeze(-1)
    return chosen, logp.gather(-1, chosen[:, None]).squeeze(-1)


def _forward(model: Any, ids: list[int], kv: Any, *, start: int) -> None:
    """Append ``ids`` (one row, positions from ``start``) to ``kv``."""
    import torch

    device = next(model.parameters()).device
    total = start + len(ids)
    with torch.no_grad():
        model(input_ids=torch.tensor([ids], device=device), attention_mask=torch.ones(1, total, device=device,
                                                                                      dtype=torch.long),
              position_ids=torch.arange(start, total, device=device)[None], cache=kv, use_cache=True,
              logits_to_keep=1)
    _check_written(kv, total)


def _check_prompts(prompts: Sequence[Sequence[int]]) -> None:
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("decoding needs non-empty prompts")


def _check_written(kv: Any, expected: int) -> None:
    """The model wrote its keys/values into ``kv``: a transformers that does not know the ``cache=``
    argument may drop it silently and leave every later step without its context."""
    if kv.get_seq_length() != expected:
        raise RuntimeError(f"the model did not fill the key/value cache passed as cache= ({kv.get_seq_length()} "
                           f"of {expected} positions): this decoder needs transformers>=5.24 (pyproject.toml), "
                           "or use LocalChatModel(decoder=\"generate\")")
