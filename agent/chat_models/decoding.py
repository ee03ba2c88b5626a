"""Batched decoding with a reused prompt prefix: the planner's own generate loop.

Every planner call starts with the same ~900-token system prompt (tool cards and worked examples); on a
CPU, re-reading it costs far more than writing the reply (measured with SmolLM2-135M on 2 cores: 1.7 s to
read 1,000 tokens, 0.03 s per generated token). So the key/value cache of the prompt prefix that a batch
shares is computed once, kept in a small LRU (``PrefixCache``) and copied into every row:

    rows:   [shared prefix (cached)][pad ... pad][row's own suffix] -> generated tokens
    mask:   [1 ............... 1][0 ....... 0][1 .............. 1] 1 1 1 ...

Positions are given explicitly, so the padding between prefix and suffix changes nothing: each row sees
exactly the positions and tokens it would see alone. Rows that finish leave the batch.

``transformers``' ``generate`` cannot start a left-padded batch from a shared cache, hence this loop; it
keeps what the planner needs from ``generate``: greedy or temperature/top-p sampling, the log-probability
of each chosen token under softmax(logits / temperature), and stopping at end-of-turn ids or a closing tag.
"""

from __future__ import annotations

import copy
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MIN_REUSE = 16  # a shorter shared prefix is not worth a cache copy
GROW_TOKENS = 128  # room a growing cache layer adds when full (it doubles when that is more)


def growing_cache() -> Any:
    """A ``DynamicCache`` whose layers write into pre-allocated room instead of concatenating.

    ``DynamicLayer`` runs ``torch.cat`` on every decode step, copying the whole key/value history of every
    layer: at batch 12 with the ~1,000-token prompt that is ~0.5 GB of copies per generated token, more than
    the model's own compute on a CPU. Here each layer keeps a buffer with spare room along the sequence axis
    and exposes the filled part as a view; it reallocates only when full (amortised O(1) per token)."""
    return _growing_classes()[0]()


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
            if self._kbuf is None or self._n + new > self._kbuf.shape[-2] or self._kbuf.shape[0] != key_states.shape[0]:
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

        def _rebuild(self, keys: Any, values: Any) -> None:
            """Take compact tensors as the new content (room is added by the next ``update``)."""
            self._kbuf, self._vbuf, self._n = keys, values, keys.shape[-2]
            self.keys, self.values = keys, values

        def crop(self, tokens_to_remove: int) -> None:
            super().crop(tokens_to_remove)  # views of the buffers: the room beyond them is reused
            self._n = self.keys.shape[-2] if self.is_initialized else 0

        def batch_repeat_interleave(self, repeats: int) -> None:
            if self.get_seq_length() > 0:
                self._rebuild(self.keys.repeat_interleave(repeats, dim=0), self.values.repeat_interleave(repeats, dim=0))

        def batch_select_indices(self, indices: Any) -> None:
            if self.get_seq_length() > 0:
                # rows of the buffers, room included, so the next tokens need no reallocation
                self._kbuf, self._vbuf = self._kbuf[indices], self._vbuf[indices]
                self.keys, self.values = self._kbuf[:, :, : self._n], self._vbuf[:, :, : self._n]

    class GrowingCache(DynamicCache):
        def __init__(self) -> None:  # DynamicCache's own __init__ would replicate DynamicLayer
            Cache.__init__(self, layer_class_to_replicate=GrowingLayer)

    return GrowingCache, GrowingLayer


@dataclass
class Decoded:
    tokens: list[int]  # generated ids, through the stop token (or max_new_tokens)
    logprobs: list[float]


class PrefixCache:
    """An LRU of key/value caches for one model, keyed by token-id prefixes. A lookup reuses the longest
    common prefix with any stored entry (cropping a copy), so a batch whose shared prefix is the system
    prompt plus a few words still starts from the cached system prompt. Must be cleared when the model's
    weights change (``LocalChatModel.clear_prefix_cache``)."""

    def __init__(self, max_entries: int = 8):
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # tokens served from the cache (for tests and benchmarks)
        self.computed = 0  # prefix tokens run through the model

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def kv_for(self, model: Any, prefix: Sequence[int]) -> Any:
        """A fresh (caller-owned) cache holding ``prefix``, for batch size 1."""
        key = tuple(prefix)
        with self._lock:
            best, best_len = None, 0
            for stored_key, stored in self._entries.items():
                n = len(os.path.commonprefix([stored_key, key]))
                if n > best_len:
                    best, best_len = (stored_key, stored), n
            if best is not None and best_len >= MIN_REUSE:
                self._entries.move_to_end(best[0])
                kv = copy.deepcopy(best[1])
                if best_len < kv.get_seq_length():
                    kv.crop(best_len - kv.get_seq_length())  # transformers 5: a negative count of tokens to drop
            else:
                kv, best_len = growing_cache(), 0
        if best_len < len(key):
            _forward(model, list(key[best_len:]), kv, start=best_len)
        self.hits += best_len
        self.computed += len(key) - best_len
        if best_len == len(key):
            return kv  # a stored entry already holds this prefix: storing it again would only copy it
        with self._lock:
            self._entries[key] = copy.deepcopy(kv)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return kv


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

    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("decode_batch needs non-empty prompts")
    device = next(model.parameters()).device
    batch = len(prompts)
    shared = shared_prefix_length(prompts)
    if prefix_cache is not None and shared >= MIN_REUSE:
        kv = prefix_cache.kv_for(model, prompts[0][:shared])
        if batch > 1:
            kv.batch_repeat_interleave(batch)
    else:
        kv, shared = growing_cache(), 0

    suffixes = [list(p[shared:]) for p in prompts]
    width = max(len(s) for s in suffixes)
    ids = torch.tensor([[pad_id] * (width - len(s)) + s for s in suffixes], device=device)  # [B, width]
    own = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in suffixes], device=device)
    mask = torch.cat([torch.ones(batch, shared, dtype=own.dtype, device=device), own], dim=1)  # [B, shared+width]
    positions = (shared + own.cumsum(-1) - 1).clamp(min=shared)  # [B, width]; pads get a harmless position
    next_position = positions[:, -1] + 1  # [B]

    tokens: list[list[int]] = [[] for _ in range(batch)]
    logprobs: list[list[float]] = [[] for _ in range(batch)]
    active = list(range(batch))  # prompt indices still generating, in cache-row order
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=kv,
                       use_cache=True, logits_to_keep=1).logits[:, -1].float()  # [B, V]
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
                           past_key_values=kv, use_cache=True).logits[:, -1].float()
            next_position = next_position + 1
    return [Decoded(t, lp) for t, lp in zip(tokens, logprobs, strict=True)]


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
              position_ids=torch.arange(start, total, device=device)[None], past_key_values=kv, use_cache=True,
              logits_to_keep=1)
