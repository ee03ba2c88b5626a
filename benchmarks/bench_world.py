"""World generation benchmark.

    .venv/bin/python benchmarks/bench_world.py [--videos 8] [--set-videos 200] [--json out.json]

Measures, at the default settings (320x240, 10 fps, 6-20 s):
  - throughput of one process: frames simulated + rendered + H.264-encoded per second (and the render-only
    and encode-only rates), over ``--videos`` videos;
  - throughput with all cores (``generate_world`` with one worker process per core; includes start-up);
  - size on disk per minute of video;
  - time to generate 1,000 questions (scenes simulated, no pixels), and the question-only part;
  - with ``--set-videos N`` (e.g. 200): family, answer-type, hops and answer distributions of an N-video set
    (ground truth + questions only; rendering does not change them).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from vidagent.tasks.questions import generate_questions
from vidagent.tasks.splits import video_seed
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.encode import H264Writer
from vidagent.tasks.world.generate import generate_video, generate_world, render_frames
from vidagent.tasks.world.scene import simulate
from vidagent.tasks.world.stats import format_counter, question_stats
from vidagent.tasks.world.truth import ground_truth


def one_process(config: WorldConfig, videos: int, out: Path) -> dict[str, float]:
    frames = 0
    seconds_video = 0.0
    bytes_total = 0
    start = time.perf_counter()
    for i in range(videos):
        result = generate_video(config, video_seed(0, i), f"bench-{i}", out)
        frames += result.frames
        seconds_video += result.truth.duration_s
        bytes_total += result.bytes
    total = time.perf_counter() - start
    # Breakdown on the first scene: rendering alone, then encoding pre-rendered frames alone.
    scene = simulate(config, video_seed(0, 0))
    t0 = time.perf_counter()
    rendered = list(render_frames(scene))
    t1 = time.perf_counter()
    with H264Writer(out / "encode-only.mp4", config.width, config.height, config.fps, crf=config.crf) as writer:
        for frame in rendered:
            writer.write(frame)
    t2 = time.perf_counter()
    return {"frames": frames, "fps_total": frames / total, "fps_render": len(rendered) / (t1 - t0),
            "fps_encode": len(rendered) / (t2 - t1), "mb_per_min": bytes_total / 1e6 / (seconds_video / 60),
            "video_minutes": seconds_video / 60}


def all_cores(config: WorldConfig, videos: int, out: Path) -> dict[str, float]:
    workers = os.cpu_count() or 1
    summary = generate_world(out, videos, seed=1, config=config, workers=workers, progress=False)
    return {"workers": workers, "frames": summary.frames, "fps_total": summary.frames / summary.seconds,
            "fps_per_process": summary.frames / summary.seconds / workers}


def thousand_questions(config: WorldConfig) -> dict[str, float]:
    questions, question_time, index = 0, 0.0, 0
    start = time.perf_counter()
    while questions < 1000:
        seed = video_seed(2, index)
        truth = ground_truth(simulate(config, seed), "x.mp4")
        t0 = time.perf_counter()
        questions += len(generate_questions(truth, config.questions_per_video, seed))
        question_time += time.perf_counter() - t0
        index += 1
    return {"questions": questions, "videos": index, "seconds_total": time.perf_counter() - start,
            "seconds_questions_only": question_time}


def question_set(config: WorldConfig, videos: int) -> dict[str, Counter]:
    questions = []
    for i in range(videos):
        questions += generate_video(config, video_seed(3, i), f"set-{i}", None).questions
    return question_stats(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=8, help="videos for the throughput runs")
    parser.add_argument("--set-videos", type=int, default=0, help="also report distributions of an N-video set")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    config = WorldConfig()
    with tempfile.TemporaryDirectory() as tmp:
        single = one_process(config, args.videos, Path(tmp) / "one")
        multi = all_cores(config, max(args.videos, 2 * (os.cpu_count() or 1)), Path(tmp) / "all")
    questions = thousand_questions(config)
    rows = [
        ("frames/s, 1 process (simulate+render+encode)", f"{single['fps_total']:.0f}", ">= 150"),
        ("  render only (frames/s)", f"{single['fps_render']:.0f}", ""),
        ("  H.264 encode only (frames/s)", f"{single['fps_encode']:.0f}", ""),
        (f"frames/s, all cores ({multi['workers']} processes)", f"{multi['fps_total']:.0f}",
         f"{multi['fps_per_process']:.0f}/process"),
        ("MB on disk per minute of video", f"{single['mb_per_min']:.2f}", "crf 26"),
        (f"seconds for {questions['questions']} questions ({questions['videos']} scenes)",
         f"{questions['seconds_total']:.2f}", f"{questions['seconds_questions_only']:.2f} s questions only"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"world benchmark: {config.width}x{config.height}, {config.fps} fps, "
          f"{config.min_duration_s:g}-{config.max_duration_s:g} s, {single['frames']} frames in the 1-process run")
    print(f"{'measure':<{width}}  {'value':>8}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>8}  {note}")
    report = {"one_process": single, "all_cores": multi, "questions": questions}
    if args.set_videos:
        stats = question_set(config, args.set_videos)
        print(f"\nquestion distributions over a {args.set_videos}-video set "
              f"({sum(stats['family'].values())} questions)")
        for name in ("family", "answer type", "hops", "answer"):
            print("\n" + format_counter(name, stats[name], limit=25))
        report["set"] = {name: dict(counter) for name, counter in stats.items()}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
