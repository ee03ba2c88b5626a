"""The planner's prompts and the model-facing messages of the loop. Tests assert on these constants.

Zero-shot, SmolLM2-135M answers directly instead of calling tools; a few worked examples in the system
prompt make it use the format (the LoRA adapter from ``vidagent.policies`` is trained on it for real).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from vidagent.agent.parsing import format_answer, format_tool_call
from vidagent.tools.results import (
    ActionResult,
    DetectionResult,
    GroundingResult,
    ScoredLabel,
    ScoredSpan,
    TimeSpan,
    Track,
)

NO_ACTION_TEMPLATE = (
    "Error: your reply has neither a tool call nor an answer. Call a tool, for example {example}, "
    "or write the final answer between <answer> and </answer>."
)
NO_ACTION_NO_TOOLS = "Error: your reply has no answer. Write the final answer between <answer> and </answer>."
TOOL_BUDGET_TEMPLATE = (
    "Error: the tool-call budget is used up ({used} of {limit} calls); {name} was not run. "
    "Write your final answer now, between <answer> and </answer>."
)
ANSWER_IS_TOOL_TEMPLATE = (
    "Error: \"{answer}\" is the name of the tool {name}, not an answer. Call the tool first, for example "
    "{example}, then answer from its result."
)
ANSWER_SHAPE_TEMPLATE = (
    "Error: \"{answer}\" is not {wanted}. Read the tool results again and write the answer as {wanted}, "
    "between <answer> and </answer>."
)
YES_NO_TO_WH_TEMPLATE = (
    "Error: \"{answer}\" answers a yes/no question, but this question asks {wh}. Read the tool results again "
    "and write what they show (a name, a colour, a text), between <answer> and </answer>."
)
WH_TO_YES_NO_TEMPLATE = (
    "Error: \"{answer}\" is no answer to a yes/no question. Read the tool results again and answer yes or no, "
    "between <answer> and </answer>."
)
TIME_AS_COUNT_TEMPLATE = (
    "Error: {answer} is the time the question names ({time} s), not a count. Count what the tool results show "
    "at that time and write that number between <answer> and </answer>."
)
LAST_TURN_MESSAGE = "This is your last turn: write your final answer now, between <answer> and </answer>."

SYSTEM_TEMPLATE = """You answer questions about a video by calling tools. The video is already loaded: \
never pass a file path. Times are in seconds.

Tools:
{cards}

To call a tool, write:
<tool_call>{{"name": "TOOL", "arguments": {{...}}}}</tool_call>
The result comes back in <tool_response>. Call tools until you know the answer, then write:
<answer>ANSWER</answer>
An answer is short: a number, a time span such as 2.0-4.5, one of the options, or a word.
{examples}"""

NATIVE_SYSTEM_TEMPLATE = """You answer questions about a video by calling the tools you are given. The \
video is already loaded: never pass a file path. Times are in seconds. Call tools until you know the \
answer, then reply with the final answer inside tags: <answer>ANSWER</answer>. An answer is short: a \
number, a time span such as 2.0-4.5, one of the options, or a word."""


@dataclass(frozen=True)
class Example:
    question: str
    calls: list[tuple[str, dict[str, Any], str]]  # (tool, arguments, observation)
    answer: str


# Worked examples over the default tools; an example is shown only when all its tools are in the toolbox.
# The observations are rendered by the tools' own result classes, so they cannot drift from what a real
# call returns.
EXAMPLES = [
    Example("How many dogs appear in the video? (the video runs from 0.0 s to 10.0 s)",
            [("detect_objects", {"start_s": 0, "end_s": 10, "classes": ["dog"]},
              DetectionResult(TimeSpan(0.0, 10.0), [Track(1, "dog", "brown", 0.0, 6.2), Track(4, "dog", "white", 3.1, 10.0)],
                              {"dog": 2}, {"dog": 2}).to_text())],
            "2"),
    Example("When does the person jump? (the video runs from 0.0 s to 8.0 s)",
            [("ground_moment", {"query": "a person jumps", "top_k": 1},
              GroundingResult("a person jumps", [ScoredSpan(3.0, 4.5, 0.81)]).to_text())],
            "3.0-4.5"),
    Example("What does the red car do after the ball appears? (the video runs from 0.0 s to 12.0 s)",
            [("ground_moment", {"query": "a ball appears", "top_k": 1},
              GroundingResult("a ball appears", [ScoredSpan(5.0, 6.0, 0.77)]).to_text()),
             ("detect_objects", {"start_s": 5, "end_s": 12, "classes": ["car"]},
              DetectionResult(TimeSpan(5.0, 12.0), [Track(2, "car", "red", 5.0, 11.0)], {"car": 1}, {"car": 1}).to_text()),
             ("recognize_action", {"start_s": 5, "end_s": 12, "track_id": 2},
              ActionResult(TimeSpan(5.0, 12.0), 2, [ScoredLabel("stop", 0.71), ScoredLabel("drive", 0.20)]).to_text())],
            "stop"),
]


def system_prompt(tool_schemas: list[dict[str, Any]], cards: str, *, native_tools: bool) -> str:
    """The system message: tool cards, the call/answer format and worked examples (text format), or a
    short instruction when the model gets the tools natively (``bind_tools``)."""
    if native_tools:
        return NATIVE_SYSTEM_TEMPLATE
    names = {s["name"] for s in tool_schemas}
    examples = [e for e in EXAMPLES if all(name in names for name, _, _ in e.calls)]
    if not examples and tool_schemas:
        examples = [generic_example(tool_schemas[0])]
    shown = "\n".join(render_example(e) for e in examples)
    return SYSTEM_TEMPLATE.format(cards=cards or "(none)", examples=f"\nExamples:\n{shown}" if shown else "")


def no_action_message(tool_schemas: list[dict[str, Any]]) -> str:
    """The correction after a reply with neither a call nor an answer, with a concrete, valid call (a
    small model copies placeholders such as ``{...}`` literally)."""
    if not tool_schemas:
        return NO_ACTION_NO_TOOLS
    name, arguments, _ = generic_example(tool_schemas[0]).calls[0]
    return NO_ACTION_TEMPLATE.format(example=format_tool_call(name, arguments))


def tool_named_by(answer: str, tool_schemas: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The tool whose name the answer is (up to case, spaces and a typo: "Lightning level" for
    ``lighting_level``): a small planner sometimes writes the tool it means to call as its answer."""
    said = re.sub(r"[\s-]+", "_", answer.strip().strip("`'\".()").lower())
    if not said or not re.fullmatch(r"[a-z0-9_]+", said) or "_" not in said and len(said) < 6:
        return None  # one short word ("yes", "car") is an answer even when a tool is called that
    for schema in tool_schemas:
        if difflib.SequenceMatcher(None, said, schema["name"].lower()).ratio() >= TOOL_NAME_SIMILARITY:
            return schema
    return None


TOOL_NAME_SIMILARITY = 0.85  # "lightning_level" vs "lighting_level": 0.97; "scene" vs "scene_type": 0.67


def answer_is_tool_message(answer: str, schema: dict[str, Any]) -> str:
    name, arguments, _ = generic_example(schema).calls[0]
    return ANSWER_IS_TOOL_TEMPLATE.format(answer=answer.strip(), name=schema["name"],
                                          example=format_tool_call(name, arguments))


WH_WORDS = ("what", "which", "who", "whose", "where", "when", "how")
# the first words of a yes/no question ("Is there a dog?"; "Is it red or blue?" is not one: it has an "or")
YES_NO_WORDS = ("is", "are", "was", "were", "does", "do", "did", "can", "could", "has", "have", "will")
# a time the question names: "at 25 s", "around 12.5 seconds"
QUESTION_TIME = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)\b", re.IGNORECASE)


def answer_shape_message(answer: str, answer_type: str | None, choices: list[str] | None,
                         question: str | None = None) -> str | None:
    """A correction when the answer cannot be what the question asks: no number, time span or option where
    it asks for one ("no" to "When is the caption shown?", "nothing" to four options), "yes"/"no" to a
    what/which/who question, or a count that is the time the question names ("40" to "How many people are
    visible at 40 s?": small planners copy it). None when it fits or the question does not say what it
    wants. Read with the one answer parser, as the scorer reads it."""
    from vidagent.agent.answer import coerce_value  # noqa: PLC0415 - answer.py imports the tool results

    kind = "choice" if choices else answer_type
    words = (question or "").strip().lower().split()
    # "No.", "yes, at 2 s" are a yes or a no; "no one" is not
    yes_no = re.split(r"[,.;!]", answer.strip().lower())[0].strip() in ("yes", "no", "yeah", "yep", "nope")
    if kind in ("label", None) and words and words[0] in WH_WORDS and yes_no:
        return YES_NO_TO_WH_TEMPLATE.format(answer=answer.strip(), wh=f"{words[0]}...")
    if kind == "label" and words and words[0] in YES_NO_WORDS and "or" not in words and not yes_no:
        return WH_TO_YES_NO_TEMPLATE.format(answer=answer.strip())
    if kind not in ("number", "interval", "choice"):
        return None
    _, value, _ = coerce_value(answer, kind, choices)
    if value is not None:
        if kind == "number" and words[:2] == ["how", "many"]:
            times = [float(t) for t in QUESTION_TIME.findall(question or "")]
            if any(abs(float(value) - t) < 1e-9 for t in times):
                return TIME_AS_COUNT_TEMPLATE.format(answer=answer.strip(), time=f"{float(value):g}")
        return None
    wanted = {"number": "a number", "interval": "a time span in seconds, such as 2.0-4.5",
              "choice": "one of the options: " + "; ".join(f"{chr(65 + i)}) {c}" for i, c in enumerate(choices or []))}
    return ANSWER_SHAPE_TEMPLATE.format(answer=answer.strip(), wanted=wanted[kind])


def render_example(example: Example) -> str:
    lines = [f"Question: {example.question}"]
    for name, arguments, observation in example.calls:
        lines.append(format_tool_call(name, arguments))
        lines.append(f"<tool_response>{observation}</tool_response>")
    lines.append(format_answer(example.answer))
    return "\n".join(lines) + "\n"


def generic_example(schema: dict[str, Any]) -> Example:
    """A format-only example for a toolbox without the default tools: one call with plausible arguments."""
    props = schema["parameters"].get("properties", {})
    required = schema["parameters"].get("required", list(props))
    arguments = {name: _sample_value(name, props[name]) for name in required}
    return Example("What happens in the video? (the video runs from 0.0 s to 10.0 s)",
                   [(schema["name"], arguments, "(the tool's result)")], "(a short answer)")


def _sample_value(name: str, prop: dict[str, Any]) -> Any:
    kind = prop.get("type") or next((p.get("type") for p in prop.get("anyOf", []) if p.get("type") != "null"), "")
    if "enum" in prop:
        return prop["enum"][0]
    if kind in ("number", "integer"):
        value = 10 if "end" in name else 0 if "start" in name else 1
        return float(value) if kind == "number" else value
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    return "a person walks" if kind == "string" else None


def user_message(question: str, *, duration_s: float, width: int, height: int, fps: float,
                 answer_type: str | None = None, choices: list[str] | None = None) -> str:
    lines = [f"The video runs from 0.0 s to {duration_s:.1f} s ({width}x{height}, {fps:g} fps).",
             f"Question: {question}"]
    if choices:
        lines.append("Options: " + "; ".join(f"{chr(65 + i)}) {c}" for i, c in enumerate(choices)))
    if answer_type == "interval":
        lines.append("Answer with a time span in seconds, like 2.0-4.5.")
    elif answer_type == "number":
        lines.append("Answer with a number.")
    elif answer_type == "choice":
        lines.append("Answer with one of the options.")
    return "\n".join(lines)


def observation_text(name: str, text: str) -> str:
    """How one tool result is shown to a text-format model (the Hermes/Qwen convention)."""
    return f"<tool_response>{json.dumps(name)[1:-1]}: {text}</tool_response>"
