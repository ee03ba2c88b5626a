"""``LocalChatModel``: a LangChain chat model over a local transformers causal LM.

- Tool cards reach the model in the system prompt (the graph renders them); its replies are parsed for
  ``<tool_call>{json}</tool_call>`` and ``<answer>``.
- Tool observations are shown as a user turn of ``<tool_response>...</tool_response>`` blocks (the
  Hermes/Qwen convention), so the chat template needs no tool role.
- Every reply records the ids of the tokens the model generated and their log-probabilities
  (``response_metadata["completion_ids"]`` / ``["completion_logprobs"]``). ``render`` rebuilds a whole
  conversation as token ids with those exact ids spliced in, plus a mask of the tokens the model generated
  itself (1) versus prompt and observation tokens (0): what GRPO needs (``env_mask``).
- Concurrent calls (many graph runs in threads or asyncio) are batched into one decode (``decoder``, see
  ``decoding.py``), which by default starts from the cached key/values of the prompt prefix they share: the
  system prompt is read once. ``decoder="generate"`` decodes with plain ``model.generate`` instead.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr, field_validator
from vidagent.agent.chat_models.base import TextFormatChatModel, message_from_text, message_text
from vidagent.agent.chat_models.decoding import DECODERS, Decoder, make_decoder
from vidagent.agent.parsing import ANSWER_CLOSE, ANSWER_OPEN, TOOL_CALL_CLOSE, format_tool_call
from vidagent.agent.prompts import LAST_TURN_MESSAGE
from vidagent.errors import ConfigError

CLOSING_TAGS = (TOOL_CALL_CLOSE, ANSWER_CLOSE)
GUIDE_PREFIX = '<tool_call>{"name": "'


def guide_prefix(messages: list[BaseMessage]) -> str:
    """How ``guide_format`` starts the next reply: ``<answer>`` after the last-turn message, a tool call
    after a question or a correction (a user message that does not follow observations), else nothing
    (after observations the model may call again or answer)."""
    if not messages or not isinstance(messages[-1], HumanMessage):
        return ""
    if message_text(messages[-1]) == LAST_TURN_MESSAGE:
        return ANSWER_OPEN
    if len(messages) < 2 or not isinstance(messages[-2], ToolMessage):
        return GUIDE_PREFIX
    return ""


@dataclass
class Generation:
    completion_ids: list[int]
    logprobs: list[float]  # log p(token) under the sampling distribution (temperature applied)
    finished: bool  # ended with an end-of-sequence token (else it hit max_new_tokens)
    seconds: float


@dataclass
class RenderedConversation:
    """A conversation as token ids. ``generated_mask[i]`` is 1 when the model generated token ``i`` itself
    (a recorded completion), ``assistant_mask[i]`` is 1 for every assistant-content token (SFT targets)."""

    ids: list[int]
    generated_mask: list[int]
    assistant_mask: list[int]
    logprobs: list[float]  # recorded log-probabilities for generated tokens, 0.0 elsewhere
    prompt_length: int  # tokens before the first assistant content (system + question + header)

    def completion(self) -> dict[str, list]:
        """The TRL ``rollout_func`` view: prompt ids, completion ids (model turns + observations), the mask
        of model tokens (``env_mask``: observations are 0) and the recorded log-probabilities."""
        n = self.prompt_length
        return {"prompt_ids": self.ids[:n], "completion_ids": self.ids[n:], "env_mask": self.generated_mask[n:],
                "assistant_mask": self.assistant_mask[n:], "logprobs": self.logprobs[n:]}


class LocalChatModel(TextFormatChatModel):
    """Greedy (default) or sampled decoding with a local ``transformers`` model and its tokenizer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: Any
    tokenizer: Any
    model_name: str = "local"
    max_new_tokens: int = 128
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop_at_closing_tag: bool = True  # end a reply right after </tool_call> or </answer> (one call per turn)
    # Start replies to a question or a correction with GUIDE_PREFIX (a tool call) and the reply to the
    # last-turn message with <answer> (see ``guide_prefix``): an un-tuned small model then keeps to the
    # format. The prefix is part of the prompt, not of the completion (0 in the generated mask).
    guide_format: bool = False
    # A fixed start for every reply (prompt tokens, like the guide prefix): ``<answer>`` makes a text-only
    # answerer (the eval's "prior" row) commit to an answer instead of rambling. Overrides guide_format.
    reply_prefix: str = ""
    max_batch: int = 8
    batch_wait_s: float = 0.02  # how long the first request waits for others to join its batch

    # How prompt ids become completion ids (``decoding.Decoder``): "prefix" (default), the batched loop that
    # keeps prompt keys/values between calls (``decoding.PrefixReuseDecoder``: safe while the weights are
    # fixed; training code clears it after each update, ``clear_prefix_cache``), "generate", the reference
    # (plain ``model.generate``, ``decoding.GenerateDecoder``), or a Decoder instance.
    decoder: Any = "prefix"
    # False: reuse nothing, i.e. the reference decoder (the same as decoder="generate").
    reuse_prefix: bool = True

    _batcher: _Batcher | None = PrivateAttr(default=None)
    _decoder: Decoder | None = PrivateAttr(default=None)
    _decoder_spec: tuple | None = PrivateAttr(default=None)
    _segment_ids: dict[str, list[int]] = PrivateAttr(default_factory=dict)

    @field_validator("decoder")
    @classmethod
    def _known_decoder(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in DECODERS:
            raise ValueError(f"unknown decoder {value!r}; one of {sorted(DECODERS)} or a decoding.Decoder")
        if not isinstance(value, str) and not isinstance(value, Decoder):
            # a ValueError, so that pydantic reports it as a ValidationError
            raise ValueError(f"a decoder must be callable and have clear(); got {type(value).__name__}")  # noqa: TRY004
        return value

    @property
    def _llm_type(self) -> str:
        return "vidagent-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "do_sample": self.do_sample, "temperature": self.temperature,
                "top_p": self.top_p, "max_new_tokens": self.max_new_tokens}

    # -- LangChain entry point -----------------------------------------------------------------------
    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        if stop:
            raise ValueError("LocalChatModel stops at the end-of-turn token; stop sequences are not supported")
        if kwargs:
            raise TypeError(f"unexpected options {sorted(kwargs)}; set them on the model (model_copy(update=...))")
        prompt = self.render(messages, add_generation_prompt=True)
        prefix = self.reply_prefix or (guide_prefix(messages) if self.guide_format else "")
        prompt_ids = prompt.ids + (self._tokens(prefix) if prefix else [])
        generation = self.batcher.submit(prompt_ids)
        text = prefix + self.tokenizer.decode(generation.completion_ids, skip_special_tokens=True)
        message = message_from_text(
            text,
            usage_metadata={"input_tokens": len(prompt_ids), "output_tokens": len(generation.completion_ids),
                            "total_tokens": len(prompt_ids) + len(generation.completion_ids)},
            response_metadata={"model_name": self.model_name, "reply_prefix": prefix,
                               "completion_ids": generation.completion_ids,
                               "completion_logprobs": generation.logprobs,
                               "finish_reason": "stop" if generation.finished else "length",
                               "generate_seconds": generation.seconds},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    # -- prompt rendering ----------------------------------------------------------------------------
    def render(self, messages: list[BaseMessage], *, add_generation_prompt: bool = False) -> RenderedConversation:
        """Token ids of a conversation through the chat template, recorded completions spliced in.

        The template is rendered one message at a time and each new segment is tokenised on its own, so
        the ids of a conversation only ever grow at the end: the prompt of turn k+1 starts with the prompt
        and completion of turn k, token for token.
        """
        turns = to_template_turns(messages)
        ids: list[int] = []
        generated: list[int] = []
        assistant: list[int] = []
        logprobs: list[float] = []
        prompt_length: int | None = None
        previous = ""

        def add(segment_ids: list[int], gen: int, asst: int, lps: list[float] | None = None) -> None:
            ids.extend(segment_ids)
            generated.extend([gen] * len(segment_ids))
            assistant.extend([asst] * len(segment_ids))
            logprobs.extend(lps if lps is not None else [0.0] * len(segment_ids))

        dicts = [{"role": t.role, "content": t.content} for t in turns]
        for k, turn in enumerate(turns):
            full = self._template(dicts[: k + 1], add_generation_prompt=False)
            segment = self._segment_after(previous, full)
            if turn.role != "assistant":
                add(self._tokens(segment), 0, 0)
            else:
                header = self._segment_after(previous, self._template(dicts[:k], add_generation_prompt=True))
                if not segment.startswith(header + turn.content):
                    raise ConfigError(f"the chat template of {self.model_name} does not render assistant "
                                      "messages as header + content", "use a model with a ChatML-like template")
                footer = segment[len(header) + len(turn.content):]
                add(self._tokens(header), 0, 0)
                if prompt_length is None:
                    prompt_length = len(ids)
                if turn.completion_ids is not None:
                    if turn.prefix:  # the guide prefix was prompt, not generated
                        if not turn.content.startswith(turn.prefix):
                            raise ValueError("an assistant message's content does not start with its reply_prefix")
                        add(self._tokens(turn.prefix), 0, 1)
                    add(turn.completion_ids, 1, 1, turn.logprobs or [0.0] * len(turn.completion_ids))
                    # the recorded ids end with the end-of-turn token the template writes after the content
                    if turn.completion_ids and turn.completion_ids[-1] in self.stop_ids:
                        eos_text = self.tokenizer.decode(turn.completion_ids[-1:])
                        footer = footer.removeprefix(eos_text)
                    footer_ids = self._tokens(footer)
                    add(footer_ids, 0, 0)
                else:
                    add(self._tokens(turn.content), 0, 1)
                    footer_ids = self._tokens(footer)
                    # the end-of-turn token is part of what SFT teaches; the newline after it is not
                    add(footer_ids[:1], 0, 1)
                    add(footer_ids[1:], 0, 0)
            previous = full
        if add_generation_prompt:
            tail = self._segment_after(previous, self._template(dicts, add_generation_prompt=True))
            add(self._tokens(tail), 0, 0)
        if prompt_length is None:
            prompt_length = len(ids)
        return RenderedConversation(ids, generated, assistant, logprobs, prompt_length)

    def trajectory(self, messages: list[BaseMessage]) -> dict[str, list]:
        """Prompt/completion ids and masks of a finished conversation, ending with the model's last token
        (the template's newline after the final end-of-turn token is dropped)."""
        rendered = self.render(messages)
        end = len(rendered.ids)
        while end > rendered.prompt_length and rendered.generated_mask[end - 1] == 0 \
                and rendered.assistant_mask[end - 1] == 0:
            end -= 1
        trimmed = RenderedConversation(rendered.ids[:end], rendered.generated_mask[:end],
                                       rendered.assistant_mask[:end], rendered.logprobs[:end],
                                       rendered.prompt_length)
        return trimmed.completion()

    def _template(self, dicts: list[dict[str, str]], *, add_generation_prompt: bool) -> str:
        if not dicts and not add_generation_prompt:
            return ""
        return self.tokenizer.apply_chat_template(dicts, tokenize=False, add_generation_prompt=add_generation_prompt)

    def _segment_after(self, previous: str, full: str) -> str:
        if not full.startswith(previous):
            raise ConfigError(f"the chat template of {self.model_name} rewrites earlier messages when one is added",
                              "use a model whose template only appends (ChatML-style, e.g. SmolLM2, Qwen2.5)")
        return full[len(previous):]

    def _tokens(self, text: str) -> list[int]:
        cached = self._segment_ids.get(text)
        if cached is None:
            cached = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(self._segment_ids) < 4096:
                self._segment_ids[text] = cached
        return list(cached)

    # -- generation ----------------------------------------------------------------------------------
    @property
    def stop_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        configured = getattr(self.model.generation_config, "eos_token_id", None)
        ids.update(configured if isinstance(configured, list) else [configured])
        return {i for i in ids if i is not None}

    @property
    def batcher(self) -> _Batcher:
        # ``model_copy`` copies private attributes: a copy must not feed the original's batcher (it would
        # decode with the original's settings), so the batcher belongs to the instance that made it
        if self._batcher is None or self._batcher.owner is not self:
            self._batcher = _Batcher(self._generate_batch, self.max_batch, self.batch_wait_s)
            self._batcher.owner = self
        return self._batcher

    def generate_batch(self, prompts: list[list[int]]) -> list[Generation]:
        """Generate for several prompts at once (left-padded). Public for training code."""
        return self._generate_batch(prompts)

    def _generate_batch(self, prompts: list[list[int]]) -> list[Generation]:
        import torch

        started = time.perf_counter()
        stop = self.stop_ids
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else min(stop)
        if self.do_sample and self.seed is not None:
            torch.manual_seed(self.seed)
        decoded = self.active_decoder(self.model, prompts, max_new_tokens=self.max_new_tokens, stop_ids=stop,
                                      pad_id=pad, do_sample=self.do_sample, temperature=self.temperature,
                                      top_p=self.top_p,
                                      stops_reply=self._closes_reply if self.stop_at_closing_tag else None)
        seconds = time.perf_counter() - started
        results = []
        for row in decoded:
            end = self._reply_end(row.tokens)
            kept = row.tokens if end is None else row.tokens[:end]
            results.append(Generation(kept, [round(x, 6) for x in row.logprobs[: len(kept)]], end is not None,
                                      seconds))
        return results

    @property
    def active_decoder(self) -> Decoder:
        """The decoder ``decoder`` / ``reuse_prefix`` select, made on first use and kept (with its cache)
        until they change."""
        # the model is part of it: cached prompt keys/values belong to one model (a model_copy may swap it)
        spec = (self.decoder if isinstance(self.decoder, str) else id(self.decoder), self.reuse_prefix, id(self.model))
        if self._decoder is None or self._decoder_spec != spec:
            if not self.reuse_prefix and not isinstance(self.decoder, str):
                raise ValueError("reuse_prefix=False selects the reference decoder; it cannot go with a decoder "
                                 "instance (pass decoder='generate' or the instance alone)")
            self._decoder = make_decoder(self.decoder if self.reuse_prefix else "generate")
            self._decoder_spec = spec
        return self._decoder

    def clear_prefix_cache(self) -> None:
        """Forget cached prompt prefixes: call it whenever the model's weights change (a training step)."""
        if self._decoder is not None:
            self._decoder.clear()

    def _closes_reply(self, tokens: list[int]) -> bool:
        """Whether the reply so far ends with a closing tag (checked on its last few tokens)."""
        tail = self.tokenizer.decode(tokens[-8:], skip_special_tokens=True)
        return any(tag in tail for tag in CLOSING_TAGS)

    def _reply_end(self, row: list[int]) -> int | None:
        """Length of the reply in ``row``: through the first end-of-turn token or closing tag, else None."""
        eos = next((i + 1 for i, t in enumerate(row) if t in self.stop_ids), None)
        if not self.stop_at_closing_tag:
            return eos
        text = self.tokenizer.decode(row[:eos], skip_special_tokens=True)
        if not any(tag in text for tag in CLOSING_TAGS):
            return eos
        for k in range(1, len(row[:eos]) + 1):  # the shortest prefix that contains a closing tag
            if any(tag in self.tokenizer.decode(row[:k], skip_special_tokens=True) for tag in CLOSING_TAGS):
                return k
        return eos


@dataclass
class TemplateTurn:
    role: str  # system | user | assistant
    content: str
    completion_ids: list[int] | None = None  # recorded ids when this model generated the turn
    logprobs: list[float] | None = None
    prefix: str = ""  # text the reply was started with (prompt tokens, see LocalChatModel.guide_format)


def to_template_turns(messages: list[BaseMessage]) -> list[TemplateTurn]:
    """LangChain messages -> chat-template turns. Tool results (and a correction right after them) become
    one user turn of ``<tool_response>`` blocks; an assistant message keeps its recorded token ids."""
    turns: list[TemplateTurn] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            turns.append(TemplateTurn("system", message_text(message)))
        elif isinstance(message, AIMessage):
            recorded = message.response_metadata.get("completion_ids")
            turns.append(TemplateTurn("assistant", assistant_text(message), recorded,
                                      message.response_metadata.get("completion_logprobs"),
                                      message.response_metadata.get("reply_prefix", "")))
        elif isinstance(message, ToolMessage):
            block = f"<tool_response>{message_text(message)}</tool_response>"
            _append_user(turns, block, joins_tool=True)
        elif isinstance(message, HumanMessage):
            _append_user(turns, message_text(message), joins_tool=False)
        else:
            raise TypeError(f"cannot render a {type(message).__name__} for a local model")
    return turns


def _append_user(turns: list[TemplateTurn], text: str, *, joins_tool: bool) -> None:
    last = turns[-1] if turns else None
    follows_tool = last is not None and last.role == "user" and last.content.endswith("</tool_response>")
    if last is not None and follows_tool:
        last.content += "\n" + text
    elif joins_tool or last is None or last.role != "user":
        turns.append(TemplateTurn("user", text))
    else:
        last.content += "\n" + text


def assistant_text(message: AIMessage) -> str:
    """The text of an assistant turn as the model writes it: its own text when it has tool-call tags, else
    the content plus its calls in the canonical ``<tool_call>`` format (messages from other sources)."""
    text = message_text(message)
    if not message.tool_calls or "<tool_call>" in text:
        return text
    calls = "\n".join(format_tool_call(c["name"], c["args"]) for c in message.tool_calls)
    return f"{text}\n{calls}" if text else calls


class _Batcher:
    """Collect generate requests from many threads and run them as batches on one worker thread."""

    def __init__(self, run: Any, max_batch: int, wait_s: float):
        self._run = run
        self._max_batch = max(1, max_batch)
        self._wait_s = wait_s
        self._queue: list[tuple[list[int], Future]] = []
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self.batch_sizes: list[int] = []  # for tests and benchmarks
        self.owner: Any = None  # the LocalChatModel whose settings it decodes with

    def submit(self, prompt: list[int]) -> Generation:
        future: Future = Future()
        with self._cond:
            self._queue.append((prompt, future))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, name="vidagent-generate", daemon=True)
                self._worker.start()
            self._cond.notify_all()
        return future.result()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._queue, timeout=30.0):
                    self._worker = None  # idle: let the thread end; the next submit starts another
                    return
                deadline = time.monotonic() + self._wait_s
                while len(self._queue) < self._max_batch and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(timeout=left)
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch:]
            self.batch_sizes.append(len(batch))
            try:
                outputs = self._run([prompt for prompt, _ in batch])
            except BaseException as error:  # noqa: BLE001  (hand any failure to every waiting caller)
                for _, future in batch:
                    future.set_exception(error)
                continue
            for (_, future), output in zip(batch, outputs, strict=True):
                future.set_result(output)
