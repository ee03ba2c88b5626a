"""The tool framework: a tool is a typed function with a Google-style docstring.

Its JSON schema is derived from the signature with pydantic and checked on every call. The first
parameter receives the run's ``VideoSession`` (the video bound to the run: the model never passes paths);
the remaining parameters are what the model fills in.

    @tool
    def count_people(video: VideoSession, start_s: float, end_s: float) -> CountResult:
        '''Count people in a time span.

        Args:
            start_s: Start of the span in seconds.
            end_s: End of the span in seconds.
        '''

Tools with model weights are small classes with a lazy ``setup()`` (see ``VisionTool``).
"""

from __future__ import annotations

import copy
import inspect
import re
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic

from vidagent.errors import ToolArgumentError, ToolCrash, ToolDefinitionError, VidagentError
from vidagent.tools.results import ToolResult, bounded

# Shown to the model after a failed call; tests assert on these templates.
ARGUMENT_ERROR_TEMPLATE = "Error: invalid arguments for {tool}: {details}. Fix the arguments and call it again."
TOOL_ERROR_TEMPLATE = "Error: {tool} failed: {message}. Try other arguments or another tool."
UNKNOWN_TOOL_TEMPLATE = "Error: there is no tool named {name!r}. Available tools: {available}."

_ARG_LINE = re.compile(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?:\s*(.+)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {arg: text}). Continuation lines are joined."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section = "description"
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped in {"Args:", "Arguments:", "Parameters:"}:
            section, current = "args", None
            continue
        if re.fullmatch(r"[A-Z][A-Za-z ]*:", stripped):  # Returns:, Raises:, Example: ...
            section, current = "other", None
            continue
        if section == "description":
            description.append(stripped)
        elif section == "args":
            match = _ARG_LINE.match("  " + line if not line.startswith("  ") else line)
            if match and not line.startswith("        "):
                current = match.group(1)
                args[current] = match.group(2).strip()
            elif current and stripped:
                args[current] += " " + stripped
    text = " ".join(part for part in description if part).strip()
    return text, args


class Tool:
    """A callable tool: schema from the signature, validation on every call, optional lazy setup."""

    def __init__(
        self,
        fn: Callable[..., ToolResult],
        *,
        name: str | None = None,
        setup: Callable[[], None] | None = None,
        fingerprint: Callable[[], str] | str = "",
    ):
        self.fn = fn
        self.name = name or fn.__name__
        self._setup = setup
        self._is_set_up = setup is None
        self._fingerprint = fingerprint
        self.description, self.arg_docs = parse_docstring(fn.__doc__)
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)  # keep Annotated[..., Field(ge=...)] bounds
        params = list(signature.parameters.values())
        if not params or params[0].name != "video":
            raise ToolDefinitionError(f"tool {self.name}: the first parameter must be `video: VideoSession`",
                                      "write the tool as `def my_tool(video: VideoSession, ...)`")
        fields: dict[str, Any] = {}
        for param in params[1:]:
            if param.name not in hints:
                raise ToolDefinitionError(f"tool {self.name}: parameter {param.name!r} needs a type annotation",
                                          f"annotate it, e.g. `{param.name}: float`")
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[param.name] = (hints[param.name], pydantic.Field(default, description=self.arg_docs.get(param.name)))
        missing = [p.name for p in params[1:] if not self.arg_docs.get(p.name)]
        if missing:
            raise ToolDefinitionError(
                f"tool {self.name}: the docstring does not describe {missing}",
                "document every argument under 'Args:' in the Google style, one line each "
                "(`name: what it means`); the planner reads nothing else about them")
        self.result_type = hints.get("return")
        self.args_model: type[pydantic.BaseModel] = pydantic.create_model(
            _camel(self.name) + "Args", __config__=pydantic.ConfigDict(extra="forbid"), **fields
        )

    # -- schema --------------------------------------------------------------------------------------
    def parameters_schema(self) -> dict[str, Any]:
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return schema

    @property
    def required_args(self) -> frozenset[str]:
        """The arguments a call must give (the rest have defaults)."""
        return frozenset(name for name, f in self.args_model.model_fields.items() if f.is_required())

    def schema(self) -> dict[str, Any]:
        """OpenAI-style function schema, the single source for prompts, LangChain and the CLI."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters_schema()}

    def card(self) -> str:
        """One compact line per tool for a planner prompt."""
        schema = self.parameters_schema()
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        args = ", ".join(f"{k}{'' if k in required else '?'}: {_type_name(v)}" for k, v in props.items())
        return f"{self.name}({args}) - {self.description}"

    def variant(self, name: str | None = None, description: str | None = None) -> Tool:
        """The same tool (function, arguments, checks, setup) under another name and/or
        description: how training episodes vary the toolbox so that a planner reads the cards instead of
        remembering names (``vidagent.policies.toolbox_variation``)."""
        other = copy.copy(self)
        other.name = name or self.name
        other.description = description or self.description
        return other

    @property
    def fingerprint(self) -> str:
        value = self._fingerprint() if callable(self._fingerprint) else self._fingerprint
        return value or "fn"

    # -- calling -------------------------------------------------------------------------------------
    def setup(self) -> None:
        if not self._is_set_up and self._setup is not None:
            self._setup()
        self._is_set_up = True

    def validate(self, arguments: dict[str, Any] | None) -> dict[str, Any]:
        """Check model-provided arguments; raise ``ToolArgumentError`` with a readable message."""
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ToolArgumentError(f"{self.name} takes a JSON object of arguments, got {type(arguments).__name__}")
        try:
            return self.args_model.model_validate(arguments).model_dump()
        except pydantic.ValidationError as error:
            raise ToolArgumentError(
                f"invalid arguments for {self.name}: {_format_validation(error)}",
                f"expected {self.card()}",
            ) from None

    def __call__(self, video: Any, **arguments: Any) -> ToolResult:
        """Validate, set up lazily and run. Raises typed errors; see ``invoke`` for the safe variant."""
        clean = self.validate(arguments)
        self.setup()
        return self.fn(video, **clean)

    def invoke(self, video: Any, arguments: dict[str, Any] | None) -> ToolCall:
        """Run the tool for the planner, as LangGraph's ``ToolNode`` handles errors.

        Invalid arguments and failures the tool reports (a ``VidagentError``: ``ToolError``, a time range
        outside the video, a spent budget) come back as an error observation the model can act on. Any
        other exception is a bug in the tool: it raises ``ToolCrash`` for the developer (evaluation counts
        it as a crash, not as a wrong answer). Results are served from ``video.result_cache`` when the
        session has one.
        """
        started = time.perf_counter()
        try:
            clean = self.validate(arguments)
        except ToolArgumentError as error:
            text = ARGUMENT_ERROR_TEMPLATE.format(tool=self.name, details=error.problem.split(": ", 1)[-1])
            return ToolCall(self.name, arguments, None, bounded(text), error=str(error))
        cache = video.result_cache
        key_parts = (self.name, clean, self.fingerprint)
        if cache is not None and self.result_type is not None:
            hit = cache.get(video.ref.sha256, *key_parts, result_type=self.result_type)
            if hit is not None:
                return ToolCall(self.name, clean, hit, hit.to_text(), cached=True,
                                seconds=time.perf_counter() - started)
        take_notes = getattr(video, "take_notes", None)  # what the session changed (a sample thinned to the budget)
        if take_notes is not None:
            take_notes()
        try:
            self.setup()
            result = self.fn(video, **clean)
            text = result.to_text()
            notes = take_notes() if take_notes is not None else []
            if notes:
                text = bounded("Note: " + "; ".join(dict.fromkeys(notes)) + ".\n" + text)  # first: never cut off
        except VidagentError as error:
            text = TOOL_ERROR_TEMPLATE.format(tool=self.name, message=error.problem.rstrip("."))
            return ToolCall(self.name, clean, None, bounded(text), error=str(error),
                            seconds=time.perf_counter() - started)
        except Exception as error:
            raise ToolCrash.of(self.name, error) from error
        if cache is not None and self.result_type is not None:
            cache.put(video.ref.sha256, *key_parts, result=result)
        return ToolCall(self.name, clean, result, text, seconds=time.perf_counter() - started)

    def __repr__(self) -> str:
        return f"Tool({self.card()})"


@dataclass
class ToolCall:
    """What one call of a tool produced: the observation text for the model and the typed result."""

    name: str
    arguments: dict[str, Any] | None
    result: ToolResult | None
    text: str
    error: str | None = None
    cached: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def tool(fn: Callable[..., ToolResult] | None = None, *, name: str | None = None) -> Any:
    """Decorator: turn a typed function into a ``Tool``. Usable as ``@tool`` or ``@tool(name=...)``."""
    if fn is None:
        return lambda f: Tool(f, name=name)
    return Tool(fn, name=name)


class VisionTool:
    """Base for tools with model weights. Subclass, set ``name``, write ``setup()`` and ``run()``.

    ``run(self, video, ...)`` carries the typed signature and the docstring; ``setup()`` loads weights
    and runs once, on the first call; ``fingerprint()`` names the weights for the result cache.
    """

    name: str = ""

    def setup(self) -> None:
        """Load weights. Runs once, lazily."""

    def fingerprint(self) -> str:
        return type(self).__name__

    def run(self, video: Any, **kwargs: Any) -> ToolResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def as_tool(self) -> Tool:
        if not self.name:
            raise TypeError(f"{type(self).__name__} must set a class attribute `name`")
        return Tool(self.run, name=self.name, setup=self.setup, fingerprint=self.fingerprint)


def as_tool(obj: Tool | VisionTool | Callable[..., ToolResult]) -> Tool:
    """Accept the three ways users write tools and return a ``Tool``."""
    if isinstance(obj, Tool):
        return obj
    if isinstance(obj, VisionTool):
        return obj.as_tool()
    if isinstance(obj, type) and issubclass(obj, VisionTool):
        return obj().as_tool()
    if callable(obj):
        return Tool(obj)
    raise TypeError(f"cannot make a tool from {obj!r}: pass a function, a Tool or a VisionTool")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _type_name(prop: dict[str, Any]) -> str:
    """A compact type for a prompt card, with its bounds: ``int 1-10``, ``float>=0``, ``list[str]``."""
    name = _base_type_name(prop)
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None and high is not None:
        return f"{name} {low:g}-{high:g}"
    if low is not None:
        return f"{name}>={low:g}"
    if high is not None:
        return f"{name}<={high:g}"
    return name


def _base_type_name(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "|".join(map(str, prop["enum"]))
    if "anyOf" in prop:
        return "|".join(_type_name(p) for p in prop["anyOf"] if p.get("type") != "null")
    if prop.get("type") == "array":
        return f"list[{_type_name(prop.get('items', {}))}]"
    return {"number": "float", "integer": "int", "string": "str", "boolean": "bool"}.get(prop.get("type", ""), "any")


def _format_validation(error: pydantic.ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unexpected argument"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
