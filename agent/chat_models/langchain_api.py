"""Any LangChain chat model that supports ``bind_tools`` as the planner (OpenAI, Anthropic, Ollama, ...).

The graph binds the toolbox's JSON schemas with ``bind_tools`` and gives the model a short system prompt
asking for ``<answer>...</answer>`` at the end; native tool calls come back as ``AIMessage.tool_calls``.

    from langchain_openai import ChatOpenAI
    from vidagent.agent import Agent

    agent = Agent(planner=ChatOpenAI(model="gpt-4o-mini", temperature=0))
    print(agent.ask("street.mp4", "How many dogs cross the street?").answer)

or from the command line (the provider's package must be installed and its API key set):

    vidagent ask street.mp4 "How many dogs cross the street?" --planner openai:gpt-4o-mini
    vidagent ask street.mp4 "..." --planner ollama:qwen2.5:7b      # a local Ollama server

These models reach the network (Ollama: localhost); vidagent only builds one when you name it.
A chat model without tool calling can still plan in the text format: wrap it in ``PromptedChatModel``.
See ``examples/api_planner.py``.
"""

from __future__ import annotations

import importlib
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from vidagent.agent.chat_models.base import TextFormatChatModel, message_from_text, message_text
from vidagent.errors import ConfigError

# provider prefix -> (module, class, pip package, keyword naming the model)
PROVIDERS: dict[str, tuple[str, str, str, str]] = {
    "openai": ("langchain_openai", "ChatOpenAI", "langchain-openai", "model"),
    "azure_openai": ("langchain_openai", "AzureChatOpenAI", "langchain-openai", "azure_deployment"),
    "anthropic": ("langchain_anthropic", "ChatAnthropic", "langchain-anthropic", "model"),
    "ollama": ("langchain_ollama", "ChatOllama", "langchain-ollama", "model"),
    "google_genai": ("langchain_google_genai", "ChatGoogleGenerativeAI", "langchain-google-genai", "model"),
    "mistralai": ("langchain_mistralai", "ChatMistralAI", "langchain-mistralai", "model"),
    "groq": ("langchain_groq", "ChatGroq", "langchain-groq", "model"),
}


def is_provider_spec(spec: str) -> bool:
    return spec.partition(":")[0] in PROVIDERS and bool(spec.partition(":")[2])


def chat_model_from_string(spec: str, **kwargs: Any) -> Any:
    """``"openai:gpt-4o-mini"`` -> ``ChatOpenAI(model="gpt-4o-mini", temperature=0)``."""
    provider, _, model = spec.partition(":")
    if provider not in PROVIDERS or not model:
        raise ConfigError(f"unknown planner provider in {spec!r}",
                          f"use PROVIDER:MODEL with PROVIDER one of {', '.join(PROVIDERS)}")
    module_name, class_name, package, model_key = PROVIDERS[provider]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ConfigError(f"the planner {spec} needs the package {package}", f"pip install {package}") from None
    kwargs.setdefault("temperature", 0)
    return getattr(module, class_name)(**{model_key: model}, **kwargs)


class PromptedChatModel(TextFormatChatModel):
    """Any chat model, even one without tool calling, as a text-format planner: the tool cards and the
    ``<tool_call>`` format go into the system prompt, observations come back as user turns.

        planner = PromptedChatModel(inner=ChatOllama(model="llama3.2:1b"))
    """

    inner: Any

    @property
    def _llm_type(self) -> str:
        return "vidagent-prompted"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        reply = self.inner.invoke(as_plain_chat(messages), stop=stop, **kwargs)
        message = message_from_text(message_text(reply), usage_metadata=reply.usage_metadata,
                                    response_metadata=reply.response_metadata)
        return ChatResult(generations=[ChatGeneration(message=message)])


def as_plain_chat(messages: list[BaseMessage]) -> list[BaseMessage]:
    """System/user/assistant messages only: calls as ``<tool_call>`` text, results as ``<tool_response>``."""
    from vidagent.agent.chat_models.local import to_template_turns

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[t.role](t.content) for t in to_template_turns(messages)]
