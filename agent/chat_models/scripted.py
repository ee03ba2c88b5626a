"""``ScriptedChatModel``: replies from a list, for tests and for replaying oracle programs.

    model = ScriptedChatModel(replies=[
        '<tool_call>{"name": "detect_objects", "arguments": {"start_s": 0, "end_s": 5}}</tool_call>',
        "<answer>2</answer>",
    ])
    model = ScriptedChatModel.from_program([("detect_objects", {"start_s": 0, "end_s": 5})], answer="2")

A reply may also be a function of the messages so far (``fn(messages) -> str``), to react to observations.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr
from vidagent.agent.chat_models.base import TextFormatChatModel, message_from_text
from vidagent.agent.parsing import format_answer, format_tool_call
from vidagent.errors import ConfigError

Reply = str | Callable[[list[BaseMessage]], str]


class ScriptedChatModel(TextFormatChatModel):
    """Returns ``replies`` in order. After the last one: repeat it (``repeat_last``) or raise."""

    replies: list[Any]
    repeat_last: bool = False
    _position: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "vidagent-scripted"

    @property
    def calls_made(self) -> int:
        return self._position

    def reset(self) -> None:
        self._position = 0

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        with self._lock:
            if self._position >= len(self.replies) and not (self.repeat_last and self.replies):
                raise ConfigError(f"the scripted model has no reply left (it had {len(self.replies)})",
                                  "add replies, or pass repeat_last=True")
            reply = self.replies[min(self._position, len(self.replies) - 1)]
            self._position += 1
        text = reply(messages) if callable(reply) else str(reply)
        # A rough token count (words) so that stats and budgets behave as with a real model.
        usage = {"input_tokens": sum(len(str(m.content).split()) for m in messages),
                 "output_tokens": len(text.split())}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        message = message_from_text(text, usage_metadata=usage, response_metadata={"model_name": "scripted"})
        return ChatResult(generations=[ChatGeneration(message=message)])

    @classmethod
    def from_program(cls, program: Sequence[tuple[str, dict[str, Any]] | dict[str, Any]], answer: str,
                     *, plans: Sequence[str] | None = None) -> ScriptedChatModel:
        """One reply per tool call (optionally preceded by a plan sentence), then the answer."""
        replies = []
        for k, step in enumerate(program):
            name, arguments = (step["name"], step.get("arguments", {})) if isinstance(step, dict) else step
            plan = f"{plans[k]}\n" if plans is not None and k < len(plans) else ""
            replies.append(plan + format_tool_call(name, arguments))
        replies.append(format_answer(answer))
        return cls(replies=replies)

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedChatModel:
        """Load ``{"replies": [...]}``, a plain list of replies, or ``{"program": [...], "answer": ...}``."""
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"no replay file {file}", 'write JSON such as {"replies": ["<answer>2</answer>"]}')
        try:
            data = json.loads(file.read_text())
        except json.JSONDecodeError as error:
            raise ConfigError(f"{file} is not valid JSON: {error}", "fix the file") from None
        if isinstance(data, list):
            return cls(replies=[str(r) for r in data])
        if isinstance(data, dict) and "replies" in data:
            return cls(replies=[str(r) for r in data["replies"]])
        if isinstance(data, dict) and "program" in data and "answer" in data:
            return cls.from_program(data["program"], str(data["answer"]))
        raise ConfigError(f"{file} has neither a list of replies nor a program",
                          'use {"replies": [...]} or {"program": [{"name": ..., "arguments": {...}}], "answer": ...}')
