"""Any LangChain chat model that supports ``bind_tools`` as the planner (OpenAI, Anthropic, Ollama, ...).

The graph binds the toolbox's JSON schemas with ``bind_tools`` and gives the model a short system prompt
asking for ``<answer>...</answer>`` at the end; native tool calls come back as ``AIMessage.tool_calls``.

    from langchain.chat_models import init_chat_model
    from vidagent.agent import Agent

    agent = Agent(planner=init_chat_model("openai:gpt-4o-mini", temperature=0))
    print(agent.ask("street.mp4", "How many dogs cross the street?").answer)

or from the command line (the provider's integration package must be installed and its API key set):

    vidagent ask street.mp4 "How many dogs cross the street?" --planner openai:gpt-4o-mini
    vidagent ask street.mp4 "..." --planner ollama:qwen2.5:7b      # a local Ollama server

A ``PROVIDER:MODEL`` string goes to LangChain's ``init_chat_model`` (``chat_model_from_string``): every
provider it knows works (``known_providers()``), each through its own package (``langchain-openai``,
``langchain-anthropic``, ``langchain-ollama``, ...); vidagent keeps no provider table of its own.
These models reach the network (Ollama: localhost); vidagent only builds one when you name it.
A chat model without tool calling can still plan in the text format: wrap it in ``PromptedChatModel``.
See ``examples/api_planner.py``.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from vidagent.agent.chat_models.base import TextFormatChatModel, message_from_text, message_text
from vidagent.errors import ConfigError, PlannerError

# PROVIDER:MODEL. The provider is a name of two or more characters (so that C:\... stays a path); hub ids
# (org/name) have no colon, and replay:FILE is handled before this.
_PROVIDER_SPEC = re.compile(r"(?P<provider>[A-Za-z][A-Za-z0-9_-]+):(?P<model>\S.*)")


def is_provider_spec(spec: str) -> bool:
    """Whether ``spec`` has the ``PROVIDER:MODEL`` form (the provider is checked when the model is built)."""
    return not spec.startswith("replay:") and _PROVIDER_SPEC.fullmatch(spec) is not None


def known_providers() -> list[str]:
    """The providers ``init_chat_model`` resolves by name (its registry; empty when LangChain is missing
    or hides it, in which case ``init_chat_model`` itself decides)."""
    try:
        from langchain.chat_models import base
    except ImportError:
        return []
    return sorted(getattr(base, "_BUILTIN_PROVIDERS", {}))


def chat_model_from_string(spec: str, **kwargs: Any) -> Any:
    """``"openai:gpt-4o-mini"`` -> ``init_chat_model("gpt-4o-mini", model_provider="openai", temperature=0)``.

    Every failure is a ``ConfigError`` that says what to do: a malformed spec or an unknown provider (with
    the providers LangChain knows), a missing integration package (``pip install langchain-openai``), or a
    model the provider's class refuses to build (e.g. no API key)."""
    match = _PROVIDER_SPEC.fullmatch(spec)
    if match is None:
        raise ConfigError(f"planner {spec!r} is not of the form PROVIDER:MODEL",
                          "e.g. openai:gpt-4o-mini, anthropic:claude-sonnet-4-5 or ollama:qwen2.5:7b")
    provider, model = match["provider"], match["model"]
    key = provider.replace("-", "_").lower()  # init_chat_model's own normalisation
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise ConfigError(f"the planner {spec} needs LangChain's init_chat_model (package langchain)",
                          "pip install 'langchain>=1.0'") from None
    known = known_providers()
    if known and key not in known:
        raise _unknown_provider(spec, provider, known)
    kwargs.setdefault("temperature", 0)
    try:
        return init_chat_model(model, model_provider=key, **kwargs)
    except ImportError as error:
        package = _missing_package(error, key)
        raise ConfigError(f"the planner {spec} needs the package {package}", f"pip install {package}") from None
    except ValueError as error:
        if str(error).startswith("Unsupported"):  # a provider unknown to a registry we could not read
            raise _unknown_provider(spec, provider, known or _listed_providers(str(error))) from None
        raise _cannot_build(spec, provider, error) from error
    except Exception as error:  # the provider's class refused its options (API key, base URL, ...)
        raise _cannot_build(spec, provider, error) from error


def _unknown_provider(spec: str, provider: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(provider.replace("-", "_").lower(), known, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return ConfigError(
        f"unknown planner provider {provider!r} in {spec!r}",
        f"{hint}use PROVIDER:MODEL with a provider LangChain's init_chat_model knows: "
        f"{', '.join(known) or 'see https://docs.langchain.com/oss/python/integrations/providers'}; "
        "or pass a model directory, a LoRA adapter directory, a .gguf file or a Hugging Face id")


def _missing_package(error: ImportError, provider: str) -> str:
    """The pip package an ``init_chat_model`` ImportError names ("... `pip install langchain-openai`")."""
    found = re.search(r"pip install ([A-Za-z0-9_.\[\]-]+)", str(error))
    if found:
        return found[1]
    name = getattr(error, "name", None) or f"langchain_{provider}"
    return name.split(".", maxsplit=1)[0].replace("_", "-")


def _listed_providers(message: str) -> list[str]:
    found = re.search(r"providers(?: are)?:\s*(.+)", message)
    return sorted(p.strip() for p in found[1].split(",") if p.strip()) if found else []


def _cannot_build(spec: str, provider: str, error: BaseException) -> ConfigError:
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return ConfigError(f"cannot build the planner {spec}: {type(error).__name__}: {first}",
                       f"set what the {provider} integration needs (usually its API key in the environment, "
                       "e.g. OPENAI_API_KEY or ANTHROPIC_API_KEY), or build the chat model in Python and pass "
                       "it as Agent(planner=model)")


class PromptedChatModel(TextFormatChatModel):
    """Any chat model, even one without tool calling, as a text-format planner: the tool cards and the
    ``<tool_call>`` format go into the system prompt, observations come back as user turns.

        planner = PromptedChatModel(inner=ChatOllama(model="llama3.2:1b"))
    """

    inner: Any
    remote: ClassVar[bool] = True

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


def is_remote(model: Any) -> bool:
    """Whether ``model``'s calls go to another program (any LangChain chat model but our in-process ones)."""
    return not isinstance(model, TextFormatChatModel) or model.remote


# Exception names (openai, anthropic, httpx, requests, ...: no import of any of them) -> what to do.
_FAILURE_FIXES = [
    (("connect", "timeout", "unreachable", "refused"),
     ("check that the server is running and its address is right (the provider's base URL, e.g. "
      "OPENAI_BASE_URL or base_url=...), then try again")),
    (("authentication", "permission", "unauthorized", "forbidden", "credential", "apikey", "api_key"),
     "check the API key (e.g. OPENAI_API_KEY or ANTHROPIC_API_KEY) and that it may use this model"),
    (("notfound", "not_found"), "check the model name (PROVIDER:MODEL) against the provider's list of models"),
    (("ratelimit", "quota"), "wait and try again, or lower the concurrency (eval --concurrency)"),
]


def planner_failure(model: Any, error: BaseException) -> PlannerError:
    """The ``error: / fix:`` for a remote planner call that failed (no connection, bad key, unknown model)."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
    kind = type(error).__name__
    first = (str(error).strip().splitlines() or [kind])[0]
    haystack = (kind + " " + first).lower().replace(" ", "")
    fix = next((fix for words, fix in _FAILURE_FIXES if any(w.replace(" ", "") in haystack for w in words)),
               "check the provider's settings (endpoint, API key, model name); set VIDAGENT_DEBUG=1 for the "
               "provider's traceback")
    return PlannerError(f"the planner {name} failed: {kind}: {first}", fix)
