"""The tool framework: schema from signature + docstring, validation, error observations, Toolbox."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import Field

from vidagent.errors import (
    ConfigError,
    ToolArgumentError,
    ToolCrash,
    ToolDefinitionError,
    ToolError,
    VideoError,
)
from vidagent.tools import Tool, Toolbox, VideoSession, VisionTool, tool
from vidagent.tools.base import ARGUMENT_ERROR_TEMPLATE, parse_docstring
from vidagent.tools.results import MAX_OBSERVATION_CHARS, Box, TimeSpan, ToolResult


@dataclass
class Echo(ToolResult):
    span: TimeSpan
    label: str

    def render(self) -> str:
        return f"{self.label} in {self.span} " * 200  # deliberately long: to_text must bound it


@dataclass
class BadRender(ToolResult):
    def render(self) -> str:
        raise KeyError("missing field")


@tool
def echo(video: VideoSession, start_s: float, end_s: float, label: str = "x") -> Echo:
    """Echo a span back.

    Args:
        start_s: Start in seconds.
        end_s: End in seconds,
            continued on a second line.
        label: A label.
    """
    return Echo(TimeSpan(start_s, end_s), label)


def test_schema_from_signature_and_docstring():
    schema = echo.schema()
    assert schema["name"] == "echo"
    assert schema["description"] == "Echo a span back."
    props = schema["parameters"]["properties"]
    assert props["start_s"] == {"type": "number", "description": "Start in seconds."}
    assert props["end_s"]["description"] == "End in seconds, continued on a second line."
    assert props["label"]["default"] == "x"
    assert schema["parameters"]["required"] == ["start_s", "end_s"]
    assert echo.card() == "echo(start_s: float, end_s: float, label?: str) - Echo a span back."


def test_parse_docstring_sections():
    text, args = parse_docstring("""Do a thing.

    More detail.

    Args:
        a (int): First.
        b: Second.

    Returns:
        Nothing.
    """)
    assert text == "Do a thing. More detail."
    assert args == {"a": "First.", "b": "Second."}


def test_call_validates_and_coerces(tiny_video: Path):
    session = VideoSession(tiny_video)
    assert echo(session, start_s="1", end_s=2).span == TimeSpan(1.0, 2.0)
    with pytest.raises(ToolArgumentError, match="end_s: Field required"):
        echo(session, start_s=1)
    with pytest.raises(ToolArgumentError, match="unexpected argument"):
        echo(session, start_s=1, end_s=2, path="/etc/passwd")


def test_invoke_turns_failures_into_error_observations(tiny_video: Path):
    session = VideoSession(tiny_video)
    bad = echo.invoke(session, {"start_s": "soon", "end_s": 2})
    assert not bad.ok and bad.text.startswith("Error: invalid arguments for echo: start_s:")
    assert bad.text.endswith("Fix the arguments and call it again.")
    assert ARGUMENT_ERROR_TEMPLATE.split("{")[0] in bad.text

    @tool
    def explode(video: VideoSession) -> Echo:
        """Always fails."""
        raise VideoError("decoder broke")

    failed = explode.invoke(session, {})
    assert failed.text == "Error: explode failed: decoder broke. Try other arguments or another tool."



def test_a_bug_in_a_tool_raises_for_the_developer(tiny_video: Path):
    """As LangGraph's ToolNode: reported failures are observations, anything else is a crash that stops the run."""
    session = VideoSession(tiny_video)

    @tool
    def buggy(video: VideoSession) -> Echo:
        """Has a bug."""
        return 1 / 0

    with pytest.raises(ToolCrash, match=r"tool buggy crashed: ZeroDivisionError: division by zero at .*in buggy") as crash:
        buggy.invoke(session, {})
    assert "ToolError" in crash.value.fix and isinstance(crash.value.__cause__, ZeroDivisionError)

    @tool
    def renders_badly(video: VideoSession) -> BadRender:
        """Returns a result whose text cannot be made."""
        return BadRender()

    with pytest.raises(ToolCrash, match="KeyError"):
        renders_badly.invoke(session, {})

    @tool
    def picky(video: VideoSession, n: int) -> Echo:
        """Rejects odd numbers the way a tool should: with a ToolError the model can act on.

        Args:
            n: An even number.
        """
        if n % 2:
            raise ToolError(f"{n} is odd", "pass an even number")
        return Echo(TimeSpan(0.0, 1.0), str(n))

    assert picky.invoke(session, {"n": 3}).text == "Error: picky failed: 3 is odd. Try other arguments or another tool."


def test_to_text_is_bounded(tiny_video: Path):
    call = echo.invoke(VideoSession(tiny_video), {"start_s": 0, "end_s": 1})
    assert call.ok and len(call.text) <= MAX_OBSERVATION_CHARS and call.text.endswith("more chars]")


@dataclass
class Sighting(ToolResult):
    seen: list[TimeSpan]
    box: Box
    track_id: int | None
    note: str = ""

    def render(self) -> str:
        return self.note


def test_a_user_result_cites_its_own_spans_boxes_and_track_by_default():
    box = Box(1.0, 0, 0, 10, 10, "dog", 3)
    cited = Sighting([TimeSpan(0, 1), TimeSpan(2, 3), TimeSpan(0, 1)], box, 3).evidence()
    assert cited.spans == [TimeSpan(0, 1), TimeSpan(2, 3)] and cited.boxes == [box] and cited.track_ids == [3]
    assert Sighting([], box, None).evidence().track_ids == []
    assert BadRender().evidence().spans == []


def test_tools_need_a_video_parameter_and_annotations():
    def no_video(start_s: float) -> Echo:
        """x"""

    with pytest.raises(ToolDefinitionError, match="first parameter must be `video"):
        Tool(no_video)

    def untyped(video, start_s) -> Echo:
        """x

        Args:
            start_s: Start.
        """

    with pytest.raises(ToolDefinitionError, match="needs a type annotation"):
        Tool(untyped)

    def undocumented(video: VideoSession, start_s: float, end_s: float) -> Echo:
        """Has a summary but documents only one argument.

        Args:
            start_s: Start.
        """

    with pytest.raises(ToolDefinitionError, match=r"does not describe \['end_s'\]") as error:
        Tool(undocumented)
    assert "Args:" in error.value.fix


def test_vision_tool_sets_up_lazily_once(tiny_video: Path):
    class Counter(VisionTool):
        name = "counter"
        setups = 0

        def setup(self) -> None:
            type(self).setups += 1

        def run(self, video: VideoSession, start_s: float) -> Echo:
            """Count.

            Args:
                start_s: Start.
            """
            return Echo(TimeSpan(start_s, start_s), "c")

    box = Toolbox([Counter()])
    assert Counter.setups == 0
    session = VideoSession(tiny_video)
    box.invoke(session, "counter", {"start_s": 1})
    box.invoke(session, "counter", {"start_s": 2})
    assert Counter.setups == 1


def test_toolbox_duplicates_unknown_and_register():
    box = Toolbox([echo])
    with pytest.raises(ConfigError, match="two tools are named 'echo'"):
        box.register(echo)
    call = box.invoke(None, "zoom", {})
    assert call.text == "Error: there is no tool named 'zoom'. Available tools: echo."
    assert box.names == ["echo"] and "echo" in box


def test_result_cache_serves_second_call(tiny_video: Path, result_cache):
    calls = []

    @tool
    def counted(video: VideoSession, start_s: float) -> Echo:
        """Count calls.

        Args:
            start_s: Start.
        """
        calls.append(start_s)
        return Echo(TimeSpan(start_s, start_s), "c")

    session = VideoSession(tiny_video, result_cache=result_cache)
    first = counted.invoke(session, {"start_s": 1})
    second = counted.invoke(session, {"start_s": 1.0})  # same canonical arguments
    assert calls == [1.0] and second.cached and second.result == first.result
    assert (result_cache.hits, result_cache.misses) == (1, 1)


def test_langchain_adapter_round_trip(tiny_video: Path):
    from langchain_core.messages import ToolMessage

    (lc_tool,) = Toolbox([echo]).as_langchain_tools()
    assert lc_tool.name == "echo" and lc_tool.args["start_s"]["type"] == "number"
    config = {"configurable": {"video_session": VideoSession(tiny_video)}}
    message = lc_tool.invoke({"type": "tool_call", "id": "1", "name": "echo",
                              "args": {"start_s": 0, "end_s": 1}}, config=config)
    assert isinstance(message, ToolMessage) and message.content.startswith("x in 0.0-1.0s")
    assert message.artifact.result.label == "x"
    bad = lc_tool.invoke({"type": "tool_call", "id": "2", "name": "echo", "args": {"start_s": "a"}}, config=config)
    assert bad.content.startswith("Error: invalid arguments for echo")


def test_annotated_bounds_reach_the_schema_the_card_and_validation(tiny_video: Path):
    @tool
    def sample(video: VideoSession, count: Annotated[int, Field(ge=1, le=10)] = 3) -> Echo:
        """Sample a few frames.

        Args:
            count: How many frames (1-10).
        """
        return Echo(TimeSpan(0.0, 1.0), str(count))

    prop = sample.parameters_schema()["properties"]["count"]
    assert (prop["minimum"], prop["maximum"], prop["description"]) == (1, 10, "How many frames (1-10).")
    assert "count?: int 1-10" in sample.card()
    call = sample.invoke(VideoSession(tiny_video), {"count": 0})
    assert not call.ok and "count: Input should be greater than or equal to 1" in call.text
