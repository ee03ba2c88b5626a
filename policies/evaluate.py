"""The evaluation harness: planners side by side on the same questions.

    vidagent eval --world data/world --suite world:test --planner sft=runs/sft --planner grpo=runs/grpo

Rows (``--rows``, in this order by default):

- ``prior``: the base model answering from the question alone (no tools): what text priors give;
- ``base``: the zero-shot base planner (SmolLM2-135M-Instruct, no adapter) with the tools;
- one row per ``--planner`` (e.g. SFT, SFT+GRPO);
- ``oracle``: the oracle programs run on the tools, no LLM: the tools' upper bound (with ``--tools world-truth``
  it is 100% by construction, a check of the harness rather than a bound).

Every row gets the same questions (seeded order), the same tool backend, greedy decoding and the same
budgets. Metrics: accuracy overall and per family, grounding R@1 at IoU 0.5 and mIoU (interval
questions), answered share, mean tool calls, frames decoded, LLM tokens and seconds per question.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vidagent.agent.parsing import ANSWER_OPEN
from vidagent.errors import ConfigError, ToolCrash, VidagentError
from vidagent.tasks.questions import GENERATOR_VERSION, UNVERSIONED, Question
from vidagent.tasks.verify import verify
from vidagent.tools.toolbox import Toolbox
from vidagent.tools.video import VideoSession


@dataclass
class Outcome:
    """One question answered by one row."""

    question_id: str
    family: str
    correct: bool
    iou: float | None
    answered: bool
    tool_calls: int
    frames: int
    tokens: int
    seconds: float
    prediction: Any = None
    crashed: bool = False  # a tool raised a bug (ToolCrash): counted apart from wrong answers


@dataclass
class RowReport:
    name: str
    spec: str
    questions: int
    accuracy: float
    per_family: dict[str, float]
    grounding_r1_05: float | None  # share of interval questions with IoU >= 0.5
    miou: float | None
    answered: float
    tool_calls: float
    frames: float
    tokens: float
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list, repr=False)
    # the world generator that made the questions (``World.generator_version``); rows read back from reports
    # written before rows recorded it are UNVERSIONED
    generator_version: str = UNVERSIONED
    crashed: float = 0.0  # share of questions where a tool crashed (a bug in a tool, not a wrong answer)

    @classmethod
    def from_outcomes(cls, name: str, spec: str, outcomes: list[Outcome]) -> RowReport:
        n = max(len(outcomes), 1)
        families: dict[str, list[bool]] = {}
        for o in outcomes:
            families.setdefault(o.family, []).append(o.correct)
        ious = [o.iou if o.iou is not None else 0.0 for o in outcomes if o.family == "grounding"]
        return cls(name=name, spec=spec, questions=len(outcomes), accuracy=sum(o.correct for o in outcomes) / n,
                   per_family={f: sum(v) / len(v) for f, v in sorted(families.items())},
                   grounding_r1_05=sum(i >= 0.5 for i in ious) / len(ious) if ious else None,
                   miou=sum(ious) / len(ious) if ious else None,
                   answered=sum(o.answered for o in outcomes) / n, tool_calls=sum(o.tool_calls for o in outcomes) / n,
                   frames=sum(o.frames for o in outcomes) / n, tokens=sum(o.tokens for o in outcomes) / n,
                   seconds=sum(o.seconds for o in outcomes) / n, outcomes=outcomes,
                   crashed=sum(o.crashed for o in outcomes) / n)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowReport:
        """A row read back from a report's JSON (per-question outcomes reduced to id, correct, prediction)."""
        fields_ = {k: v for k, v in data.items() if k != "outcomes"}
        outcomes = [Outcome(o["id"], "", o["correct"], None, False, 0, 0, 0, 0.0, o.get("prediction"))
                    for o in data.get("outcomes", [])]
        return cls(**fields_, outcomes=outcomes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcomes"] = [{"id": o.question_id, "correct": o.correct, "prediction": o.prediction}
                            for o in self.outcomes]
        return data


# ---------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------


def prediction_of(answer: Any) -> Any:
    if answer is None:
        return None
    return answer.value if answer.value is not None else answer.text


def evaluate_agent(name: str, spec: str, chat: Any, toolbox: Toolbox, questions: Sequence[Question],
                   video_path: Callable[[Question], str], *, max_tool_calls: int, concurrency: int) -> RowReport:
    """Run the planner graph with ``chat`` on every question (``concurrency`` at once, LLM calls batched)."""
    from vidagent.agent.api import Agent  # noqa: PLC0415
    from vidagent.policies.rollout import run_questions  # noqa: PLC0415

    agent = Agent(chat, toolbox, max_tool_calls=max_tool_calls)
    started = time.perf_counter()
    results = run_questions(agent, questions, video_path, concurrency=concurrency, progress=name, keep_crashes=True)
    wall = time.perf_counter() - started
    outcomes = []
    for question, result in zip(questions, results, strict=True):
        if isinstance(result, ToolCrash):
            print(f"{name}: {question.id}: {result.problem}", file=sys.stderr)
            outcomes.append(Outcome(question.id, question.family, False, None, False, 0, 0, 0, wall / len(questions),
                                    None, crashed=True))
            continue
        prediction = prediction_of(result.answer)
        score = verify(question, prediction)
        outcomes.append(Outcome(question.id, question.family, score.correct, score.iou, result.answered,
                                result.stats.tool_calls, result.stats.frames_decoded,
                                result.stats.prompt_tokens + result.stats.completion_tokens,
                                # concurrent runs share the wall clock: charge each its share of it
                                wall / len(questions), _jsonable(prediction)))
    return RowReport.from_outcomes(name, spec, outcomes)


def evaluate_oracle(toolbox: Toolbox, questions: Sequence[Question], video_path: Callable[[Question], str],
                    name: str = "oracle programs") -> RowReport:
    """Oracle programs on ``toolbox``, no LLM: how far the tools get when every call is the right one."""
    from vidagent.tasks.oracle import run_program  # noqa: PLC0415

    outcomes = []
    for question in questions:
        session = VideoSession(video_path(question))
        started = time.perf_counter()
        calls, tool = 0, ""

        def call_tool(name: str, args: dict[str, Any]) -> Any:
            nonlocal calls, tool
            calls, tool = calls + 1, name
            return toolbox[name](session, **args)

        crashed = False
        try:
            prediction = run_program(question.program, call_tool).answer if question.program else None
        except VidagentError:  # a tool missed what the program needs (e.g. no track of that color)
            prediction = None
        except Exception as error:  # a bug in a tool: a crash, not a wrong answer
            print(f"oracle: {question.id}: {ToolCrash.of(tool, error).problem}", file=sys.stderr)
            prediction, crashed = None, True
        score = verify(question, prediction)
        outcomes.append(Outcome(question.id, question.family, score.correct, score.iou, prediction is not None,
                                calls, session.frames_decoded, 0, time.perf_counter() - started,
                                _jsonable(prediction), crashed=crashed))
    return RowReport.from_outcomes(name, "oracle", outcomes)


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | list | type(None)) else str(value)


# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------


def same_generator(rows: Sequence[RowReport]) -> str:
    """The one generator version that made every row's questions; ``ConfigError`` if rows disagree, since the
    same question id can then be a different question (``UNVERSIONED`` when there are no rows)."""
    by_version: dict[str, list[str]] = {}
    for r in rows:
        by_version.setdefault(r.generator_version, []).append(r.name)
    if len(by_version) <= 1:
        return next(iter(by_version), UNVERSIONED)
    found = "; ".join(f"{version}: {', '.join(names)}" for version, names in sorted(by_version.items()))
    note = (f" ({UNVERSIONED}: made before worlds recorded their generator version)"
            if UNVERSIONED in by_version else "")
    raise ConfigError(f"cannot put side by side rows made from worlds of different generator versions "
                      f"({found}){note}: under the same ids the questions differ",
                      f"regenerate the world with the current generator ({GENERATOR_VERSION}: `vidagent "
                      "world generate` with the same --videos and --seed) and re-run the rows of the other "
                      "versions on it")


def markdown_table(rows: list[RowReport], *, title: str = "") -> str:
    version = same_generator(rows)
    families = sorted({f for r in rows for f in r.per_family})

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    header = (["row", "acc %"] + [f"{f} %" for f in families]
              + ["R@1 IoU.5 %", "mIoU %", "answered %", "tool calls", "frames", "LLM tokens", "s/question"])
    lines = [f"### {title}", ""] if title else []
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = ([r.name, pct(r.accuracy)] + [pct(r.per_family.get(f)) for f in families]
                 + [pct(r.grounding_r1_05), pct(r.miou), pct(r.answered), f"{r.tool_calls:.2f}", f"{r.frames:.0f}",
                    f"{r.tokens:.0f}", f"{r.seconds:.2f}"])
        lines.append("| " + " | ".join(cells) + " |")
    n = rows[0].questions if rows else 0
    lines += ["", f"{n} questions per row (the same ones), made by world generator {version}."]
    crashed = [f"{r.name} {100 * r.crashed:.1f}%" for r in rows if r.crashed]
    if crashed:  # bugs in tools, not wrong answers: say so apart from accuracy
        lines.append(f"Tool crashes (counted as not answered): {', '.join(crashed)}.")
    return "\n".join(lines) + "\n"


def write_report(rows: list[RowReport], out: str | Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out.with_suffix(".json"), out.with_suffix(".md")
    meta = {**meta, "generator_version": same_generator(rows)}
    json_path.write_text(json.dumps({**meta, "rows": [r.to_dict() for r in rows]}, indent=1), encoding="utf-8")
    title = f"{meta.get('suite', '')} ({meta.get('tools', '')} tools)"
    md_path.write_text(markdown_table(rows, title=title) + f"\nCommand: `{meta.get('command', '')}`\n",
                       encoding="utf-8")
    return json_path, md_path


def merge_reports(paths: Sequence[str | Path], out: str | Path) -> tuple[Path, Path]:
    """One table from several ``vidagent eval`` runs over the same questions (e.g. rows run in parallel
    processes). Refuses to merge rows that saw different questions or questions made by different world
    generator versions (the same ids, other questions)."""
    reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    rows = [RowReport.from_dict(r) for report in reports for r in report["rows"]]
    same_generator(rows)  # first: rows from different generators can share every id
    ids = [[o.question_id for o in r.outcomes] for r in rows]
    if any(i != ids[0] for i in ids):
        raise ConfigError("the reports were run on different questions",
                          "run every row with the same --world, --suite, --questions and --seed")
    meta = {k: v for k, v in reports[0].items() if k not in ("rows", "command")}
    meta["tools"] = "/".join(dict.fromkeys(r.get("tools", "") for r in reports))  # rows may use other profiles
    meta["command"] = " ; ".join(r.get("command", "") for r in reports)
    return write_report(rows, out, meta)


# ---------------------------------------------------------------------------------------------------
# Command
# ---------------------------------------------------------------------------------------------------


def parse_suite(suite: str) -> str:
    kind, _, split = suite.partition(":")
    if kind != "world" or split not in ("train", "val", "test"):
        raise ConfigError(f"unknown suite {suite!r}", "use world:test (or world:val, world:train) with --world DIR")
    return split


def parse_planner(item: str) -> tuple[str, str]:
    name, sep, spec = item.partition("=")
    return (name, spec) if sep else (Path(item).name or item, item)


def load_eval_planner(spec: str, *, max_new_tokens: int, batch: int, **options: Any) -> Any:
    """A greedy local chat model; ``base`` is SmolLM2-135M-Instruct without any adapter. ``options`` go to
    ``LocalChatModel`` (``guide_format``, ``reply_prefix``)."""
    from vidagent.agent.planner_loading import load_default_base, load_planner, local_chat_model  # noqa: PLC0415

    if spec == "base":
        model, tokenizer = load_default_base()
        return local_chat_model(model, tokenizer, name="base", max_new_tokens=max_new_tokens, max_batch=batch,
                                **options)
    return load_planner(spec, max_new_tokens=max_new_tokens, max_batch=batch, **options)


def _stamp_generator(rows: list[RowReport], version: str) -> None:
    """Record on every row the generator version of the world whose questions it answered."""
    for row in rows:
        row.generator_version = version


def run_eval_command(args: argparse.Namespace) -> int:
    from vidagent.policies.environment import WorldData, make_toolbox  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415

    split = parse_suite(args.suite)
    world = WorldData.load(args.world)
    version = world.world.generator_version
    if version != GENERATOR_VERSION:  # fine alone; but its rows go beside rows of this same world only
        print(f"note: {args.world} was made by world generator {version}, not the current "
              f"{GENERATOR_VERSION}", file=sys.stderr)
    questions = world.questions(split, args.questions, seed=args.seed)
    toolbox = make_toolbox(args.tools, world, load_tool_specs(args.tool))
    rows_wanted = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = set(rows_wanted) - {"prior", "base", "planners", "oracle"}
    if unknown:
        raise ConfigError(f"unknown rows {sorted(unknown)}", "use prior, base, planners, oracle")
    options = dict(max_new_tokens=args.max_new_tokens, batch=args.concurrency)
    meta = {"suite": args.suite, "world": str(args.world), "tools": args.tools, "questions": len(questions),
            "seed": args.seed, "max_tool_calls": args.max_tool_calls, "max_new_tokens": args.max_new_tokens,
            "command": "vidagent eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])}
    rows: list[RowReport] = []
    for row in rows_wanted:
        started = time.perf_counter()
        if row == "prior":
            # every reply starts with <answer>: the prior is the model's best guess, not its format skill
            chat = load_eval_planner("base", reply_prefix=ANSWER_OPEN, **options)
            rows.append(evaluate_agent("text-only prior (no tools)", "base", chat, Toolbox([]), questions,
                                       world.video_path, max_tool_calls=0, concurrency=args.concurrency))
        elif row == "base":
            # un-tuned, it needs the reply starts that `vidagent ask` gives it too (LocalChatModel.guide_format)
            chat = load_eval_planner("base", guide_format=True, **options)
            rows.append(evaluate_agent("zero-shot base planner", "base", chat, toolbox, questions, world.video_path,
                                       max_tool_calls=args.max_tool_calls, concurrency=args.concurrency))
        elif row == "planners":
            for item in args.planner:
                name, spec = parse_planner(item)
                chat = load_eval_planner(spec, **options)
                rows.append(evaluate_agent(name, spec, chat, toolbox, questions, world.video_path,
                                           max_tool_calls=args.max_tool_calls, concurrency=args.concurrency))
        else:
            rows.append(evaluate_oracle(toolbox, questions, world.video_path, f"oracle programs, {args.tools} tools"))
        print(f"{rows[-1].name}: accuracy {100 * rows[-1].accuracy:.1f}% ({time.perf_counter() - started:.0f}s)",
              file=sys.stderr)
        _stamp_generator(rows, version)
        json_path, md_path = write_report(rows, args.out, meta)  # after every row: a killed run keeps its rows
    print(markdown_table(rows, title=f"{args.suite} ({args.tools} tools)"))
    print(f"wrote {json_path} and {md_path}")
    return 0
