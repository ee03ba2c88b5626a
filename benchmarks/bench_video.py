"""Video access benchmark (issue 2): sparse sampling vs sequential decoding, frame-cache hits, memory.

    .venv/bin/python benchmarks/bench_video.py [--seconds 60] [--cache-mb 64] [--json out.json]

Generates a 640x360 H.264 video at 30 fps (textured, moving content so the codec does real work),
then times, best of 3 unless noted:
  - decoding every frame in order with PyAV (the baseline),
  - sampling 32 frames spread over the whole video, cold (empty frame cache), with decord and with PyAV,
  - the same sample again, served from the frame cache,
and reports peak RSS and the frame cache's peak bytes against its bound.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from vidagent.tools.video import FrameCache, VideoRef, decode_all_sequential, sample_frames, write_video


def textured_frames(seconds: int, fps: int = 30, width: int = 640, height: int = 360):
    rng = np.random.default_rng(0)
    background = rng.integers(0, 255, (height, width * 2, 3), dtype=np.uint8)
    for i in range(seconds * fps):
        shift = (i * 4) % width
        frame = background[:, shift : shift + width].copy()
        x = (i * 7) % (width - 60)
        frame[100:160, x : x + 60] = (255, 40, 40)
        yield frame


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--cache-mb", type=int, default=64, help="frame cache bound for the test")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(Path(tmp) / "bench.mp4", textured_frames(args.seconds), fps=30)
        ref = VideoRef.open(path)
        bound = args.cache_mb * 2**20
        figures: dict[str, float] = {"frames_in_video": ref.frame_count, "video_mb": path.stat().st_size / 2**20}

        figures["sequential_all_s"] = best_of(lambda: decode_all_sequential(ref), repeats=1)
        for decoder in ("decord", "pyav"):
            figures[f"sparse32_{decoder}_s"] = best_of(
                lambda d=decoder: sample_frames(ref, 0, ref.duration_s, count=32, cache=FrameCache(bound), decoder=d))
        cache = FrameCache(bound)
        figures["cold_sample_s"] = best_of(lambda: sample_frames(ref, 0, ref.duration_s, count=32,
                                                                 cache=cache, decoder="auto"), repeats=1)
        figures["cache_hit_s"] = best_of(lambda: sample_frames(ref, 0, ref.duration_s, count=32, cache=cache), repeats=5)
        # Overflow the cache on purpose: 300 frames x 675 KiB is ~200 MiB against the bound.
        sample_frames(ref, 0, ref.duration_s, count=300, cache=cache)
        figures["cache_bound_mb"] = bound / 2**20
        figures["cache_peak_mb"] = cache.peak_bytes / 2**20
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    best_sparse = min(figures["sparse32_decord_s"], figures["sparse32_pyav_s"])
    figures["sparse_speedup_x"] = figures["sequential_all_s"] / best_sparse
    figures["cache_speedup_x"] = figures["cold_sample_s"] / figures["cache_hit_s"]
    checks = {
        "sparse >= 5x faster than sequential": figures["sparse_speedup_x"] >= 5,
        "cache hit >= 50x faster than cold": figures["cache_speedup_x"] >= 50,
        "frame cache never above its bound": figures["cache_peak_mb"] <= figures["cache_bound_mb"],
    }
    print(f"video: {args.seconds} s, 640x360, 30 fps, {figures['frames_in_video']} frames, "
          f"{figures['video_mb']:.1f} MB")
    print(f"{'measure':<40} {'value':>12}")
    for key in ("sequential_all_s", "sparse32_decord_s", "sparse32_pyav_s", "cold_sample_s", "cache_hit_s"):
        print(f"{key:<40} {figures[key] * 1000:>10.1f} ms")
    print(f"{'sparse speed-up (best decoder)':<40} {figures['sparse_speedup_x']:>11.1f}x")
    print(f"{'cache-hit speed-up':<40} {figures['cache_speedup_x']:>11.0f}x")
    print(f"{'frame cache peak / bound':<40} {figures['cache_peak_mb']:>6.1f} / {figures['cache_bound_mb']:.0f} MB")
    print(f"{'peak RSS':<40} {figures['peak_rss_mb']:>9.0f} MB")
    for name, ok in checks.items():
        print(f"[{'PASS' if ok else 'FAIL'}] {name}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "checks": checks}, indent=2))


if __name__ == "__main__":
    main()
