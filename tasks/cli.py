"""``vidagent world ...``: generate world videos with questions, and print statistics of a directory."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    world = subparsers.add_parser("world", help="synthetic videos with ground truth and verifiable questions",
                                  description="The world: procedural videos with ground truth, question suites "
                                              "and oracle programs (docs/world.md).")
    actions = world.add_subparsers(dest="world_command", metavar="ACTION")
    world.set_defaults(handler=lambda args: world.print_help() or 2)

    gen = actions.add_parser("generate", help="generate N videos + ground truth + questions into a directory")
    gen.add_argument("--videos", type=int, required=True, help="number of videos")
    gen.add_argument("--seed", type=int, default=0, help="run seed; video i gets a seed derived from it")
    gen.add_argument("--out", type=Path, required=True, help="output directory")
    gen.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    gen.add_argument("--config", type=Path, default=None,
                     help="JSON file of WorldConfig fields (width, height, fps, min_duration_s, classes, ...)")
    gen.add_argument("--questions-per-video", type=int, default=None)
    gen.add_argument("--no-progress", action="store_true", help="no progress bar")
    gen.set_defaults(handler=_generate)

    stats = actions.add_parser("stats", help="generator version and counts (family, answer type, action, "
                                             "class) of a directory")
    stats.add_argument("dir", type=Path)
    stats.set_defaults(handler=_stats)


def _generate(args: argparse.Namespace) -> int:
    from vidagent.errors import ConfigError
    from vidagent.tasks.questions import GENERATOR_VERSION
    from vidagent.tasks.world.config import WorldConfig
    from vidagent.tasks.world.generate import generate_world

    fields = {}
    if args.config is not None:
        try:
            fields = json.loads(args.config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"cannot read --config {args.config}: {error}",
                              "pass a JSON object of WorldConfig fields") from None
    if args.questions_per_video is not None:
        fields["questions_per_video"] = args.questions_per_video
    config = WorldConfig(**fields)
    summary = generate_world(args.out, args.videos, args.seed, config, workers=args.workers,
                             progress=not args.no_progress)
    rate = summary.frames / summary.seconds if summary.seconds else 0.0
    splits = ", ".join(f"{name} {len(ids)}" for name, ids in summary.splits.items())
    print(f"wrote {summary.videos} videos ({summary.frames} frames, {rate:.0f} frames/s), "
          f"{summary.questions} questions, {summary.bytes / 1e6:.1f} MB to {summary.out} [{splits}], "
          f"generator {GENERATOR_VERSION}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from vidagent.tasks.world.stats import world_report

    print(world_report(args.dir))
    return 0
