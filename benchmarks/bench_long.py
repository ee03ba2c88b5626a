"""Long videos: index cost against length, peak memory, and answer latency once indexed (``make bench``).

The videos are 640x360 real footage of the lengths asked (default 1, 10 and 60 minutes): the 60 s
``market_street_1906.mp4`` of the real clips (``vidagent clips fetch``), its packets copied back to back
with shifted timestamps (no re-encode, so making an hour costs seconds). For each length, in a fresh
process (so its peak memory is its own):

* ``vidagent index`` cold with the default (real) models: seconds, seconds per video minute, frames, index size,
  peak RSS;
* whole-video tool calls once indexed (detect_objects, list_segments, read_text, tag_scene, ground_moment):
  seconds and frames decoded each;
* one question through the default planner once indexed (the ``real-long`` tools): seconds and frames decoded.

    python benchmarks/bench_long.py --minutes 1 10 60 --workers 2 --json results/bench/long.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "real_clips" / "market_street_1906.mp4"
QUESTION = "How many cars appear in the video?"


def make_long_video(source: Path, minutes: float, out: Path) -> Path:
    """``source`` repeated until ``minutes`` long, by copying its packets with shifted timestamps."""
    import av

    if out.exists():
        return out
    partial = out.with_suffix(".partial.mp4")
    with av.open(str(source)) as probe:
        stream = probe.streams.video[0]
        length = float(stream.duration * stream.time_base)
    repeats = max(1, round(minutes * 60 / length))
    with av.open(str(partial), "w") as output:
        with av.open(str(source)) as first:
            template = first.streams.video[0]
            target = output.add_stream_from_template(template)
        offset = 0
        for _ in range(repeats):
            with av.open(str(source)) as container:
                stream = container.streams.video[0]
                last = 0
                for packet in container.demux(stream):
                    if packet.dts is None:
                        continue
                    packet.pts = (packet.pts or 0) + offset
                    packet.dts += offset
                    last = max(last, packet.pts + (packet.duration or 0))
                    packet.stream = target
                    output.mux(packet)
                offset = last
    partial.rename(out)
    return out


def measure_one(video: Path, workers: int) -> dict:
    """In this process: index ``video`` cold, then time whole-video tool calls and one planner question."""
    from vidagent.offline import apply_offline_defaults

    apply_offline_defaults()
    from vidagent.tools.indexing import index_video
    from vidagent.tools.profiles import profile_toolbox
    from vidagent.tools.video import VideoSession
    from vidagent.tools.video_index import IndexStore

    store = IndexStore.from_env()
    report = index_video(video, store=store, workers=workers, show_progress=False)
    out = {"video": video.name, "minutes": round(report.duration_s / 60, 2), "chunks": report.chunks,
           "workers": workers, "index_s": report.seconds,
           "index_s_per_video_minute": round(report.seconds / (report.duration_s / 60), 2),
           "index_frames": report.frames, "index_bytes": report.index_bytes, "complete": report.complete}
    toolbox = profile_toolbox("real-long")
    end = report.duration_s
    calls = {"detect_objects": {"start_s": 0, "end_s": end}, "list_segments": {},
             "read_text": {"start_s": 0, "end_s": end}, "tag_scene": {"start_s": 0, "end_s": end},
             "ground_moment": {"query": "a streetcar"}}
    tools = {}
    for name, arguments in calls.items():
        session = VideoSession(video, index_store=store)
        started = time.perf_counter()
        call = toolbox.invoke(session, name, arguments)
        tools[name] = {"seconds": round(time.perf_counter() - started, 2), "frames_decoded": session.frames_decoded,
                       "ok": call.ok, "text": call.text[:160]}
    out["tools_once_indexed"] = tools
    from vidagent.agent.api import Agent

    agent = Agent(tools=toolbox)
    agent.ask(str(ROOT / "examples" / "real" / "carphone.mp4"), "Is there a person?")  # load the planner first
    started = time.perf_counter()
    result = agent.ask(str(video), QUESTION)
    out["question_once_indexed"] = {"question": QUESTION, "seconds": round(time.perf_counter() - started, 2),
                                    "frames_decoded": result.stats.frames_decoded,
                                    "tool_calls": result.stats.tool_calls,
                                    "answer": result.answer.text if result.answer else None}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["peak_rss_mb_workers"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("--workers", type=int, default=2, help="indexing processes (default 2: this CPU's cores)")
    parser.add_argument("--videos", default=str(ROOT / "data" / "long_videos"), help="where the long videos go")
    parser.add_argument("--json", default="", help="write the results here")
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)  # internal: measure one video in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(Path(args.one), args.workers)))
        return 0
    if not SOURCE.exists():
        print(f"bench_long: {SOURCE} is missing; run `vidagent clips fetch` (or make clips) first", file=sys.stderr)
        return 2
    folder = Path(args.videos)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "VIDAGENT_CACHE_DIR": cache, "VIDAGENT_INDEX": "on", "VIDAGENT_RESULT_CACHE": "off",
               "VIDAGENT_PROGRESS": "off"}
        for minutes in args.minutes:
            video = make_long_video(SOURCE, minutes, folder / f"market_street_{minutes:g}min.mp4")
            done = subprocess.run([sys.executable, __file__, "--one", str(video), "--workers", str(args.workers)],
                                  env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return done.returncode
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{row['minutes']:>5} min: index {row['index_s']:.0f} s ({row['index_s_per_video_minute']:.1f} s per "
                  f"video minute, {row['index_frames']} frames, {row['index_bytes'] / 2**20:.1f} MB), peak RSS "
                  f"{row['peak_rss_mb']} MB (workers {row['peak_rss_mb_workers']} MB); once indexed: question "
                  f"{row['question_once_indexed']['seconds']:.1f} s, "
                  f"{row['question_once_indexed']['frames_decoded']} frames decoded; tools "
                  + ", ".join(f"{k} {v['seconds']:.1f} s/{v['frames_decoded']} fr"
                              for k, v in row["tools_once_indexed"].items()), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"source": SOURCE.name, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
