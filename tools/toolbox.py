"""``Toolbox``: an explicit list of tools turned into a dict, with a duplicate-name check.

No import-time registry: the default toolbox is a list in ``vidagent.tools.defaults``; users pass
``tools=[...]`` or call ``register``. The same tools serve the planner prompt, LangGraph and the CLI.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from vidagent.errors import ConfigError
from vidagent.tools.base import UNKNOWN_TOOL_TEMPLATE, Tool, ToolCall, VisionTool, as_tool
from vidagent.tools.perception import Perception

ToolLike = Tool | VisionTool | Callable[..., Any]


class Toolbox:
    def __init__(self, tools: Iterable[ToolLike] = ()):
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.register(item)

    @classmethod
    def default(cls, extra: Iterable[ToolLike] = (), perception: Perception | None = None) -> Toolbox:
        """The default vision tools (over ``perception``, default the world models) plus ``extra`` user tools."""
        from vidagent.tools.defaults import default_tools  # noqa: PLC0415

        return cls([*default_tools(perception), *extra])

    def register(self, item: ToolLike) -> Tool:
        tool = as_tool(item)
        if tool.name in self._tools:
            raise ConfigError(f"two tools are named {tool.name!r}", "rename one of them (Tool(fn, name=...))")
        self._tools[tool.name] = tool
        return tool

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self]

    def cards(self) -> str:
        return "\n".join(t.card() for t in self)

    def invoke(self, video: Any, name: str, arguments: dict[str, Any] | None) -> ToolCall:
        """Call a tool by name for the planner; an unknown name is an error observation, not an exception."""
        if name not in self._tools:
            text = UNKNOWN_TOOL_TEMPLATE.format(name=name, available=", ".join(self.names) or "none")
            return ToolCall(name, arguments, None, text, error=text)
        return self._tools[name].invoke(video, arguments)

    def as_langchain_tools(self) -> list[Any]:
        """LangChain ``StructuredTool``s (``content_and_artifact``) for a LangGraph ``ToolNode``.

        The video session travels in the run config: ``config["configurable"]["video_session"]``, so one
        compiled graph serves many videos. The artifact is the ``ToolCall`` (typed result + error).
        """
        return [to_langchain_tool(t) for t in self]


def to_langchain_tool(tool: Tool) -> Any:
    from langchain_core.runnables import RunnableConfig  # noqa: PLC0415
    from langchain_core.tools import StructuredTool  # noqa: PLC0415

    def run(config: RunnableConfig, **arguments: Any) -> tuple[str, ToolCall]:
        session = (config.get("configurable") or {}).get("video_session")
        if session is None:
            raise ConfigError("no video bound to this run",
                              'pass config={"configurable": {"video_session": VideoSession(path)}}')
        call = tool.invoke(session, arguments)
        return call.text, call

    # LangChain finds the config parameter by its resolved type; resolve it here (postponed annotations).
    run.__annotations__ = {"config": RunnableConfig, "return": tuple}

    # A dict schema: LangChain passes arguments through untouched, so our own validation produces the
    # model-facing error message (and the tool stays the single source of its schema).
    return StructuredTool.from_function(
        func=run, name=tool.name, description=tool.description, args_schema=tool.parameters_schema(),
        response_format="content_and_artifact",
    )


def load_tool_spec(spec: str) -> Tool:
    """Load ``module:attr`` (a function, Tool, VisionTool class or instance) for ``--tool``."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"--tool {spec!r} is not of the form module:attr", "e.g. --tool examples.my_tool:motion_energy")
    try:
        module = _import_module_or_file(module_name)
    except ImportError as error:
        raise ConfigError(f"cannot import {module_name!r} for --tool: {error}",
                          "make the module importable (install it or run from its parent directory)") from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"{module_name} has no attribute {attr!r}", "check the name after the colon") from None
    try:
        return as_tool(obj)
    except TypeError as error:
        raise ConfigError(f"--tool {spec}: {error}", "see examples/custom_tool.py for a valid tool") from None


def load_tool_specs(specs: Iterable[str]) -> list[Tool]:
    """``load_tool_spec`` for each of the ``--tool`` flags."""
    return [load_tool_spec(spec) for spec in specs]


def _import_module_or_file(name: str) -> Any:
    """Import ``pkg.module`` (the current directory counts, as for ``python -m``) or ``path/to/file.py``."""
    if name.endswith(".py"):
        from pathlib import Path  # noqa: PLC0415

        path = Path(name)
        if not path.is_file():
            raise ImportError(f"no file {path}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # dataclasses and pickling look the module up by name
        spec.loader.exec_module(module)
        return module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(name)
