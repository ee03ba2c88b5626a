"""``vidagent ask VIDEO "QUESTION"``: answer a question with the planner and the tools, showing each step.

Exit status: 0 answered, 1 no answer (the last line says why), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from vidagent.tools.cli import add_tool_option


def register(subparsers: argparse._SubParsersAction) -> None:
    ask = subparsers.add_parser(
        "ask", help="answer a question about a video with the tool-using planner",
        description="Answer a question about a video: the planner calls vision tools step by step, then "
        "answers with evidence (time spans, boxes, track ids). Exit status 0 = answered, 1 = no answer.",
    )
    ask.add_argument("video", help="video file")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--planner", metavar="SPEC", default=None,
                     help="default: SmolLM2-135M-Instruct offline (+ the trained adapter when present). Or a "
                     "model directory, a LoRA adapter directory, a .gguf file, a Hugging Face id (local cache "
                     "unless --allow-download), PROVIDER:MODEL for any provider of LangChain's init_chat_model (e.g. "
                     "openai:gpt-4o-mini, ollama:qwen2.5:7b; needs that provider's package), "
                     "or replay:FILE.json (fixed replies)")
    ask.add_argument("--allow-download", action="store_true",
                     help="let --planner fetch a Hugging Face model id from the hub (off by default)")
    add_tool_option(ask)
    ask.add_argument("--answer-type", choices=["number", "choice", "interval", "label"], default=None,
                     help="type of the answer (inferred from the text when not given)")
    ask.add_argument("--choice", action="append", default=[], metavar="OPTION",
                     help="an option of a multiple-choice question; repeat for each option")
    ask.add_argument("--max-tool-calls", type=int, default=8, metavar="N", help="tool-call budget (default 8)")
    ask.add_argument("--max-llm-calls", type=int, default=None, metavar="N",
                     help="LLM-call budget (default: max-tool-calls + 3)")
    ask.add_argument("--frame-budget", type=int, default=400, metavar="N",
                     help="frames the tools may look at (default 400; 0 = unlimited)")
    ask.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                     help="wall-clock budget of the question: no new LLM or tool call starts after it (default: none)")
    ask.add_argument("--samples", type=int, default=1, metavar="N",
                     help="self-consistency: N sampled runs at once (one batched decode), then a vote by answer "
                          "type; prints the confidence and the alternatives (default 1: one greedy run)")
    ask.add_argument("--adaptive", type=int, default=None, metavar="K",
                     help="with --samples: draw K first and stop when they agree")
    ask.add_argument("--samples-seconds", type=float, default=None, metavar="S",
                     help="with --samples: draw no further wave of samples after S seconds")
    ask.add_argument("--samples-tokens", type=int, default=None, metavar="T",
                     help="with --samples: draw no further wave after T planner tokens")
    ask.add_argument("--sample", action="store_true", help="sample instead of greedy decoding (local planner)")
    ask.add_argument("--temperature", type=float, default=None, help="sampling temperature with --sample or --samples (0.7)")
    ask.add_argument("--max-new-tokens", type=int, default=None, metavar="N",
                     help="tokens per planner reply (local planner; default 128)")
    ask.add_argument("--thread", metavar="ID", default=None,
                     help="continue a conversation about this video across runs (SQLite checkpointer)")
    ask.add_argument("--json", action="store_true", help="print the result as JSON (steps go to stderr)")
    ask.add_argument("--report", metavar="OUT.html", default=None,
                     help="write a self-contained HTML report (key frames, timeline, trace)")
    ask.add_argument("--quiet", action="store_true", help="do not show the steps")
    ask.set_defaults(handler=ask_command)


def ask_command(args: argparse.Namespace) -> int:
    from vidagent.agent.api import Agent, Result, sqlite_checkpointer
    from vidagent.agent.sampling import DEFAULT_TEMPERATURE, SamplingPlan
    from vidagent.agent.planner_loading import load_planner
    from vidagent.errors import ConfigError
    from vidagent.offline import cache_root
    from vidagent.tools.cache import ResultCache
    from vidagent.tools.cli import toolbox_from_args
    from vidagent.tools.video import VideoRef

    if args.frame_budget < 0 or args.max_tool_calls < 0:
        raise ConfigError("budgets cannot be negative", "use --max-tool-calls >= 0 and --frame-budget >= 0")
    if args.timeout is not None and not args.timeout > 0:
        raise ConfigError(f"--timeout must be more than 0 seconds, got {args.timeout:g}", "use e.g. --timeout 60")
    if args.answer_type == "choice" and not args.choice:
        raise ConfigError("--answer-type choice needs the options", "add --choice A --choice B ... (one per option)")
    if args.choice and args.answer_type not in (None, "choice"):
        raise ConfigError(f"--choice given with --answer-type {args.answer_type}", "drop one of them")
    if args.samples == 1 and (args.adaptive or args.samples_seconds or args.samples_tokens):
        raise ConfigError("--adaptive, --samples-seconds and --samples-tokens need --samples N (N > 1)",
                          "add e.g. --samples 8")
    plan = SamplingPlan(samples=args.samples, adaptive_k=args.adaptive, max_seconds=args.samples_seconds,
                        max_tokens=args.samples_tokens, temperature=args.temperature or DEFAULT_TEMPERATURE)
    if plan.samples > 1 and args.thread:
        raise ConfigError("--samples cannot continue a --thread", "drop --thread, or ask with --samples 1")
    if plan.samples > 1 and args.sample:
        raise ConfigError("--samples N samples already", "drop --sample (set --temperature alone)")
    VideoRef.open(args.video)  # fail on a bad video before loading a model
    out: TextIO = sys.stderr if args.json else sys.stdout
    if args.temperature is not None and not args.sample and plan.samples == 1:
        raise ConfigError("--temperature needs --sample or --samples N",
                          "add --sample, or drop --temperature for greedy decoding")
    generation: dict[str, Any] = {}
    if args.max_new_tokens is not None:
        generation["max_new_tokens"] = args.max_new_tokens
    if args.sample:
        generation.update(do_sample=True, temperature=args.temperature or 0.7)
    show = not args.quiet
    if show:
        print(f"loading planner {args.planner or 'default'} ...", file=out, flush=True)
    planner = load_planner(args.planner, allow_download=args.allow_download, **generation)
    checkpointer = sqlite_checkpointer(cache_root() / "threads.sqlite") if args.thread else None
    agent = Agent(planner=planner, tools=toolbox_from_args(args), max_tool_calls=args.max_tool_calls,
                  max_llm_calls=args.max_llm_calls, frame_budget=args.frame_budget or None,
                  timeout_s=args.timeout, result_cache=ResultCache.from_env(), checkpointer=checkpointer)
    if show:
        print(f"tools: {', '.join(agent.toolbox.names) or 'none'}", file=out, flush=True)
    result = None
    if plan.samples > 1:  # concurrent runs: their steps would interleave, so each sample gets one line
        if show:
            print(f"drawing {plan.samples} samples ...", file=out, flush=True)
        result = agent.ask(args.video, args.question, samples=plan, answer_type=args.answer_type,
                           choices=args.choice or None)
        if show:
            for k, sample in enumerate(result.samples):
                print(f"  [sample {k + 1}] {sample.answer if sample.answered else sample.stop_reason} "
                      f"({sample.stats.tool_calls} tool calls, {sample.stats.seconds:.1f}s)", file=out)
    else:
        for item in agent.stream(args.video, args.question, answer_type=args.answer_type,
                                 choices=args.choice or None, thread_id=args.thread):
            if isinstance(item, Result):
                result = item
            elif show:
                print(format_step(item), file=out, flush=True)
    assert result is not None
    if args.report:
        from vidagent.agent.report import write_report

        path = write_report(result, args.report)
        print(f"report: {path}", file=out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(format_result(result), file=out)
    return 0 if result.answered else 1


def format_step(step: Any) -> str:
    labels = {"plan": "plan ", "tool": "tool ", "notice": "note ", "final": "stop "}
    return f"  [{labels.get(step.kind, step.kind)}] {step.summary()}"


def format_result(result: Any) -> str:
    lines = []
    if result.answered:
        answer = result.answer
        typed = f" ({answer.answer_type})" if answer.value is not None else f" (unread: {answer.problem})"
        lines.append(f"answer: {answer}{typed}")
        ev = answer.evidence
        names = {s.id: s.name for s in result.tool_steps}
        lines.append("evidence: " + "; ".join(filter(None, [
            "spans " + ", ".join(str(s) for s in ev.spans[:5]) if ev.spans else "",
            "tracks " + ", ".join(map(str, ev.track_ids)) if ev.track_ids else "",
            f"{len(ev.boxes)} boxes" if ev.boxes else "",
            "from " + ", ".join(names.get(i, i) for i in answer.sources) if answer.sources else "no tool call",
        ])))
        if result.consensus is not None:
            lines.append(f"vote: {result.consensus.line()}")
    else:
        lines.append(result.stop_reason)
    lines.append(f"stats: {result.stats.line()}")
    return "\n".join(lines)
