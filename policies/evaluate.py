"""The evaluation harness: planners side by side on the same questions.

    vidagent eval --world data/world --suite world:test --planner sft=runs/sft --planner grpo=runs/grpo
    vidagent eval --questions my_questions.jsonl --videos my_clips/ --planner default

The questions are a world's split (``--world DIR --suite world:SPLIT``) or a user's own questions file
(``--questions FILE.jsonl``, the ``Question`` schema, videos found under ``--videos DIR``:
``vidagent.policies.environment.QuestionFile``). ``--limit N`` keeps the first N in seeded order.

Rows (``--rows``, in this order by default):

- ``prior``: the base model answering from the question alone (no tools): what text priors give;
- ``base``: the zero-shot base planner (SmolLM2-135M-Instruct, no adapter) with the tools;
- one row per ``--planner`` (e.g. SFT, SFT+GRPO);
- ``oracle``: the oracle programs run on the tools, no LLM: the tools' upper bound (with ``--tools world-truth``
  it is 100% by construction, a check of the harness rather than a bound). Only questions with a
  ``program`` have one: the others are skipped for this row (``RowReport.skipped``, said in the table).

Every row gets the same questions (seeded order), the same tool backend, greedy decoding and the same
budgets. Metrics: accuracy overall and per family, grounding R@1 at IoU 0.5 and mIoU (interval
questions), answered share, evidence rate (answers that cite evidence from the tools: spans, boxes or
tracks), mean tool calls, frames decoded, LLM tokens and seconds per question. Answers are scored by
``vidagent.tasks.verify.verify`` per answer type (number: exact; label: normalised, with the synonyms of
``vidagent.words``; choice: letter or text; interval: IoU >= 0.5, plus mIoU).

Rows record what made their questions (``RowReport.generator_version``): the world's generator version, or
for a questions file its name and sha256 (``questions-file:NAME@sha256:HEX``); rows of different sources are
never put side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vidagent.agent.parsing import ANSWER_OPEN
from vidagent.agent.sampling import SamplingPlan
from vidagent.errors import ConfigError, ToolCrash, VidagentError
from vidagent.policies.environment import QUESTIONS_FILE_STAMP
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
    evidence: bool | None = None  # the final answer cites evidence (spans, boxes, tracks); None: no answer object
    confidence: float | None = None  # the vote's winning share (``--samples N``); None for one greedy run
    # a question that names the tool it needs (``meta["tool"]``: novel-tool questions): whether the row called
    # it; None for other questions
    called_needed: bool | None = None
    needed_tool: str | None = None  # that tool's name
    # with ``--samples N``: each sampled run's answer as drawn ({answer_type, value, correct, evidence}; None:
    # no answer), so other votes (subsets, adaptive stops, weights) can be scored later without a re-run
    # (``vidagent.policies.scaling``)
    sampled: list[dict[str, Any] | None] | None = None


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
    # share of answers whose final answer cites evidence from the tools (spans, boxes or tracks); None for
    # rows without agent answers (oracle programs) and rows read back from reports written before it
    evidence_rate: float | None = None
    # ids of the suite's questions this row did not run (the oracle row: questions without a program); not
    # counted in ``questions`` or any rate
    skipped: list[str] = field(default_factory=list)
    samples: int = 1  # sampled runs per question (self-consistency); 1 = one run as configured
    ece: float | None = None  # expected calibration error of the vote's confidence (rows with samples > 1)
    # over questions that need a named tool (novel tools): the share where it was called, and the accuracy
    # among those; None without such questions
    needed_tool_called: float | None = None
    right_when_called: float | None = None
    called_by_tool: dict[str, list[int]] = field(default_factory=dict)  # tool -> [questions it was called on, asked]

    @classmethod
    def from_outcomes(cls, name: str, spec: str, outcomes: list[Outcome],
                      skipped: Sequence[str] = (), samples: int = 1) -> RowReport:
        n = max(len(outcomes), 1)
        cited = [o.evidence for o in outcomes if o.answered and o.evidence is not None]
        families: dict[str, list[bool]] = {}
        for o in outcomes:
            families.setdefault(o.family, []).append(o.correct)
        ious = [o.iou if o.iou is not None else 0.0 for o in outcomes if o.family == "grounding"]
        needing = [o for o in outcomes if o.called_needed is not None]
        called = [o for o in needing if o.called_needed]
        by_tool: dict[str, list[int]] = {}
        for o in needing:
            if o.needed_tool:
                tally = by_tool.setdefault(o.needed_tool, [0, 0])
                tally[0] += bool(o.called_needed)
                tally[1] += 1
        return cls(name=name, spec=spec, questions=len(outcomes), accuracy=sum(o.correct for o in outcomes) / n,
                   per_family={f: sum(v) / len(v) for f, v in sorted(families.items())},
                   grounding_r1_05=sum(i >= 0.5 for i in ious) / len(ious) if ious else None,
                   miou=sum(ious) / len(ious) if ious else None,
                   answered=sum(o.answered for o in outcomes) / n, tool_calls=sum(o.tool_calls for o in outcomes) / n,
                   frames=sum(o.frames for o in outcomes) / n, tokens=sum(o.tokens for o in outcomes) / n,
                   seconds=sum(o.seconds for o in outcomes) / n, outcomes=outcomes,
                   crashed=sum(o.crashed for o in outcomes) / n,
                   evidence_rate=sum(cited) / len(cited) if cited else None, skipped=list(skipped),
                   samples=samples, ece=expected_calibration_error(outcomes),
                   needed_tool_called=len(called) / len(needing) if needing else None,
                   right_when_called=sum(o.correct for o in called) / len(called) if called else None,
                   called_by_tool=dict(sorted(by_tool.items())))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowReport:
        """A row read back from a report's JSON (per-question outcomes reduced to id, correct, prediction).
        Fields a report written before them lacks take their defaults; fields it has that this version does
        not know are dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        fields_ = {k: v for k, v in data.items() if k != "outcomes" and k in known}
        outcomes = [Outcome(o["id"], "", o["correct"], None, False, 0, 0, 0, 0.0, o.get("prediction"),
                            confidence=o.get("confidence"), called_needed=o.get("called_needed"),
                            needed_tool=o.get("needed_tool"), sampled=o.get("sampled"))
                    for o in data.get("outcomes", [])]
        return cls(**fields_, outcomes=outcomes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcomes"] = [{"id": o.question_id, "correct": o.correct, "prediction": o.prediction,
                             **({"confidence": o.confidence} if o.confidence is not None else {}),
                             **({"called_needed": o.called_needed, "needed_tool": o.needed_tool}
                                if o.called_needed is not None else {}),
                             **({"sampled": o.sampled} if o.sampled is not None else {})}
                            for o in self.outcomes]
        return data


CALIBRATION_BINS = 10


def calibration_bins(outcomes: Sequence[Outcome], bins: int = CALIBRATION_BINS) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per equal-width confidence bin, over outcomes with a confidence."""
    return binned([(o.confidence, o.correct) for o in outcomes if o.confidence is not None], bins)


def binned(pairs: Sequence[tuple[float, bool]], bins: int = CALIBRATION_BINS) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per equal-width bin of (confidence, correct) pairs."""
    filled: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for conf, correct in pairs:
        filled[min(int(conf * bins), bins - 1)].append((conf, correct))
    return [(sum(c for c, _ in b) / len(b), sum(k for _, k in b) / len(b), len(b)) for b in filled if b]


def expected_calibration_error(outcomes: Sequence[Outcome], bins: int = CALIBRATION_BINS) -> float | None:
    """ECE: the count-weighted mean |accuracy - confidence| over confidence bins (Guo et al., 2017); None
    without confidences."""
    return pairs_ece([(o.confidence, o.correct) for o in outcomes if o.confidence is not None], bins)


def pairs_ece(pairs: Sequence[tuple[float, bool]], bins: int = CALIBRATION_BINS) -> float | None:
    table = binned(pairs, bins)
    total = sum(n for _, _, n in table)
    return sum(n * abs(acc - conf) for conf, acc, n in table) / total if total else None


# ---------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------


def prediction_of(answer: Any) -> Any:
    if answer is None:
        return None
    return answer.value if answer.value is not None else answer.text


def cites_evidence(answer: Any) -> bool:
    """Whether a final ``Answer`` rests on tool calls that gave evidence: a span, a box or a track. An interval
    answer's own span does not count (``build_answer`` adds it to every interval answer, tools or not)."""
    if answer is None or not answer.sources:
        return False
    evidence = answer.evidence
    return bool(evidence.spans or evidence.boxes or evidence.track_ids)


def sample_record(question: Question, answer: Any) -> dict[str, Any] | None:
    """One sampled run's answer as the report keeps it (None: the run did not answer)."""
    if answer is None:
        return None
    return {"answer_type": answer.answer_type, "value": _jsonable(answer.value),
            "correct": verify(question, prediction_of(answer)).correct, "evidence": cites_evidence(answer)}


def called_needed_tool(question: Question, result: Any) -> bool | None:
    """Whether ``result`` ran the tool ``question.meta["tool"]`` names (None: the question names none)."""
    needed = question.meta.get("tool") if question.meta else None
    if not needed:
        return None
    return any(s.kind == "tool" and s.ran and s.name == needed for s in result.trace)


def evaluate_agent(name: str, spec: str, chat: Any, toolbox: Toolbox, questions: Sequence[Question],
                   video_path: Callable[[Question], str], *, max_tool_calls: int, concurrency: int,
                   timeout_s: float | None = None, samples: int | SamplingPlan = 1) -> RowReport:
    """Run the planner graph with ``chat`` on every question (``concurrency`` at once, LLM calls batched);
    ``timeout_s`` is each question's wall-clock budget; ``samples`` votes over sampled runs per question
    (the outcomes then carry the vote's confidence)."""
    from vidagent.agent.api import Agent  # noqa: PLC0415
    from vidagent.policies.rollout import run_questions  # noqa: PLC0415

    agent = Agent(chat, toolbox, max_tool_calls=max_tool_calls, timeout_s=timeout_s)
    started = time.perf_counter()
    plan = samples if isinstance(samples, SamplingPlan) else SamplingPlan(samples=samples)
    results = run_questions(agent, questions, video_path, concurrency=concurrency, progress=name, keep_crashes=True,
                            samples=plan)
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
                                wall / len(questions), _jsonable(prediction),
                                evidence=cites_evidence(result.answer) if result.answered else None,
                                confidence=result.consensus.confidence if result.consensus is not None else None,
                                called_needed=called_needed_tool(question, result),
                                needed_tool=(question.meta or {}).get("tool"),
                                sampled=[sample_record(question, r.answer) for r in result.samples] or None))
    return RowReport.from_outcomes(name, spec, outcomes, samples=plan.samples)


def evaluate_oracle(toolbox: Toolbox, questions: Sequence[Question], video_path: Callable[[Question], str],
                    name: str = "oracle programs") -> RowReport:
    """Oracle programs on ``toolbox``, no LLM: how far the tools get when every call is the right one.
    Questions without a program are skipped (``RowReport.skipped``), not counted wrong."""
    from vidagent.tasks.oracle import run_program  # noqa: PLC0415

    outcomes = []
    skipped = [q.id for q in questions if q.program is None]
    for question in questions:
        if question.program is None:
            continue
        session = VideoSession(video_path(question))
        started = time.perf_counter()
        calls, tool = 0, ""

        def call_tool(name: str, args: dict[str, Any]) -> Any:
            nonlocal calls, tool
            calls, tool = calls + 1, name
            return toolbox[name](session, **args)

        crashed = False
        try:
            prediction = run_program(question.program, call_tool).answer
        except VidagentError:  # a tool missed what the program needs (e.g. no track of that color)
            prediction = None
        except Exception as error:  # a bug in a tool: a crash, not a wrong answer
            print(f"oracle: {question.id}: {ToolCrash.of(tool, error).problem}", file=sys.stderr)
            prediction, crashed = None, True
        score = verify(question, prediction)
        outcomes.append(Outcome(question.id, question.family, score.correct, score.iou, prediction is not None,
                                calls, session.frames_decoded, 0, time.perf_counter() - started,
                                _jsonable(prediction), crashed=crashed))
    return RowReport.from_outcomes(name, "oracle", outcomes, skipped=skipped)


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | list | type(None)) else str(value)


# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------


def describe_source(version: str) -> str:
    """A row's ``generator_version`` in words: "world generator world-v2" or "questions file q.jsonl (sha256
    0123456789ab)"."""
    if version.startswith(QUESTIONS_FILE_STAMP):
        name, _, digest = version[len(QUESTIONS_FILE_STAMP):].rpartition("@sha256:")
        return f"questions file {name} (sha256 {digest[:12]})"
    return f"world generator {version}"


def same_generator(rows: Sequence[RowReport]) -> str:
    """The one generator version (or questions file stamp) that made every row's questions; ``ConfigError``
    if rows disagree, since the same question id can then be a different question (``UNVERSIONED`` when
    there are no rows)."""
    by_version: dict[str, list[str]] = {}
    for r in rows:
        by_version.setdefault(r.generator_version, []).append(r.name)
    if len(by_version) <= 1:
        return next(iter(by_version), UNVERSIONED)
    if any(v.startswith(QUESTIONS_FILE_STAMP) for v in by_version):
        found = "; ".join(f"{describe_source(v)}: {', '.join(names)}" for v, names in sorted(by_version.items()))
        raise ConfigError(f"cannot put side by side rows answered on different question sets ({found}): under "
                          "the same ids the questions may differ",
                          "run every row on the same questions file (the same bytes, --questions FILE) or the "
                          "same world (--world DIR --suite world:SPLIT)")
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
              + ["R@1 IoU.5 %", "mIoU %", "answered %", "evidence %", "tool calls", "frames", "LLM tokens",
                 "s/question"] + (["samples", "ECE"] if any(r.samples > 1 for r in rows) else []))
    lines = [f"### {title}", ""] if title else []
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        ran = r.questions > 0 or not r.skipped  # a row that skipped every question has no rates to show
        cells = ([r.name, pct(r.accuracy if ran else None)] + [pct(r.per_family.get(f)) for f in families]
                 + [pct(r.grounding_r1_05), pct(r.miou), pct(r.answered if ran else None), pct(r.evidence_rate),
                    f"{r.tool_calls:.2f}", f"{r.frames:.0f}", f"{r.tokens:.0f}", f"{r.seconds:.2f}"]
                 + ([str(r.samples), "-" if r.ece is None else f"{r.ece:.3f}"] if any(x.samples > 1 for x in rows)
                    else []))
        lines.append("| " + " | ".join(cells) + " |")
    n = max((r.questions + len(r.skipped) for r in rows), default=0)
    source = (f"from {describe_source(version)}" if version.startswith(QUESTIONS_FILE_STAMP)
              else f"made by world generator {version}")
    lines += ["", f"{n} questions per row (the same ones), {source}."]
    skipped = [f"{r.name}: {len(r.skipped)} of {r.questions + len(r.skipped)} skipped (no oracle program), "
               f"its rates are over the other {r.questions}" for r in rows if r.skipped]
    if skipped:  # not counted wrong: say which rows saw fewer questions
        lines.append(f"Skipped questions: {'; '.join(skipped)}.")
    needing = [f"{r.name}: called {100 * r.needed_tool_called:.0f}%, right when called "
               f"{pct(r.right_when_called)}%" for r in rows if r.needed_tool_called is not None]
    if needing:  # novel-tool questions: does the planner read a tool's card and call it
        lines.append(f"Questions that need a named tool: {'; '.join(needing)}.")
        by_tool = [f"{r.name}: " + ", ".join(f"{tool} {n}/{asked}" for tool, (n, asked) in r.called_by_tool.items())
                   for r in rows if r.called_by_tool]
        if by_tool:
            lines.append(f"Called, per tool (questions called on / asked): {'; '.join(by_tool)}.")
    crashed = [f"{r.name} {100 * r.crashed:.1f}%" for r in rows if r.crashed]
    if crashed:  # bugs in tools, not wrong answers: say so apart from accuracy
        lines.append(f"Tool crashes (counted as not answered): {', '.join(crashed)}.")
    return "\n".join(lines) + "\n"


def write_report(rows: list[RowReport], out: str | Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out.with_suffix(".json"), out.with_suffix(".md")
    meta = {**meta, "generator_version": same_generator(rows)}
    skipped = {r.name: len(r.skipped) for r in rows if r.skipped}
    if skipped:
        meta["skipped"] = skipped  # row name -> questions it did not run (no oracle program)
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
    # the questions each row was given: those it ran and those it skipped (the oracle row: no program)
    ids = [sorted([o.question_id for o in r.outcomes] + list(r.skipped)) for r in rows]
    if any(i != ids[0] for i in ids):
        raise ConfigError("the reports were run on different questions",
                          "run every row with the same --world and --suite (or --questions FILE), --limit "
                          "and --seed")
    meta = {k: v for k, v in reports[0].items() if k not in ("rows", "command", "skipped")}
    meta["tools"] = "/".join(dict.fromkeys(r.get("tools", "") for r in reports))  # rows may use other profiles
    meta["command"] = " ; ".join(r.get("command", "") for r in reports)
    return write_report(rows, out, meta)


# ---------------------------------------------------------------------------------------------------
# Command
# ---------------------------------------------------------------------------------------------------


def parse_suite(suite: str) -> str:
    kind, _, split = suite.partition(":")
    if kind != "world" or split not in ("train", "val", "test"):
        raise ConfigError(f"unknown suite {suite!r}", "use world:test (or world:val, world:train) with --world DIR, "
                                                      "or your own questions with --questions FILE.jsonl")
    return split


# the tool profile a questions file runs on by default: the pretrained models on real pixels
FILE_DEFAULT_PROFILE = "real"


def default_tools(questions_file: bool) -> str:
    """``--tools`` when none is given: ``world`` for a world suite, ``real`` for a questions file (the first
    profile of ``vidagent.tools.profiles`` when this install has no ``real``)."""
    from vidagent.tools.profiles import DEFAULT_PROFILE, PROFILES  # noqa: PLC0415

    if not questions_file:
        return "world"
    if FILE_DEFAULT_PROFILE in PROFILES:
        return FILE_DEFAULT_PROFILE
    print(f"note: no tool profile {FILE_DEFAULT_PROFILE!r} here; using {DEFAULT_PROFILE!r} (pass --tools to choose)",
          file=sys.stderr)
    return DEFAULT_PROFILE


def check_questions_arg(value: str | None) -> None:
    """``--questions`` takes a file now; the old ``--questions N`` (first N questions) is ``--limit N``."""
    if value is not None and value.strip().isdigit() and not Path(value).is_file():
        raise ConfigError(f"--questions takes a questions file now, not a number ({value}); the first N questions "
                          f"of the suite is --limit {value.strip()}",
                          f"pass --limit {value.strip()} (or --questions FILE.jsonl for your own questions)")


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
    """Record on every row what made the questions it answered: the world's generator version, or a
    questions file's stamp (``questions_file_stamp``: name and sha256)."""
    for row in rows:
        row.generator_version = version


def load_eval_questions(args: argparse.Namespace) -> tuple[list[Question], Callable[[Question], str], Any, str,
                                                             dict[str, Any]]:
    """The questions of a run, where their videos are, the world (or None), the stamp rows record and the
    meta fields that describe the suite: from ``--questions FILE`` (+ ``--videos``) or ``--world`` +
    ``--suite``."""
    from vidagent.policies.environment import QuestionFile, WorldData  # noqa: PLC0415

    check_questions_arg(args.questions)
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be >= 1, got {args.limit}", "pass --limit 50, or leave it out for all")
    if args.questions is None:
        if args.videos:
            raise ConfigError("--videos goes with --questions FILE", "a world's videos are in its directory: "
                              "pass --world DIR only, or --questions FILE.jsonl --videos DIR")
        suite = args.suite or "world:test"
        split = parse_suite(suite)
        world = WorldData.load(args.world)
        version = world.world.generator_version
        if version != GENERATOR_VERSION:  # fine alone; but its rows go beside rows of this same world only
            print(f"note: {args.world} was made by world generator {version}, not the current "
                  f"{GENERATOR_VERSION}", file=sys.stderr)
        questions = world.questions(split, args.limit, seed=args.seed)
        return questions, world.video_path, world, version, {"suite": suite, "world": str(args.world)}
    if args.suite:
        raise ConfigError("--suite names a world split; with --questions FILE the file is the suite",
                          "pass --questions FILE.jsonl without --suite (or --world DIR --suite world:test)")
    qfile = QuestionFile.load(args.questions, args.videos)
    world = WorldData.load(args.world) if args.world else None  # only the world-truth tools want one
    questions = qfile.questions(args.limit, seed=args.seed)
    meta = {"suite": f"questions:{qfile.path.name}", "questions_file": str(qfile.path),
            "questions_sha256": qfile.sha256, "videos": str(qfile.videos_dir)}
    if world is not None:
        meta["world"] = str(args.world)
    return questions, qfile.video_path, world, qfile.stamp, meta


@dataclass(frozen=True)
class RowJob:
    """One row of ``vidagent eval`` as data: the planner that answers (or the oracle programs) and how it
    runs. ``run_row`` runs it on this machine; ``vidagent.policies.ray_eval`` runs the same job in Ray tasks,
    one per shard of the questions, so both engines build a row the same way."""

    kind: str  # "agent" (a planner on the tools, or the text-only prior) or "oracle" (the oracle programs)
    name: str
    spec: str  # the planner spec ("base", a directory, ...); "oracle" for the oracle programs
    planner_options: dict[str, Any] = field(default_factory=dict)  # load_eval_planner's keyword arguments
    with_tools: bool = True  # False: no tools at all (the text-only prior)
    max_tool_calls: int = 0
    concurrency: int = 1
    timeout_s: float | None = None
    samples: SamplingPlan = field(default_factory=SamplingPlan)


def row_jobs(row: str, args: argparse.Namespace, *, tools: str, voted: str, plan: SamplingPlan,
             options: dict[str, Any]) -> list[RowJob]:
    """The jobs of one ``--rows`` entry (``planners``: one per ``--planner``; none without any)."""
    if row == "prior":
        # every reply starts with <answer>: the prior is the model's best guess, not its format skill
        return [RowJob("agent", "text-only prior (no tools)", "base", {"reply_prefix": ANSWER_OPEN, **options},
                       with_tools=False, max_tool_calls=0, concurrency=args.concurrency)]
    if row == "base":
        # un-tuned, it needs the reply starts that `vidagent ask` gives it too (LocalChatModel.guide_format)
        return [RowJob("agent", "zero-shot base planner" + voted, "base", {"guide_format": True, **options},
                       max_tool_calls=args.max_tool_calls, concurrency=args.concurrency, timeout_s=args.timeout,
                       samples=plan)]
    if row == "planners":
        return [RowJob("agent", name + voted, spec, dict(options), max_tool_calls=args.max_tool_calls,
                       concurrency=args.concurrency, timeout_s=args.timeout, samples=plan)
                for name, spec in map(parse_planner, args.planner)]
    return [RowJob("oracle", f"oracle programs, {tools} tools", "oracle")]


def run_row(job: RowJob, toolbox: Toolbox, questions: Sequence[Question],
            video_path: Callable[[Question], str]) -> RowReport:
    """``job`` on ``questions`` in this process (``--engine local``, and each Ray task on its shard)."""
    if job.kind == "oracle":
        return evaluate_oracle(toolbox, questions, video_path, job.name)
    chat = load_eval_planner(job.spec, **job.planner_options)
    return evaluate_agent(job.name, job.spec, chat, toolbox if job.with_tools else Toolbox([]), questions,
                          video_path, max_tool_calls=job.max_tool_calls, concurrency=job.concurrency,
                          timeout_s=job.timeout_s, samples=job.samples)


ENGINES = ("local", "ray")
RAY_WORKERS = 2  # --workers when --engine ray is given without it


def check_engine(args: argparse.Namespace) -> tuple[str, int]:
    """``--engine`` and ``--workers`` (ConfigError with the fix when they do not fit); Ray must be importable
    for ``ray``."""
    engine = getattr(args, "engine", "local") or "local"
    workers = getattr(args, "workers", None)
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}", "use --engine local (this process) or --engine ray")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}",
                          f"pass --workers {RAY_WORKERS} (Ray tasks at once), or leave it out")
    if engine == "local":
        if workers is not None:
            raise ConfigError("--workers goes with --engine ray (the local engine runs one process; its "
                              "questions at once are --concurrency)",
                              f"add --engine ray, or drop --workers {workers}")
        return engine, 1
    from vidagent.tools.ray_engine import _require_ray  # noqa: PLC0415

    _require_ray()  # ConfigError with the pip line, before any question or model loads
    return engine, workers or RAY_WORKERS


def run_eval_command(args: argparse.Namespace) -> int:
    from vidagent.policies.environment import make_toolbox  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415

    plan = SamplingPlan(samples=args.samples, adaptive_k=args.adaptive)  # bad flags fail before any loading
    engine, workers = check_engine(args)
    questions, video_path, world, version, suite_meta = load_eval_questions(args)
    tools = args.tools or default_tools(args.questions is not None)
    toolbox = make_toolbox(tools, world, load_tool_specs(args.tool))
    rows_wanted = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = set(rows_wanted) - {"prior", "base", "planners", "oracle"}
    if unknown:
        raise ConfigError(f"unknown rows {sorted(unknown)}", "use prior, base, planners, oracle")
    options = dict(max_new_tokens=args.max_new_tokens, batch=args.concurrency)
    voted = ""  # the row names say when rows vote
    if plan.samples > 1:
        voted = f", vote of {plan.samples}" + (f" (adaptive {plan.adaptive_k})" if plan.adaptive_k else "")
    meta = {**suite_meta, "tools": tools, "questions": len(questions),
            "seed": args.seed, "max_tool_calls": args.max_tool_calls, "max_new_tokens": args.max_new_tokens,
            "timeout_s": args.timeout, "samples": args.samples, "adaptive": args.adaptive,
            "command": "vidagent eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])}
    title = f"{meta['suite']} ({tools} tools)"
    if engine == "ray":  # the same rows, their questions spread over Ray tasks by video
        from vidagent.policies.ray_eval import RayRowRunner  # noqa: PLC0415

        meta["engine"] = f"ray, {workers} workers"
        runner: Callable[..., RowReport] = RayRowRunner(
            workers=workers, profile=tools, tool_specs=args.tool,
            world_dir=str(Path(args.world).resolve()) if world is not None else None)
    else:
        runner = run_row
    rows: list[RowReport] = []
    try:
        for row in rows_wanted:
            started = time.perf_counter()
            for job in row_jobs(row, args, tools=tools, voted=voted, plan=plan, options=options):
                rows.append(runner(job, toolbox, questions, video_path))
                if job.kind == "oracle" and rows[-1].skipped:
                    print(f"oracle: {len(rows[-1].skipped)} of {len(questions)} questions have no program: skipped "
                          "for this row", file=sys.stderr)
            if not rows:  # e.g. --rows planners without any --planner
                continue
            accuracy = f"{100 * rows[-1].accuracy:.1f}%" if rows[-1].questions else "-"
            print(f"{rows[-1].name}: accuracy {accuracy} ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
            _stamp_generator(rows, version)
            json_path, md_path = write_report(rows, args.out, meta)  # after every row: a killed run keeps its rows
    except KeyboardInterrupt:  # the finished rows are on disk already (written after each row)
        kept = (f"the {len(rows)} finished rows are in {Path(args.out).with_suffix('.json')}" if rows
                else "no row had finished, nothing was written")
        print(f"eval interrupted: {kept}", file=sys.stderr)
        raise
    finally:
        if engine == "ray":
            runner.close()  # type: ignore[attr-defined]  # stops the local Ray it started
    if not rows:
        raise ConfigError("no rows to run", "pass --rows prior,base,oracle or --rows planners with --planner SPEC")
    print(markdown_table(rows, title=title))
    print(f"wrote {json_path} and {md_path}")
    sampled = [(r.name, calibration_bins(r.outcomes)) for r in rows if r.samples > 1]
    if sampled:
        from vidagent.policies.plots import plot_reliability  # noqa: PLC0415

        png = plot_reliability(sampled, Path(args.out).with_suffix(".reliability.png"), title=title)
        print(f"wrote {png} (confidence against accuracy)")
    return 0
