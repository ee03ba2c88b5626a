"""``Step``: one entry of a run's trace, built from the plain dicts the graph nodes append to the state.

Kinds: ``plan`` (one LLM call: the plan text, the calls it asked for, the answer if any), ``tool`` (one
tool call: arguments, observation, evidence, time, frames), ``notice`` (a message the loop sent to the
model: a correction, a budget warning) and ``final`` (why the run stopped).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from vidagent.agent.answer import evidence_from_dict
from vidagent.tools.results import Evidence


@dataclass
class Step:
    kind: str  # "plan" | "tool" | "notice" | "final"
    turn: int  # which question of the thread (1-based)
    text: str = ""  # plan: the model's text without tags; tool: the observation; notice/final: the message
    raw: str = ""  # plan: the whole reply as the model wrote it
    calls: list[dict[str, Any]] = field(default_factory=list)  # plan: [{"id", "name", "arguments" | "error"}]
    answer: str | None = None  # plan: the text inside <answer>
    id: str | None = None  # tool: the call id
    name: str | None = None  # tool: the tool's name
    arguments: dict[str, Any] | None = None
    ran: bool = False  # tool: the tool was invoked (False for unreadable calls and budget refusals)
    ok: bool = True
    error: str | None = None  # tool: the full error (the observation holds the model-facing part)
    cached: bool = False
    seconds: float = 0.0
    frames_seen: int = 0
    frames_decoded: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    result: Any = None  # tool: the typed ToolResult, when the run kept it (not stored in the state)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "result"}

    def typed_evidence(self) -> Evidence:
        return evidence_from_dict(self.evidence) if self.evidence else Evidence()

    def summary(self, width: int = 100) -> str:
        """One line for a live display."""
        if self.kind == "plan":
            parts = [_clip(self.text, width)] if self.text else []
            parts += [f"-> {c['name']}({_args(c.get('arguments'))})" if "error" not in c
                      else f"-> unreadable call ({_clip(c['error'], 60)})" for c in self.calls]
            if self.answer is not None:
                parts.append(f"-> answer: {_clip(self.answer, width)}")
            return " ".join(parts) or "(empty reply)"
        if self.kind == "tool":
            mark = "ok" if self.ok else "error"
            extra = " cached" if self.cached else f" {self.seconds:.2f}s"
            return f"{self.name} [{mark}{extra}, {self.frames_decoded} frames] {_clip(self.text, width)}"
        return _clip(self.text, width)


def _args(arguments: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in (arguments or {}).items())


def _clip(text: str, width: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."
