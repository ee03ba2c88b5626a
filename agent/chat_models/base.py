"""``TextFormatChatModel``: the base of chat models that read tool cards from the system prompt and write
tool calls as ``<tool_call>{json}</tool_call>`` text (the local transformers model, the scripted model).

Other LangChain chat models get the tools natively with ``bind_tools``. The graph tells the two apart by
this class, not by probing attributes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.tool import invalid_tool_call, tool_call
from vidagent.agent.parsing import ParsedReply, parse_reply


class TextFormatChatModel(BaseChatModel):
    """A chat model whose tools are described in the prompt and called in text."""

    # Whether calls reach another program (an API, a server): its failures are the user's to fix (endpoint,
    # key, model name), not bugs of ours. The local and scripted models are in-process.
    remote: ClassVar[bool] = False

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__} reads its tools from the system prompt; "
                        "the planner graph renders them, do not call bind_tools")


def message_from_text(text: str, **fields: Any) -> AIMessage:
    """An ``AIMessage`` whose ``tool_calls`` / ``invalid_tool_calls`` come from parsing ``text``."""
    return message_from_parsed(text, parse_reply(text), **fields)


def message_from_parsed(text: str, parsed: ParsedReply, **fields: Any) -> AIMessage:
    return AIMessage(
        content=text,
        tool_calls=[tool_call(name=c.name, args=c.arguments, id=c.id) for c in parsed.tool_calls],
        invalid_tool_calls=[invalid_tool_call(name=c.name, args=c.text, id=c.id, error=c.error)
                            for c in parsed.invalid_calls],
        **fields,
    )


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)
