"""One contract, every tool, every backend: the default tools over the world models and over the world's
ground truth, plus the example user tool. New tools and new backends get it for free.

The parity tests hold the backends together: the same call on the same world video gives observations of
the same form (same error texts, same wording, same fields) from ground truth and from the models, so
what the planner learns in ground-truth rollouts is what it meets at inference.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from vidagent.tasks.world.truth import load_ground_truth
from vidagent.tasks.world_truth import WorldTruth
from vidagent.tools import Tool, Toolbox, VideoSession
from vidagent.tools.results import MAX_OBSERVATION_CHARS, Evidence, ToolResult
from vidagent.tools.profiles import profile_toolbox
from vidagent.tools.toolbox import load_tool_spec

REPO = Path(__file__).resolve().parents[1]
WORLD_VIDEO = REPO / "examples" / "world" / "street.mp4"  # 9.3 s: two people, two cars and a dog
motion_energy = load_tool_spec(str(REPO / "examples" / "custom_tool.py") + ":motion_energy")

TOOLBOXES: dict[str, Toolbox] = {
    "world": Toolbox.default([motion_energy]),
    # pretrained real-footage models, list_segments included (on this cartoon video: form, not accuracy)
    "real-long": profile_toolbox("real-long"),
    "world-truth": Toolbox.default(perception=WorldTruth(
        {str(WORLD_VIDEO.resolve()): load_ground_truth(WORLD_VIDEO.with_suffix(".json"))})),
}
CASES = [(profile, tool) for profile, box in TOOLBOXES.items() for tool in box]


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


@pytest.fixture(params=CASES, ids=lambda case: f"{case[0]}:{case[1].name}")
def contract_tool(request: pytest.FixtureRequest) -> Tool:
    return request.param[1]


@pytest.fixture(scope="module")
def session() -> VideoSession:
    return VideoSession(WORLD_VIDEO)


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


def test_arguments_are_validated(contract_tool: Tool, session: VideoSession):
    call = contract_tool.invoke(session, {"no_such_argument": 1})
    assert not call.ok and call.text.startswith(f"Error: invalid arguments for {contract_tool.name}")


def test_valid_call_returns_bounded_text_and_evidence(contract_tool: Tool, session: VideoSession):
    call = contract_tool.invoke(session, valid_arguments(contract_tool, session.ref.duration_s))
    assert call.ok, call.error
    assert isinstance(call.result, contract_tool.result_type)
    assert 0 < len(call.text) <= MAX_OBSERVATION_CHARS
    assert isinstance(call.result.evidence(), Evidence)


def test_failures_come_back_as_error_messages(contract_tool: Tool, session: VideoSession):
    args = valid_arguments(contract_tool, session.ref.duration_s)
    time_args = [name for name in args if name.endswith("_s")]
    if not time_args:
        pytest.skip("no time argument to push outside the video")
    args[time_args[0]] = 10_000.0
    call = contract_tool.invoke(session, args)
    assert not call.ok and call.text.startswith("Error:") and "outside the video" in call.text


def test_every_backend_offers_the_same_tools_with_the_same_schema():
    models, truth = TOOLBOXES["world"], TOOLBOXES["world-truth"]
    shared = [name for name in models.names if name in truth]
    assert shared == truth.names == ["detect_objects", "recognize_action", "ground_moment", "describe_frame"]
    assert [models[n].schema() for n in shared] == [truth[n].schema() for n in shared]
    assert models.cards().splitlines()[:4] == truth.cards().splitlines()


# ---------------------------------------------------------------------------------------------------------
# Parity: the same call, the same form of observation

# What may differ between backends is what they perceive (numbers, colors, which labels); the shapes may not.
FORMS = {
    "detect_objects": re.compile(r"(In \d+\.\d-\d+\.\ds: .+ \(max at once: .+\)\.(\ntrack \d+: \w+ \w+( \w+)?, seen "
                                 r"\d+\.\d-\d+\.\ds)+|No objects found in \d+\.\d-\d+\.\ds \(\d+ frames\)\.)"),
    "recognize_action": re.compile(r"Actions of (track \d+|the scene) in \d+\.\d-\d+\.\ds: ([\w-]+ \d\.\d\d(, )?)+\.|"
                                   r"No tracked objects in \d+\.\d-\d+\.\ds, so no actions to recognise\."),
    "ground_moment": re.compile(r'(Moments for ".+": (\d+\.\d-\d+\.\ds \(\d\.\d\d\)(, )?)+\.|No moment matches ".+"\.)'),
    "describe_frame": re.compile(r"At \d+\.\ds: ((\w+ \w+( \w+)? \(((top|bottom) )?(left|center|right), track \d+\)"
                                 r"(; )?)+\.|no objects visible\.)( Scene: [^.]+\.)?( Text: .+\.)?"),
}
PARITY_CALLS = [
    ("detect_objects", {"start_s": 0.0, "end_s": 9.0}),
    ("detect_objects", {"start_s": 0.0, "end_s": 9.0, "classes": ["cars"]}),
    ("detect_objects", {"start_s": 0.0, "end_s": 9.0, "classes": ["people", "automobile"]}),
    ("detect_objects", {"start_s": 0.0, "end_s": 9.0, "classes": ["objects"]}),
    ("recognize_action", {"start_s": 0.0, "end_s": 4.0}),
    ("ground_moment", {"query": "the white car drives"}),
    ("describe_frame", {"t_s": 2.0}),
]


@pytest.mark.parametrize(("name", "args"), PARITY_CALLS, ids=lambda x: str(x))
def test_both_backends_answer_in_the_same_form(session: VideoSession, name: str, args: dict[str, Any]):
    for profile, box in TOOLBOXES.items():
        call = box[name].invoke(session, args)
        assert call.ok, (profile, call.error)
        assert FORMS[name].fullmatch(call.text), (profile, call.text)


def test_class_synonyms_resolve_the_same_on_both_backends(session: VideoSession):
    for profile, box in TOOLBOXES.items():
        cars = box["detect_objects"](session, start_s=0.0, end_s=9.0, classes=["cars"])
        # the real models see these cartoon cars or not; they must never answer another class
        assert set(cars.counts) == {"car"} or (profile == "real-long" and set(cars.counts) <= {"car"}), cars.counts
        every = box["detect_objects"](session, start_s=0.0, end_s=9.0, classes=["anything"])
        assert every.counts == box["detect_objects"](session, start_s=0.0, end_s=9.0).counts


ERROR_CALLS = [
    ("detect_objects", {"start_s": 0.0, "end_s": 9.0, "classes": ["dragon"]}),
    ("detect_objects", {"start_s": 50.0, "end_s": 60.0}),
    ("recognize_action", {"start_s": 0.0, "end_s": 4.0, "track_id": 987654}),
    ("ground_moment", {"query": "   "}),
    ("ground_moment", {"query": "a dog", "top_k": 50}),
    ("describe_frame", {"t_s": -1.0}),
]


@pytest.mark.parametrize(("name", "args"), ERROR_CALLS, ids=lambda x: str(x))
def test_both_backends_give_the_same_error_text(session: VideoSession, name: str, args: dict[str, Any]):
    texts = {profile: box[name].invoke(session, args).text for profile, box in TOOLBOXES.items()}
    # a track list (or class list) names what each backend sees; everything else is the same
    shapes = {re.sub(r"the detector knows: .*", "the detector knows: ...",
                     re.sub(r"\(tracks there: .*\)", "(tracks there: ...)", text)) for text in texts.values()}
    assert len(shapes) == 1, texts
    assert next(iter(shapes)).startswith("Error:")


def test_the_docs_list_each_default_tool_with_its_real_signature():
    """The signatures in README.md and docs/tools.md are those of the tool functions."""
    docs = (REPO / "README.md").read_text() + (REPO / "docs" / "tools.md").read_text()
    for tool in TOOLBOXES["world-truth"]:
        schema = tool.parameters_schema()
        required = set(schema.get("required", []))
        line = f"`{tool.name}(" + ", ".join(n if n in required else f"{n}?" for n in schema["properties"]) + ")`"
        assert docs.count(line) >= 2, f"README.md and docs/tools.md should show {line}"
