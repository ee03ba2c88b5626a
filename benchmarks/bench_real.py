"""Real-footage models benchmark on this CPU.

    .venv/bin/python benchmarks/bench_real.py [--clip data/real_clips/market_street_1906.mp4] [--json F]

1. Seconds per frame of each real model on 640x360 frames of real footage (median of the frames):
   SSD-MobileNetV2 (COCO), YOLO11n-pose, EfficientNet-Lite3 tags, PP-OCRv6 text.
2. Whole-tool seconds on a 60 s 640x360 real clip (default: ``market_street_1906.mp4`` from
   ``vidagent clips fetch``; without it, the bundled ``examples/real/bikes.mp4`` looped six times and
   resized): each tool cold (fresh models, empty frame and result caches) and cached (the same call again).
3. Peak RSS with every real model loaded. Target: ``detect_objects`` over the 60 s clip under 20 s cold.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FETCHED = REPO / "data" / "real_clips" / "market_street_1906.mp4"
BUNDLED = REPO / "examples" / "real" / "bikes.mp4"


def looped_clip(out: Path) -> Path:
    """60 s of 640x360 real footage from the bundled clip (looped), when no fetched clip is there."""
    from vidagent.tools.video import VideoRef, decode_frames, write_video

    ref = VideoRef.open(BUNDLED)
    frames = decode_frames(ref, list(range(ref.frame_count)))
    import cv2

    resized = [cv2.resize(f, (640, 360)) for f in frames]
    return write_video(out, (f for _ in range(6) for f in resized), fps=ref.fps)


def per_frame(fn, frames: list[np.ndarray]) -> float:
    fn(frames[0])  # warm-up: first calls allocate
    times = []
    for frame in frames[1:]:
        started = time.perf_counter()
        fn(frame)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", default=None, help="a 60 s real clip (default: see the module docstring)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    from vidagent.offline import apply_offline_defaults

    apply_offline_defaults()
    import torch

    torch.set_num_threads(2)
    from vidagent.tools.cache import ResultCache
    from vidagent.tools.profiles import profile_toolbox
    from vidagent.tools.real_detector import CocoModels
    from vidagent.tools.scene_models import SceneTagger, TextReader
    from vidagent.tools.video import VideoSession, shared_frame_cache

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(args.clip) if args.clip else FETCHED if FETCHED.is_file() else looped_clip(Path(tmp) / "l.mp4")
        video = VideoSession(clip)
        print(f"clip {clip.name}: {video.ref.width}x{video.ref.height}, {video.ref.duration_s:.1f} s")
        import cv2

        frames = [cv2.resize(f, (640, 360)) for f in video.sample(0, video.ref.duration_s, count=12).images]
        report: dict = {"clip": clip.name, "duration_s": video.ref.duration_s, "seconds_per_frame_640x360": {}}
        coco, tagger, reader = CocoModels(), SceneTagger(), TextReader()
        for name, fn in (("ssd_mobilenet_v2", lambda f: coco._ssd(f[None])),
                         ("yolo11n_pose", lambda f: coco._pose(f[None])),
                         ("efficientnet_lite3", lambda f: tagger.tags(("bench", id(f), time.time()), f)),
                         ("ppocrv6", lambda f: reader.read(("bench", id(f), time.time()), f))):
            seconds = per_frame(fn, frames)
            report["seconds_per_frame_640x360"][name] = round(seconds, 4)
            print(f"  {name:20s} {1000 * seconds:7.1f} ms/frame")
        report["peak_rss_mb_models_loaded"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(f"peak RSS with every real model loaded: {report['peak_rss_mb_models_loaded']} MB")

        end = video.ref.duration_s
        calls = [("detect_objects", {"start_s": 0.0, "end_s": end}),
                 ("recognize_action", {"start_s": 0.0, "end_s": end}),
                 ("describe_frame", {"t_s": end / 2}),
                 ("ground_moment", {"query": "a person walks"}),
                 ("tag_scene", {"start_s": 0.0, "end_s": end}),
                 ("read_text", {"start_s": 0.0, "end_s": end})]
        report["tools_60s_clip"] = {}
        cache = ResultCache(Path(tmp) / "cache")
        for name, call in calls:  # cold: fresh models (load included), empty caches, one tool at a time
            shared_frame_cache().clear()
            toolbox = profile_toolbox("real")
            session = VideoSession(clip, result_cache=cache)
            started = time.perf_counter()
            out = toolbox[name].invoke(session, call)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            toolbox[name].invoke(session, call)
            cached = time.perf_counter() - started
            report["tools_60s_clip"][name] = {"cold_s": round(cold, 2), "cached_s": round(cached, 4),
                                              "error": out.error}
            print(f"  {name:16s} cold {cold:6.1f} s   cached {1000 * cached:6.1f} ms   {out.text[:70]!r}")
        report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(f"peak RSS: {report['peak_rss_mb']} MB; target detect_objects cold < 20 s: "
              f"{report['tools_60s_clip']['detect_objects']['cold_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
