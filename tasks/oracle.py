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

``run_program(program, call_tool)`` executes a program with any ``call_tool(name, args) -> ToolResult``;
``GroundTruthTools`` answers the four default tools from a world video's ground truth, so every oracle
program answers its question exactly (the consistency test), and the same programs on the real tools give
the tools' upper bound.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from vidagent.errors import VidagentError
from vidagent.tools.results import (
    ActionResult,
    Box,
    DetectionResult,
    FrameDescription,
    GroundingResult,
    ObjectAt,
    ScoredLabel,
    ScoredSpan,
    TimeSpan,
    ToolResult,
    Track,
)

# The default tools and their argument names; oracle programs may call only these.
TOOL_ARGS: dict[str, tuple[str, ...]] = {
    "detect_objects": ("start_s", "end_s", "classes"),
    "recognize_action": ("start_s", "end_s", "track_id"),
    "ground_moment": ("query", "top_k"),
    "describe_frame": ("t_s",),
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
    "top_action": top_action,
    "top_span": top_span,
    "is_before": is_before,
    "is_after": is_after,
    "first_of": first_of,
}


# ---------------------------------------------------------------------------------------------------------
# Ground-truth tools


def _tokens(text: str) -> set[str]:
    stop = {"the", "a", "an", "is", "does", "do", "when", "on", "of"}
    words = re.findall(r"[a-z]+", text.lower())
    return {w[:-1] if w.endswith("s") and len(w) > 3 and not w.endswith("ss") else w for w in words} - stop


def _position(box: Box, width: int) -> str:
    cx = (box.x1 + box.x2) / 2
    return "left" if cx < width / 3 else ("right" if cx > 2 * width / 3 else "center")


class GroundTruthTools:
    """The four default tools, answered exactly from a world video's ground truth.

    ``call(name, args)`` has the signature ``run_program`` expects; the methods have the real tools'
    signatures, so they can also stand in for them in agent tests.
    """

    MAX_BOXES_PER_TRACK = 5

    def __init__(self, truth: Any):  # vidagent.tasks.world.truth.GroundTruth (imported lazily by callers)
        self.truth = truth

    def call(self, name: str, args: dict[str, Any]) -> ToolResult:
        if name not in TOOL_ARGS:
            raise ProgramError(f"unknown tool {name!r}", f"use one of {list(TOOL_ARGS)}")
        return getattr(self, name)(**args)

    def detect_objects(self, start_s: float, end_s: float, classes: list[str] | None = None) -> DetectionResult:
        gt = self.truth
        frames = gt.frames_in(start_s, end_s)
        per_track: dict[int, list[Box]] = {}
        simultaneous: dict[str, int] = {}
        for k in frames:
            seen: dict[str, int] = {}
            for tid, (_, x1, y1, x2, y2, _) in gt.visible_at(k).items():
                obj = gt.object(tid)
                if classes and obj.category not in classes:
                    continue
                per_track.setdefault(tid, []).append(Box(k / gt.fps, x1, y1, x2, y2, obj.category, tid))
                seen[obj.category] = seen.get(obj.category, 0) + 1
            for label, n in seen.items():
                simultaneous[label] = max(simultaneous.get(label, 0), n)
        tracks = []
        for tid in sorted(per_track):
            obj, boxes = gt.object(tid), per_track[tid]
            step = max(1, len(boxes) // self.MAX_BOXES_PER_TRACK)
            tracks.append(Track(tid, obj.category, obj.color, boxes[0].t_s, boxes[-1].t_s, boxes[::step]))
        counts: dict[str, int] = {}
        for t in tracks:
            counts[t.label] = counts.get(t.label, 0) + 1
        return DetectionResult(TimeSpan(start_s, end_s), tracks, counts, simultaneous, frames_used=len(frames))

    def recognize_action(self, start_s: float, end_s: float, track_id: int | None = None) -> ActionResult:
        gt = self.truth
        frames = gt.frames_in(start_s, end_s)
        overlap: dict[str, int] = {}
        for seg in gt.segments:
            if track_id is not None and seg.track_id != track_id:
                continue
            n = len(range(max(seg.start_frame, frames.start), min(seg.end_frame, frames.stop)))
            if n > 0:
                overlap[seg.action] = overlap.get(seg.action, 0) + n
        total = sum(overlap.values()) or 1
        actions = [ScoredLabel(label, round(n / total, 3))
                   for label, n in sorted(overlap.items(), key=lambda item: (-item[1], item[0]))]
        return ActionResult(TimeSpan(start_s, end_s), track_id, actions[:5])

    def ground_moment(self, query: str, top_k: int = 3) -> GroundingResult:
        gt = self.truth
        wanted = " ".join(query.lower().strip(" .?!").split())
        tokens = _tokens(query)
        moments = [(s.caption, s.start_s, s.end_s) for s in gt.segments]
        moments += [(e.caption, e.t_s, round(e.t_s + 1.0 / gt.fps, 3)) for e in gt.events]
        scored: list[ScoredSpan] = []
        for caption, start, end in moments:
            if caption == wanted:
                score = 1.0
            else:
                other = _tokens(caption)
                score = 0.8 * len(tokens & other) / max(len(tokens | other), 1)
            if score > 0:
                scored.append(ScoredSpan(start, end, round(score, 3)))
        scored.sort(key=lambda s: (-s.score, s.start_s))
        unique: list[ScoredSpan] = []
        for span in scored:
            if all((span.start_s, span.end_s) != (u.start_s, u.end_s) for u in unique):
                unique.append(span)
        return GroundingResult(query, unique[:top_k])

    def describe_frame(self, t_s: float) -> FrameDescription:
        gt = self.truth
        k = gt.frame_of(t_s)
        objects = []
        for tid, (_, x1, y1, x2, y2, _) in sorted(gt.visible_at(k).items()):
            obj = gt.object(tid)
            box = Box(k / gt.fps, x1, y1, x2, y2, obj.category, tid)
            objects.append(ObjectAt(obj.category, obj.color, box, _position(box, gt.width)))
        return FrameDescription(t_s, objects)
