"""Read a planner's text reply: ``<tool_call>{json}</tool_call>`` blocks and a final ``<answer>...</answer>``.

The parser never raises: anything it cannot read becomes an ``InvalidCall`` whose ``error`` is shown to
the model as an observation (see ``MALFORMED_CALL_TEMPLATE``), so a small model can fix its own mistakes.

Rules, in order:

- every ``<tool_call>...</tool_call>`` block is one call; an unclosed last block (generation stopped early)
  is read up to the end of the text;
- a call is a JSON object ``{"name": str, "arguments": object}``; ``arguments`` may be omitted (no
  arguments) or be a JSON string holding an object (the OpenAI wire format);
- ``<answer>...</answer>`` (or an unclosed ``<answer>`` at the end) is the final answer. It counts only when
  the reply has no tool calls: a model that calls a tool and answers in the same breath has not seen the
  observation yet, so the call runs and the model is asked again.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
ANSWER_OPEN = "<answer>"
ANSWER_CLOSE = "</answer>"

# Shown to the model after a tool call it wrote but we could not read; tests assert on it.
MALFORMED_CALL_TEMPLATE = (
    'Error: could not read your tool call: {details}. Write exactly <tool_call>{{"name": "TOOL", '
    '"arguments": {{...}}}}</tool_call> with valid JSON.'
)

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|\Z)", re.DOTALL)
_MAX_SNIPPET = 120


@dataclass
class ParsedToolCall:
    name: str
    arguments: dict[str, Any]
    id: str


@dataclass
class InvalidCall:
    """A ``<tool_call>`` block that is not a valid call: ``error`` says why, for the model."""

    text: str
    error: str
    id: str
    name: str | None = None


@dataclass
class ParsedReply:
    text: str  # the reply without tool-call and answer blocks: the model's plan / reasoning
    tool_calls: list[ParsedToolCall] = field(default_factory=list)
    invalid_calls: list[InvalidCall] = field(default_factory=list)
    answer: str | None = None

    @property
    def has_calls(self) -> bool:
        return bool(self.tool_calls or self.invalid_calls)


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


def parse_reply(text: str) -> ParsedReply:
    """Split a reply into plan text, tool calls (valid and invalid) and the final answer. Never raises."""
    if not isinstance(text, str):
        text = str(text)
    calls: list[ParsedToolCall] = []
    invalid: list[InvalidCall] = []
    for match in _BLOCK.finditer(text):
        call = parse_tool_call(match.group(1))
        (calls if isinstance(call, ParsedToolCall) else invalid).append(call)
    answer = None
    if not calls and not invalid:
        found = _ANSWER.search(text)
        if found is not None:
            answer = found.group(1).strip()
    plan = _ANSWER.sub("", _BLOCK.sub("", text)).strip()
    return ParsedReply(text=plan, tool_calls=calls, invalid_calls=invalid, answer=answer)


def parse_tool_call(body: str) -> ParsedToolCall | InvalidCall:
    """Read the JSON inside one ``<tool_call>`` block."""
    call_id = new_call_id()
    stripped = body.strip()
    snippet = stripped[:_MAX_SNIPPET]
    if not stripped:
        return InvalidCall(body, "the tool call is empty", call_id)
    value, problem = _load_json_object(stripped)
    if problem is not None:
        return InvalidCall(body, problem, call_id)
    assert value is not None
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        return InvalidCall(body, f'the call has no "name" string ({snippet})', call_id)
    extra = sorted(set(value) - {"name", "arguments"})
    if extra:
        return InvalidCall(body, f'unexpected keys {extra}: put the tool\'s arguments under "arguments"',
                           call_id, name=name)
    arguments = value.get("arguments", {})
    if isinstance(arguments, str):  # OpenAI sends arguments as a JSON string
        arguments, problem = _load_json_object(arguments) if arguments.strip() else ({}, None)
        if problem is not None:
            return InvalidCall(body, f'"arguments" of {name}: {problem}', call_id, name=name)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return InvalidCall(body, f'"arguments" of {name} must be a JSON object, got {type(arguments).__name__}',
                           call_id, name=name)
    return ParsedToolCall(name=name.strip(), arguments=arguments, id=call_id)


def _load_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Parse a JSON object, tolerating text after it (small models add a stray brace or newline)."""
    start = text.find("{")
    if start < 0:
        return None, f"expected a JSON object, got {text[:_MAX_SNIPPET]!r}"
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as error:
        return None, f"invalid JSON ({error.msg} at char {error.pos})"
    except (RecursionError, ValueError) as error:  # absurdly nested input; numbers too long to convert
        return None, f"invalid JSON ({type(error).__name__})"
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got {type(value).__name__}"
    return value, None


def format_tool_call(name: str, arguments: dict[str, Any]) -> str:
    """The canonical text of one call, as the model is taught to write it."""
    return TOOL_CALL_OPEN + json.dumps({"name": name, "arguments": arguments}) + TOOL_CALL_CLOSE


def format_answer(answer: str) -> str:
    return f"{ANSWER_OPEN}{answer}{ANSWER_CLOSE}"
