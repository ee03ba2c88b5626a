"""Chat-model adapters for the planner: a local transformers model, a scripted model, and any LangChain
chat model (see ``langchain_api``: ``PROVIDER:MODEL`` strings through LangChain's ``init_chat_model``, and
``PromptedChatModel`` for chat models without tool calling)."""

from vidagent.agent.chat_models.base import TextFormatChatModel, message_from_text, message_text
from vidagent.agent.chat_models.scripted import ScriptedChatModel

__all__ = ["ScriptedChatModel", "TextFormatChatModel", "message_from_text", "message_text"]
