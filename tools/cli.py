"""``vidagent video ...``, ``vidagent tools ...`` and ``vidagent cache ...``."""

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
