"""One contract, every tool: the default toolbox plus the example user tool. New tools get it for free."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from vidagent.tools import Tool, Toolbox, VideoSession
from vidagent.tools.results import MAX_OBSERVATION_CHARS, Evidence, ToolResult
from vidagent.tools.toolbox import load_tool_spec

REPO = Path(__file__).resolve().parents[1]
motion_energy = load_tool_spec(str(REPO / "examples" / "custom_tool.py") + ":motion_energy")

TOOLS: list[Tool] = [*Toolbox.default(), motion_energy]


def valid_arguments(tool: Tool, duration_s: float) -> dict[str, Any]:
    """Arguments that every tool of the house style accepts, derived from the schema's names and types."""
    schema = tool.parameters_schema()
    args: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        if name == "start_s":
            args[name] = 0.0
        elif name == "end_s":
            args[name] = min(duration_s, 4.0)
        elif name.endswith("_s"):
            args[name] = 1.0
        elif prop.get("type") == "string":
            args[name] = "a person walking"
        elif prop.get("type") == "integer":
            args[name] = 1
        else:
            args[name] = 1.0
    return args


@pytest.fixture(params=TOOLS, ids=lambda t: t.name)
def contract_tool(request: pytest.FixtureRequest) -> Tool:
    return request.param


def test_schema_is_derivable(contract_tool: Tool):
    schema = contract_tool.schema()
    assert schema["name"].isidentifier()
    assert schema["parameters"]["type"] == "object"
    assert schema["parameters"].get("additionalProperties") is False


def test_docstring_is_complete(contract_tool: Tool):
    assert contract_tool.description, "the docstring needs a summary line"
    params = list(inspect.signature(contract_tool.fn).parameters)[1:]
    missing = [p for p in params if not contract_tool.arg_docs.get(p)]
    assert not missing, f"document these arguments under Args: {missing}"
    assert contract_tool.result_type is not None and issubclass(contract_tool.result_type, ToolResult)


def test_arguments_are_validated(contract_tool: Tool, tiny_video: Path):
    session = VideoSession(tiny_video)
    call = contract_tool.invoke(session, {"no_such_argument": 1})
    assert not call.ok and call.text.startswith(f"Error: invalid arguments for {contract_tool.name}")


def test_valid_call_returns_bounded_text_and_evidence(contract_tool: Tool, tiny_video: Path):
    session = VideoSession(tiny_video)
    call = contract_tool.invoke(session, valid_arguments(contract_tool, session.ref.duration_s))
    assert call.ok, call.error
    assert isinstance(call.result, contract_tool.result_type)
    assert 0 < len(call.text) <= MAX_OBSERVATION_CHARS
    assert isinstance(call.result.evidence(), Evidence)


def test_failures_come_back_as_error_messages(contract_tool: Tool, tiny_video: Path):
    session = VideoSession(tiny_video)
    args = valid_arguments(contract_tool, session.ref.duration_s)
    time_args = [name for name in args if name.endswith("_s")]
    if not time_args:
        pytest.skip("no time argument to push outside the video")
    args[time_args[0]] = 10_000.0
    call = contract_tool.invoke(session, args)
    assert not call.ok and call.text.startswith("Error:") and "outside the video" in call.text
