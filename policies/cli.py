"""``vidagent train sft|grpo`` and ``vidagent eval``. The flags of ``train sft|grpo`` are the config
dataclasses' fields (``vidagent.policies.config``) through transformers' ``HfArgumentParser``, added when
that subcommand is parsed or its help shown; other heavy imports happen inside the handlers."""

from __future__ import annotations

import argparse
from typing import Any

from vidagent.policies.config import ConfigArgumentParser, GRPOConfig, SFTConfig, config_from_args
from vidagent.tasks.toolfit.cli import add_train_tools_parsers
from vidagent.tasks.toolfit.evaluate import add_eval_tools_parser


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser("train", help="post-train the planner: SFT cold start, then GRPO",
                                  description="Post-train the planner (docs/training.md).")
    # ConfigArgumentParser: a plain ArgumentParser, except for the subcommands given a config_class, whose
    # flags HfArgumentParser makes from that dataclass on first use (so `vidagent --help` never imports
    # transformers). It takes add_parser's keywords, unlike HfArgumentParser's own constructor (which
    # would import transformers here and add the flags at once).
    train_actions = train.add_subparsers(dest="train_command", metavar="STAGE", parser_class=ConfigArgumentParser)
    train.set_defaults(handler=lambda args: train.print_help() or 2)

    sft = train_actions.add_parser("sft", config_class=SFTConfig,
                                   help="supervised cold start on oracle-program trajectories",
                                   description="SFT on oracle programs replayed through the planner graph; "
                                               "loss on the planner's own tokens only. Every flag is a field of "
                                               "vidagent.policies.config.SFTConfig.")
    sft.set_defaults(handler=_train_sft)

    grpo = train_actions.add_parser("grpo", config_class=GRPOConfig,
                                    help="GRPO on TRL's GRPOTrainer, rollouts through the planner graph",
                                    description="GRPO with a rollout_func that runs the LangGraph planner graph "
                                                "with the trainer's current model. Every flag is a field of "
                                                "vidagent.policies.config.GRPOConfig.")
    grpo.set_defaults(handler=_train_grpo)
    add_train_tools_parsers(train_actions)  # vidagent train detector | action | clip

    evaluate = subparsers.add_parser("eval", help="evaluate planners side by side on a question suite",
                                     description="Accuracy per family, grounding R@1@0.5 and mIoU, answered "
                                                 "and evidence rates, tool calls, frames, tokens and seconds "
                                                 "per question; JSON + markdown. The questions are a world's "
                                                 "split (--world DIR --suite world:test) or your own "
                                                 "questions file (--questions FILE.jsonl --videos DIR). Rows "
                                                 "record the world's generator version (or the questions "
                                                 "file's name and sha256); rows of different ones are never "
                                                 "put side by side.")
    add_eval_arguments(evaluate)
    evaluate.set_defaults(handler=_eval)
    eval_actions = evaluate.add_subparsers(dest="eval_command", metavar="SUITE")
    add_eval_tools_parser(eval_actions)  # vidagent eval tools
    from vidagent.policies.scaling import register as register_scaling  # noqa: PLC0415

    register_scaling(subparsers)  # vidagent scaling: curves from one --samples N eval


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", default=None, metavar="FILE.jsonl",
                        help="your own questions, one JSON object a line in the project's schema (docs/training.md, "
                             "Evaluation on your own questions), instead of a world suite")
    parser.add_argument("--videos", default=None, metavar="DIR",
                        help="where the videos of --questions are: each question's video_file relative to DIR, "
                             "else DIR/<video>.mp4 (.avi .mov .mkv .webm); default: the questions file's folder")
    parser.add_argument("--suite", default=None,
                        help="questions: world:SPLIT of --world (default world:test; not with --questions)")
    parser.add_argument("--world", default="", help="world directory (`vidagent world generate --out DIR`); "
                                                    "with --questions only for --tools world-truth")
    parser.add_argument("--planner", action="append", default=[], metavar="[NAME=]SPEC",
                        help="a planner row: SPEC is base, default, an adapter/model directory or any --planner "
                             "spec of `vidagent ask`; repeat for several rows")
    parser.add_argument("--rows", default="prior,base,planners,oracle",
                        help="which rows, in order: prior (text only, no tools), base (zero-shot SmolLM2), "
                             "planners (each --planner), oracle (oracle programs on the tools; questions "
                             "without a program are skipped for it)")
    parser.add_argument("--tools", default=None, metavar="PROFILE",
                        help="tool profile for every row (vidagent.policies.environment.tool_profiles()): world, "
                             "the default tools with the world-trained models (default for a world suite), "
                             "real, the pretrained models (default for --questions FILE), or world-truth, "
                             "answered from the world's ground truth (needs --world; see docs/training.md)")
    parser.add_argument("--tool", action="append", default=[], metavar="SPEC",
                        help="a user tool to add to every row's toolbox, as module:attr or path/file.py:attr "
                             "(repeat for several)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="first N questions of the suite (seeded order); was --questions N")
    parser.add_argument("--seed", type=int, default=0, help="question order and sampling seed")
    parser.add_argument("--max-tool-calls", type=int, default=4, help="tool-call budget per question")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="wall-clock budget per question (no new step starts after it; default: none)")
    parser.add_argument("--samples", type=int, default=1, metavar="N",
                        help="self-consistency: vote over N sampled runs per question (planner rows); the rows "
                             "get the vote's calibration (ECE) and OUT.reliability.png (default 1: greedy)")
    parser.add_argument("--adaptive", type=int, default=None, metavar="K",
                        help="with --samples: draw K first and stop when they agree")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="tokens per planner reply")
    parser.add_argument("--concurrency", type=int, default=8, help="questions run at once (LLM calls batched)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local: this process (default, no Ray); ray: each row's questions split by video "
                             "into --workers shards, one Ray task each (a local Ray here, or the cluster "
                             "RAY_ADDRESS names); the report is the same")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="with --engine ray: shards (Ray tasks) per row, one CPU each (default 2)")
    parser.add_argument("--out", default="results/eval", help="writes OUT.json and OUT.md")


def _train_sft(args: argparse.Namespace) -> int:
    from vidagent.policies.sft import train_sft  # noqa: PLC0415

    result = train_sft(config_from_args(SFTConfig, args))
    print(f"wrote planner {result.out} ({result.trajectories} trajectories, {result.steps} steps)")
    return 0


def _train_grpo(args: argparse.Namespace) -> int:
    from vidagent.policies.grpo import train_grpo  # noqa: PLC0415

    out = train_grpo(config_from_args(GRPOConfig, args))
    print(f"wrote planner {out}")
    return 0


def _eval(args: argparse.Namespace) -> Any:
    from vidagent.policies.evaluate import run_eval_command  # noqa: PLC0415

    return run_eval_command(args)
