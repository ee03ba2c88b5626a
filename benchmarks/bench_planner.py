"""Planner benchmark: load time (cold and cached), seconds per question with a breakdown (LLM vs
each tool), tokens and tool calls per question, accuracy on the bundled questions, peak memory.

    .venv/bin/python benchmarks/bench_planner.py [--world examples/world] [--questions 6] [--json out.json]
    .venv/bin/python benchmarks/bench_planner.py --planner PATH_OR_SPEC    # another planner

Questions come from ``questions.jsonl`` in the world directory (``vidagent world generate``). ``--cold``
converts the SmolLM2 GGUF into an empty cache directory to time a first run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def time_loads(cold: bool) -> dict[str, float]:
    from vidagent.agent.planner_loading import load_planner

    out = {}
    if cold:
        previous = os.environ.get("VIDAGENT_CACHE_DIR")
        os.environ["VIDAGENT_CACHE_DIR"] = tempfile.mkdtemp(prefix="vidagent-cold-")
        started = time.perf_counter()
        load_planner(None)
        out["load_cold_s"] = time.perf_counter() - started
        if previous is None:
            del os.environ["VIDAGENT_CACHE_DIR"]
        else:
            os.environ["VIDAGENT_CACHE_DIR"] = previous
    load_planner(None)  # make sure the cached copy exists in the real cache
    started = time.perf_counter()
    load_planner(None)
    out["load_cached_s"] = time.perf_counter() - started
    return out


def load_bench_questions(world: Path, limit: int) -> list[Any]:
    from vidagent.tasks.questions import load_questions

    path = world / "questions.jsonl"
    if not path.is_file():
        sys.exit(f"no {path}: generate one with `vidagent world generate --videos 2 --out {world}`")
    questions = load_questions(path)
    # round-robin over videos, and over families within a video, so a short run covers both
    by_video: dict[str, dict[str, list[Any]]] = {}
    for q in questions:
        by_video.setdefault(q.video, {}).setdefault(q.family, []).append(q)
    per_video = [[q for group in itertools.zip_longest(*families.values()) for q in group if q is not None]
                 for families in by_video.values()]
    ordered = [q for group in itertools.zip_longest(*per_video) for q in group if q is not None]
    return ordered[:limit]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=Path, default=Path("examples/world"))
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--planner", default=None, help="planner spec as for `vidagent ask --planner` (default SmolLM2)")
    parser.add_argument("--max-tool-calls", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--cold", action="store_true", help="also time the first GGUF conversion")
    parser.add_argument("--tool", action="append", default=[], metavar="MODULE:ATTR",
                        help="add a tool to the default toolbox (repeatable)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import vidagent  # noqa: F401  (offline defaults)
    from vidagent.agent import Agent
    from vidagent.agent.planner_loading import load_planner
    from vidagent.tasks.verify import verify
    from vidagent.tools import Toolbox
    from vidagent.tools.toolbox import load_tool_spec

    report: dict[str, Any] = {"planner": args.planner or "default"}
    if args.planner is None:
        report.update(time_loads(args.cold))
    questions = load_bench_questions(args.world, args.questions)
    toolbox = Toolbox.default([load_tool_spec(spec) for spec in args.tool])
    report["tools"] = toolbox.names
    rows = []
    started = time.perf_counter()
    agent = Agent(planner=load_planner(args.planner, **local_options(args)), tools=toolbox,
                  max_tool_calls=args.max_tool_calls)
    report["agent_setup_s"] = time.perf_counter() - started
    for q in questions:
        result = agent.ask(args.world / q.video_file, q.text, answer_type=q.answer_type, choices=q.choices or None)
        prediction = result.answer.value if result.answer is not None and result.answer.value is not None else (
            result.answer.text if result.answer is not None else None)
        score = verify(q, prediction) if prediction is not None else None
        s = result.stats
        rows.append({"id": q.id, "family": q.family, "answered": result.answered,
                     "correct": bool(score and score.correct), "seconds": s.seconds, "llm_seconds": s.llm_seconds,
                     "tool_seconds": s.tool_seconds, "llm_calls": s.llm_calls, "tool_calls": s.tool_calls,
                     "tool_errors": s.tool_errors, "prompt_tokens": s.prompt_tokens,
                     "completion_tokens": s.completion_tokens, "frames_decoded": s.frames_decoded,
                     "stop_reason": result.stop_reason})
        print(f"{q.id:28s} {q.family:10s} answered={result.answered!s:5s} correct={rows[-1]['correct']!s:5s} "
              f"{s.line()}", flush=True)
    report["questions"] = rows
    report["summary"] = summarize(rows)
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({k: v for k, v in report.items() if k != "questions"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def local_options(args: argparse.Namespace) -> dict[str, Any]:
    from vidagent.agent.chat_models.langchain_api import is_provider_spec

    spec = args.planner
    if spec is not None and (spec.startswith("replay:") or is_provider_spec(spec)):
        return {}
    return {"max_new_tokens": args.max_new_tokens}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {}
    tools: dict[str, float] = {}
    for r in rows:
        for name, s in r["tool_seconds"].items():
            tools[name] = tools.get(name, 0.0) + s / len(rows)
    mean = lambda key: statistics.fmean(r[key] for r in rows)
    return {"questions": len(rows), "answered": sum(r["answered"] for r in rows) / len(rows),
            "accuracy": sum(r["correct"] for r in rows) / len(rows), "seconds_per_question": mean("seconds"),
            "llm_seconds_per_question": mean("llm_seconds"), "tool_seconds_per_question": tools,
            "llm_calls_per_question": mean("llm_calls"), "tool_calls_per_question": mean("tool_calls"),
            "tool_errors_per_question": mean("tool_errors"),
            "tokens_per_question": mean("prompt_tokens") + mean("completion_tokens"),
            "completion_tokens_per_question": mean("completion_tokens"),
            "frames_decoded_per_question": mean("frames_decoded")}


if __name__ == "__main__":
    sys.exit(main())
