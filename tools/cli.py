"""``vidagent video ...``, ``vidagent tools ...``, ``vidagent index ...`` and ``vidagent cache ...``."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    video = subparsers.add_parser("video", help="inspect a video file")
    video_sub = video.add_subparsers(dest="video_command", metavar="ACTION", required=True)
    info = video_sub.add_parser("info", help="print a video's metadata (fps, frames, duration, size, sha256)")
    info.add_argument("path", help="video file")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=video_info)

    tools = subparsers.add_parser("tools", help="list the planner's tools")
    tools_sub = tools.add_subparsers(dest="tools_command", metavar="ACTION", required=True)
    listing = tools_sub.add_parser("list", help="show every tool with its parameters")
    add_tool_option(listing)
    listing.add_argument("--json", action="store_true", help="print the JSON schemas")
    listing.set_defaults(handler=tools_list)

    index = subparsers.add_parser(
        "index", help="index videos once (objects, scene tags, text, shots) so later questions answer from it",
        description="Run the perception models over whole videos once, chunk by chunk, and keep what they saw "
                    "on disk (keyed by the video's sha256 and the models' versions). Resumable: run it again "
                    "after a stop and it finishes the missing chunks. `vidagent ask` indexes what its "
                    "question needs by itself; this does whole videos or folders up front.")
    index.add_argument("paths", nargs="+", metavar="VIDEO|DIR", help="video files or folders of videos")
    index.add_argument("--tools", default="real", metavar="PROFILE",
                       help="the models to index with (a tool profile: real or world; default real)")
    index.add_argument("--workers", type=int, default=1,
                       help="processes sharing the chunks of a video (local engine) or videos (ray); default 1")
    index.add_argument("--engine", choices=["local", "ray"], default="local",
                       help="local: this machine's processes (default, no Ray); ray: one Ray task per video "
                            "(a local Ray here, or the cluster RAY_ADDRESS names)")
    index.add_argument("--rebuild", action="store_true", help="delete index chunks from other model versions")
    index.add_argument("--no-wait", action="store_true",
                       help="stop with an error when another process is indexing the same video (default: wait)")
    index.add_argument("--json", action="store_true", help="print one JSON report per video")
    index.set_defaults(handler=index_command)

    cache = subparsers.add_parser("cache", help="the on-disk tool-result cache")
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    cache_sub.add_parser("info", help="where it is and how many entries").set_defaults(handler=cache_info)
    cache_sub.add_parser("clear", help="delete every cached result").set_defaults(handler=cache_clear)


def add_tool_option(parser: argparse.ArgumentParser) -> None:
    from vidagent.tools.profiles import DEFAULT_PROFILE, PROFILES  # noqa: PLC0415  (no model imports)

    parser.add_argument("--tools", default=DEFAULT_PROFILE, choices=list(PROFILES), metavar="PROFILE",
                        help="what the default tools perceive with: "
                             + "; ".join(f"{name}: {about}" for name, (about, _) in PROFILES.items())
                             + f" (default {DEFAULT_PROFILE})")
    parser.add_argument("--tool", action="append", default=[], metavar="MODULE:ATTR",
                        help="add a user tool (function, Tool or VisionTool); repeatable")


def toolbox_from_args(args: argparse.Namespace):
    from vidagent.tools.profiles import profile_toolbox  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415

    return profile_toolbox(args.tools, load_tool_specs(args.tool))


def video_info(args: argparse.Namespace) -> int:
    from dataclasses import asdict  # noqa: PLC0415

    from vidagent.tools.video import VideoRef  # noqa: PLC0415

    ref = VideoRef.open(args.path)
    if args.json:
        print(json.dumps(asdict(ref), indent=2))
        return 0
    print(f"path      {ref.path}")
    print(f"codec     {ref.codec}")
    print(f"size      {ref.width}x{ref.height}")
    print(f"fps       {ref.fps:.3f}")
    print(f"frames    {ref.frame_count}")
    print(f"duration  {ref.duration_s:.2f} s")
    print(f"sha256    {ref.sha256}")
    return 0


def tools_list(args: argparse.Namespace) -> int:
    toolbox = toolbox_from_args(args)
    if args.json:
        print(json.dumps(toolbox.schemas(), indent=2))
        return 0
    from vidagent.tools.profiles import PROFILES  # noqa: PLC0415

    print(f"profile {args.tools}: {PROFILES[args.tools][0]}\n")
    if not len(toolbox):
        print("no tools")
    for tool in toolbox:
        print(f"{tool.name}\n    {tool.description}")
        schema = tool.parameters_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            flag = "required" if name in required else f"default {json.dumps(prop.get('default'))}"
            print(f"    - {name} ({_type(prop)}, {flag}): {prop.get('description', '')}")
    return 0


def _type(prop: dict) -> str:
    from vidagent.tools.base import _type_name  # noqa: PLC0415

    return _type_name(prop)


def cache_info(args: argparse.Namespace) -> int:
    from vidagent.tools.cache import ResultCache  # noqa: PLC0415

    print(json.dumps(ResultCache.from_env().stats(), indent=2))
    return 0


def cache_clear(args: argparse.Namespace) -> int:
    from vidagent.tools.cache import ResultCache  # noqa: PLC0415

    removed = ResultCache.from_env().clear()
    print(f"removed {removed} cached results")
    return 0


def index_command(args: argparse.Namespace) -> int:
    import sys  # noqa: PLC0415

    from vidagent.tools.indexing import index_video, video_files  # noqa: PLC0415
    from vidagent.tools.video_index import IndexStore  # noqa: PLC0415

    from vidagent.errors import ConfigError  # noqa: PLC0415

    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}", "pass --workers 1 or more")
    paths = video_files(args.paths)
    store = IndexStore.from_env()
    if args.engine == "ray":
        from vidagent.tools.ray_engine import index_with_ray  # noqa: PLC0415

        reports = index_with_ray(paths, profile=args.tools, workers=args.workers, store=store,
                                 rebuild=args.rebuild)
    else:
        reports = []
        say = (lambda text: print(text, file=sys.stderr))
        for number, path in enumerate(paths, 1):
            if len(paths) > 1:
                print(f"[{number}/{len(paths)}] {path}", file=sys.stderr)
            try:
                reports.append(index_video(path, profile=args.tools, store=store, workers=args.workers,
                                           rebuild=args.rebuild, wait_for_lock=not args.no_wait, say=say))
            except KeyboardInterrupt:
                print(f"interrupted: the finished chunks of {path} are kept; run the same command again to "
                      "finish", file=sys.stderr)
                raise
            if not args.json:
                print(reports[-1].line())
    if args.json:
        for report in reports:
            print(json.dumps(report.to_dict()))
    elif args.engine == "ray":
        for report in reports:
            print(report.line())
    return 0 if all(r.complete for r in reports) else 1
