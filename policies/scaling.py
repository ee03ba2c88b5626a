"""Test-time scaling curves from one sampled eval run: accuracy, calibration and cost against N.

``vidagent eval --samples 8`` keeps every sampled run's answer per question (``Outcome.sampled``). A vote of
n < 8 is then a vote over a random n of those samples, so one run of N samples gives the whole curve
(n = 1, 2, 4, ..., N; each point the mean over ``draws`` random subsets, as in self-consistency papers'
resampled curves), the adaptive stop (draw k; stop when they agree, else draw all N) and other ways of
counting votes (the evidence check: a guess that cites no tool evidence counts a fraction of a vote),
all scored on the same samples. Seconds are not simulated: samples run concurrently, so the time of a
vote of n is measured by running it (the report's ``s/question`` column).

    vidagent scaling results/tts/n8.json --out results/tts/n8_curve
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from vidagent.agent.answer import Answer
from vidagent.agent.voting import aggregate, evidence_weights
from vidagent.errors import ConfigError
from vidagent.policies.evaluate import pairs_ece, parse_suite
from vidagent.tasks.verify import verify

DEFAULT_DRAWS = 200
WEIGHTINGS = ("plain", "evidence")


@dataclass(frozen=True)
class CurvePoint:
    """A way of voting, scored over every question (means over the random subsets drawn)."""

    mode: str  # "vote of n", "adaptive k of N"
    weighting: str  # plain or evidence
    samples: float  # mean samples drawn per question (the cost)
    accuracy: float
    ece: float  # expected calibration error of the winning share, over all draws pooled
    confidence: float  # mean winning share


def sample_answers(sampled: Sequence[dict[str, Any] | None]) -> list[Answer | None]:
    return [None if s is None else Answer(text="", answer_type=s["answer_type"], value=s["value"]) for s in sampled]


def vote(question: Any, sampled: Sequence[dict[str, Any] | None], picks: Sequence[int],
         weighting: str) -> tuple[bool, float, bool]:
    """(correct, confidence, unanimous) of the vote over the samples ``picks``."""
    chosen = [sampled[i] for i in picks]
    weights = (evidence_weights([bool(s and s.get("evidence")) for s in chosen]) if weighting == "evidence"
               else None)
    consensus = aggregate(sample_answers(chosen), weights=weights)
    best = consensus.best
    if best is None:
        return False, 0.0, False
    if best.answer_type == "interval":  # the consensus span is new: score it
        correct = verify(question, best.value).correct
    else:
        correct = bool(chosen[best.members[0]]["correct"])  # type: ignore[index]
    return correct, consensus.confidence, consensus.agreed()


def curve(questions: dict[str, Any], outcomes: Sequence[dict[str, Any]], *, ns: Sequence[int],
          adaptive: Sequence[int] = (), weightings: Sequence[str] = WEIGHTINGS, draws: int = DEFAULT_DRAWS,
          seed: int = 0) -> list[CurvePoint]:
    """Every (mode, weighting) point over ``outcomes`` (a report row's, with ``sampled``), ``draws`` random
    orders of each question's samples (the same orders for every mode, so the points differ by the vote
    alone)."""
    rows = [(questions[o["id"]], o["sampled"]) for o in outcomes]
    total = len(rows[0][1])
    if any(len(s) != total for _, s in rows):
        raise ConfigError("the questions of this row drew different numbers of samples",
                          "run the eval without --adaptive or caps, so every question has all N samples")
    rng = np.random.default_rng(seed)
    orders = [[rng.permutation(total) for _ in range(draws)] for _ in rows]
    modes = [(f"vote of {n}", n, None) for n in ns] + [(f"adaptive {k} of {total}", total, k) for k in adaptive]
    for label, n, k in modes:  # before any vote is counted
        if not 1 <= n <= total or (k is not None and not 2 <= k <= total):
            raise ConfigError(f"{label}: the run has {total} samples per question",
                              f"ask for n and k between 1 and {total}")
    points = []
    for weighting in weightings:
        for label, n, k in modes:
            scored, drawn = [], []
            for (question, sampled), perms in zip(rows, orders, strict=True):
                for perm in perms:
                    if k is not None:
                        first = vote(question, sampled, perm[:k], weighting)
                        if first[2]:  # the first k agree: stop there
                            scored.append(first[:2])
                            drawn.append(k)
                            continue
                    scored.append(vote(question, sampled, perm[:n], weighting)[:2])
                    drawn.append(n)
            pairs = [(conf, correct) for correct, conf in scored]
            points.append(CurvePoint(label, weighting, float(np.mean(drawn)),
                                     float(np.mean([c for c, _ in scored])), float(pairs_ece(pairs) or 0.0),
                                     float(np.mean([conf for _, conf in scored]))))
    return points


def report_questions(meta: dict[str, Any]) -> dict[str, Any]:
    """The questions a report was run on, by id, from what its meta records."""
    from vidagent.policies.environment import QuestionFile, WorldData  # noqa: PLC0415

    if meta.get("questions_file"):
        questions = QuestionFile.load(meta["questions_file"], meta.get("videos")).questions(None, seed=meta["seed"])
    elif meta.get("world"):
        questions = WorldData.load(meta["world"]).questions(parse_suite(meta["suite"]), None, seed=meta["seed"])
    else:
        raise ConfigError("the report does not say where its questions are (no world or questions_file)",
                          "use a report written by `vidagent eval --samples N`")
    return {q.id: q for q in questions}


def markdown(points: Sequence[CurvePoint], source: str, command: str) -> str:
    lines = [f"### Test-time scaling from {source}", "",
             "| vote | weighting | samples / question | acc % | ECE | mean confidence |", "|---|---|---|---|---|---|"]
    lines += [f"| {p.mode} | {p.weighting} | {p.samples:.2f} | {100 * p.accuracy:.1f} | {p.ece:.3f} | "
              f"{p.confidence:.2f} |" for p in points]
    lines += ["", ("Each point: the mean over random subsets (orders) of the run's samples per question; the same "
                   "orders for every row. Evidence weighting: a sample whose answer cites no tool evidence counts "
                   "a quarter vote."), "", f"Command: `{command}`"]
    return "\n".join(lines) + "\n"


def run_scaling_command(args: argparse.Namespace) -> int:
    path = Path(args.report)
    if not path.is_file():
        raise ConfigError(f"no report at {path}", "pass the .json that `vidagent eval --samples N --out X` wrote")
    data = json.loads(path.read_text())
    rows = [r for r in data.get("rows", []) if any(o.get("sampled") for o in r.get("outcomes", []))]
    if not rows:
        raise ConfigError(f"{path} keeps no per-sample answers",
                          "re-run the eval with --samples N (N > 1) on this version: older reports lack them")
    questions = report_questions(data)
    if args.draws < 1:
        raise ConfigError(f"--draws must be >= 1, got {args.draws}", f"e.g. --draws {DEFAULT_DRAWS}")
    command = "vidagent scaling " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    out = {"source": str(path), "command": command, "rows": []}
    text = []
    for row in rows:
        points = curve(questions, row["outcomes"], ns=args.n or default_ns(row), adaptive=args.adaptive,
                       draws=args.draws, seed=args.seed)
        out["rows"].append({"name": row["name"], "points": [asdict(p) for p in points]})
        text.append(markdown(points, f"{path.name} ({row['name']})", command))
    target = Path(args.out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_suffix(".json").write_text(json.dumps(out, indent=1))
    target.with_suffix(".md").write_text("\n".join(text))
    print("\n".join(text))
    print(f"wrote {target.with_suffix('.json')} and {target.with_suffix('.md')}")
    return 0


def default_ns(row: dict[str, Any]) -> list[int]:
    total = int(row.get("samples") or 1)
    return [n for n in (1, 2, 4, 8, 16, 32) if n <= total]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scaling", help="accuracy, calibration and cost against the number of samples, from one --samples N eval",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", help="the .json of a `vidagent eval --samples N` run")
    parser.add_argument("--n", type=int, nargs="+", default=None, help="votes of n samples (default 1 2 4 ... N)")
    parser.add_argument("--adaptive", type=int, nargs="*", default=[2, 3],
                        help="adaptive stops to score: draw k, stop when they agree, else all N (default 2 3)")
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="random subsets per question and point")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="where to write OUT.json and OUT.md")
    parser.set_defaults(handler=run_scaling_command)
