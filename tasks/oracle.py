"""Oracle programs: the tool calls that answer a question, and the step that composes their results.

A program is data (JSON in ``questions.jsonl``)::

    {"calls": [{"id": "moment", "tool": "ground_moment", "args": {"query": "the brown dog jumps"}},
               {"id": "people", "tool": "detect_objects",
                "args": {"start_s": {"ref": "moment.spans.0.start_s"}, "end_s": {"ref": "moment.spans.0.end_s"},
                         "classes": ["person"]}}],
     "answer": {"op": "count_tracks", "args": {"result": {"ref": "people"}, "label": "person"}}}

An argument ``{"ref": "call_id.path"}`` is replaced by a value taken from an earlier call's result. A path
is a dot-separated list of attribute names, list indices, and selectors ``name[key=value,...]`` that pick
the one element of a list whose attributes match (e.g. ``det.tracks[color=red].track_id``), so programs
never hard-code track ids and run unchanged on real tools.

The ``answer`` step is one of ``COMPOSE_OPS`` (counts, yes/no, a color, an action, a moment's span, the
order of two moments, ``track_span``: the ``[first_s, last_s]`` of the first- or last-seen track of a
class and color, the one class of a group in view, an object's place in a frame); its argument names, and words such as ``which="first"``, are checked when the program is
built.

``run_program(program, call_tool)`` executes a program with any ``call_tool(name, args) -> ToolResult``;
``GroundTruthTools`` answers the default tools from a world video's ground truth (the real tools over the
``WorldTruth`` backend), so every oracle program answers its question exactly (the consistency test), and
the same programs on the world models give the tools' upper bound.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from vidagent.errors import VidagentError
from vidagent.tools.default_tools import DEFAULT_TOOL_NAMES, DefaultTools
from vidagent.tools.results import (
    ActionResult,
    DetectionResult,
    FrameDescription,
    GroundingResult,
    ScoredSpan,
    ToolResult,
)

# The default tools and their argument names, read from the tool functions; oracle programs call only these.
TOOL_ARGS: dict[str, tuple[str, ...]] = {
    name: tuple(inspect.signature(getattr(DefaultTools, name)).parameters)[2:]  # after (self, video)
    for name in DEFAULT_TOOL_NAMES
}


class ProgramError(VidagentError):
    """A program could not be executed: a reference does not resolve, or a composition step fails."""


class ToolCallSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="name under which later steps refer to this call's result")
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, value: str) -> str:
        if value not in TOOL_ARGS:
            raise ValueError(f"unknown tool {value!r}; fix: use one of {list(TOOL_ARGS)}")
        return value


class Compose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: str = Field(description="name of a composition function in COMPOSE_OPS")
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("op")
    @classmethod
    def _known_op(cls, value: str) -> str:
        if value not in COMPOSE_OPS:
            raise ValueError(f"unknown composition op {value!r}; fix: use one of {sorted(COMPOSE_OPS)}")
        return value

    @model_validator(mode="after")
    def _valid_args(self) -> Compose:
        """The op's argument names, and literal values of arguments that take one of a few words (``which``
        of ``track_span``), are checked when the program is built, not when it runs."""
        check_compose_args(self.op, self.args)
        return self


class Program(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: list[ToolCallSpec]
    answer: Compose

    @field_validator("calls")
    @classmethod
    def _valid_calls(cls, calls: list[ToolCallSpec]) -> list[ToolCallSpec]:
        seen: set[str] = set()
        for call in calls:
            unknown = set(call.args) - set(TOOL_ARGS[call.tool])
            if unknown:
                raise ValueError(f"call {call.id!r}: {call.tool} has no argument(s) {sorted(unknown)}; "
                                 f"fix: use {list(TOOL_ARGS[call.tool])}")
            for name in _refs(call.args):
                if name not in seen:
                    raise ValueError(f"call {call.id!r} refers to {name!r} before it runs; fix: reorder the calls")
            if call.id in seen:
                raise ValueError(f"duplicate call id {call.id!r}; fix: give each call its own id")
            seen.add(call.id)
        return calls

    @property
    def hops(self) -> int:
        return len(self.calls)


def ref(path: str) -> dict[str, str]:
    """An argument that takes its value from an earlier result, e.g. ``ref("moment.spans.0.start_s")``."""
    return {"ref": path}


def call(id: str, tool: str, **args: Any) -> ToolCallSpec:
    return ToolCallSpec(id=id, tool=tool, args=args)


def compose(op: str, **args: Any) -> Compose:
    return Compose(op=op, args=args)


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"ref"}


def _refs(args: Any) -> list[str]:
    if _is_ref(args):
        return [args["ref"].split(".")[0]]
    if isinstance(args, dict):
        return [name for value in args.values() for name in _refs(value)]
    if isinstance(args, list):
        return [name for value in args for name in _refs(value)]
    return []


_SELECTOR = re.compile(r"^(\w+)\[(.+)\]$")


def resolve_path(results: dict[str, Any], path: str) -> Any:
    """Follow ``path`` (``call_id.attr.0.attr[key=value]...``) through the results of earlier calls."""
    head, *parts = path.split(".")
    if head not in results:
        raise ProgramError(f"reference {path!r}: no earlier call named {head!r}", "check the call ids")
    value: Any = results[head]
    for part in parts:
        selector = _SELECTOR.match(part)
        if selector:
            items = _attribute(value, selector.group(1), path)
            conditions = dict(item.split("=", 1) for item in selector.group(2).split(","))
            matches = [item for item in items
                       if all(str(getattr(item, key, None)) == wanted for key, wanted in conditions.items())]
            if len(matches) != 1:
                raise ProgramError(f"reference {path!r}: {len(matches)} items match [{selector.group(2)}], "
                                   "expected exactly one", "the tool result does not single out one object")
            value = matches[0]
        elif part.isdigit():
            index = int(part)
            if not isinstance(value, list) or index >= len(value):
                raise ProgramError(f"reference {path!r}: no item {index}", "the tool returned fewer results")
            value = value[index]
        else:
            value = _attribute(value, part, path)
    return value


def _attribute(value: Any, name: str, path: str) -> Any:
    if isinstance(value, dict):
        if name in value:
            return value[name]
    elif name in getattr(type(value), "__dataclass_fields__", {}):
        return getattr(value, name)
    raise ProgramError(f"reference {path!r}: {type(value).__name__} has no field {name!r}", "fix the path")


def _substitute(args: Any, results: dict[str, Any]) -> Any:
    if _is_ref(args):
        return resolve_path(results, args["ref"])
    if isinstance(args, dict):
        return {key: _substitute(value, results) for key, value in args.items()}
    if isinstance(args, list):
        return [_substitute(value, results) for value in args]
    return args


@dataclass
class ProgramStep:
    id: str
    tool: str
    args: dict[str, Any]  # with references resolved
    result: ToolResult


@dataclass
class ProgramRun:
    answer: Any
    steps: list[ProgramStep] = field(default_factory=list)


def run_program(program: Program, call_tool: Callable[[str, dict[str, Any]], ToolResult]) -> ProgramRun:
    """Execute the calls in order (resolving references), then the composition step."""
    results: dict[str, Any] = {}
    steps = []
    for spec in program.calls:
        args = _substitute(spec.args, results)
        result = call_tool(spec.tool, args)
        results[spec.id] = result
        steps.append(ProgramStep(spec.id, spec.tool, args, result))
    args = _substitute(program.answer.args, results)
    return ProgramRun(COMPOSE_OPS[program.answer.op](**args), steps)


# ---------------------------------------------------------------------------------------------------------
# Composition ops: pure functions of tool results (and literal parameters) -> answer


def check_compose_args(op: str, args: dict[str, Any]) -> None:
    """``ValueError`` (with a fix) if ``args`` do not fit composition op ``op``: an unknown or missing argument
    name, or a literal (non-reference) value outside a ``Literal[...]`` parameter's words."""
    function = COMPOSE_OPS[op]
    params = inspect.signature(function).parameters
    unknown = sorted(set(args) - set(params))
    if unknown:
        raise ValueError(f"composition op {op!r} has no argument(s) {unknown}; fix: use {list(params)}")
    missing = [name for name, p in params.items() if p.default is inspect.Parameter.empty and name not in args]
    if missing:
        raise ValueError(f"composition op {op!r} needs argument(s) {missing}; fix: pass them in its args")
    hints = typing.get_type_hints(function)
    for name, value in args.items():
        words = typing.get_args(hints.get(name)) if typing.get_origin(hints.get(name)) is Literal else ()
        if words and not _is_ref(value) and value not in words:
            raise ValueError(f"composition op {op!r}: {name}={value!r} is not one of {list(words)}; "
                             f"fix: pass {name} as one of {list(words)}")


def _items(result: ToolResult) -> list[tuple[str, str]]:
    """(label, color) of each object a detection or frame description reports."""
    if isinstance(result, DetectionResult):
        return [(t.label, t.color) for t in result.tracks]
    if isinstance(result, FrameDescription):
        return [(o.label, o.color) for o in result.objects]
    raise ProgramError(f"expected detect_objects or describe_frame output, got {type(result).__name__}",
                       "pass the result of detect_objects or describe_frame")


def _matching(result: ToolResult, label: str | None, color: str | None) -> list[tuple[str, str]]:
    return [(lab, col) for lab, col in _items(result)
            if (label is None or lab == label) and (color is None or col == color)]


def count_tracks(result: ToolResult, label: str | None = None, color: str | None = None) -> int:
    """Number of distinct objects (tracks, or objects in a frame) with this label and color."""
    return len(_matching(result, label, color))


def exists(result: ToolResult, label: str | None = None, color: str | None = None) -> str:
    return "yes" if _matching(result, label, color) else "no"


def color_of(result: ToolResult, label: str) -> str:
    found = _matching(result, label, None)
    if len(found) != 1:
        raise ProgramError(f"color_of: {len(found)} objects labelled {label!r}, expected exactly one",
                           "narrow the time range or the class")
    return found[0][1]


def track_span(result: DetectionResult, label: str | None = None, color: str | None = None,
               which: Literal["first", "last"] = "first") -> list[float]:
    """``[first_s, last_s]`` of one detect_objects track with this label and color: with ``which="first"``
    the one seen first (earliest ``first_s``), with ``"last"`` the one seen last (latest ``last_s``); ties go
    to the earlier start for "first" and the later end for "last" (tracks tied on both have the same span)."""
    if not isinstance(result, DetectionResult):
        raise ProgramError(f"track_span: expected detect_objects output, got {type(result).__name__}",
                           "pass the result of detect_objects (tracks carry the times they are seen)")
    if which not in ("first", "last"):
        raise ProgramError(f"track_span: which={which!r} is not 'first' or 'last'",
                           "pass which='first' or which='last'")
    tracks = [t for t in result.tracks
              if (label is None or t.label == label) and (color is None or t.color == color)]
    if not tracks:
        wanted = " ".join(w for w in (color, label) if w) or "object"
        raise ProgramError(f"track_span: no {wanted} track in {result.span}",
                           "check the class and color, or widen the time range of detect_objects")
    if which == "first":
        track = min(tracks, key=lambda t: (t.first_s, t.last_s))
    else:
        track = max(tracks, key=lambda t: (t.last_s, t.first_s))
    return [track.first_s, track.last_s]


def only_label(result: ToolResult, among: list[str]) -> str:
    """The one class of ``among`` that the detection or frame shows ("What kind of animal is in it?")."""
    found = sorted({label for label, _ in _items(result) if label in among})
    if len(found) != 1:
        raise ProgramError(f"only_label: {len(found)} of the classes {among} seen ({', '.join(found) or 'none'}), "
                           "expected exactly one", "ask about a video with one of them")
    return found[0]


def position_of(result: FrameDescription, label: str, color: str) -> str:
    """Where one object is in a described frame, left to right: "left", "center" or "right"."""
    if not isinstance(result, FrameDescription):
        raise ProgramError(f"position_of: expected describe_frame output, got {type(result).__name__}",
                           "pass the result of describe_frame")
    found = [o for o in result.objects if o.label == label and o.color == color]
    if len(found) != 1:
        raise ProgramError(f"position_of: {len(found)} {color} {label} objects at {result.t_s:.1f}s, expected one",
                           "ask about a time when the object is on screen")
    return found[0].position.split()[-1]  # "top left" -> "left"


def top_action(result: ActionResult) -> str:
    if not result.actions:
        raise ProgramError("top_action: the action recognizer returned nothing", "check the track and time range")
    return result.actions[0].label


def _top(result: GroundingResult) -> ScoredSpan:
    if not result.spans:
        raise ProgramError(f"no moment found for {result.query!r}", "rephrase the query")
    return result.spans[0]


def top_span(result: GroundingResult) -> list[float]:
    span = _top(result)
    return [span.start_s, span.end_s]


def is_before(a: GroundingResult, b: GroundingResult) -> str:
    """"yes" if the best moment of ``a`` starts before the best moment of ``b``."""
    return "yes" if _top(a).start_s < _top(b).start_s else "no"


def is_after(a: GroundingResult, b: GroundingResult) -> str:
    return "yes" if _top(a).start_s > _top(b).start_s else "no"


def first_of(a: GroundingResult, b: GroundingResult, options: list[str]) -> str:
    """``options[0]`` if moment ``a`` starts first, else ``options[1]``."""
    return options[0] if _top(a).start_s <= _top(b).start_s else options[1]


COMPOSE_OPS: dict[str, Callable[..., Any]] = {
    "count_tracks": count_tracks,
    "exists": exists,
    "color_of": color_of,
    "track_span": track_span,
    "top_action": top_action,
    "only_label": only_label,
    "position_of": position_of,
    "top_span": top_span,
    "is_before": is_before,
    "is_after": is_after,
    "first_of": first_of,
}


# ---------------------------------------------------------------------------------------------------------
# Ground-truth tools


class GroundTruthTools:
    """The default tools answered from one world video's ground truth (no video file needed).

    ``call(name, args)`` has the signature ``run_program`` expects. The tools are the real default tools
    over the ``WorldTruth`` backend, so argument checks, class names and errors are those of inference.
    """

    def __init__(self, truth: Any):  # vidagent.tasks.world.truth.GroundTruth
        from vidagent.tasks.world_truth import WorldTruth, truth_video_ref  # noqa: PLC0415
        from vidagent.tools.video import VideoSession  # noqa: PLC0415

        self.truth = truth
        ref = truth_video_ref(truth)
        self.session = VideoSession(ref)
        self.tools = {t.name: t for t in DefaultTools(WorldTruth({ref.path: truth})).tools()}

    def call(self, name: str, args: dict[str, Any]) -> ToolResult:
        if name not in self.tools:
            raise ProgramError(f"unknown tool {name!r}", f"use one of {list(self.tools)}")
        return self.tools[name](self.session, **args)
