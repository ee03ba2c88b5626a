"""Video access benchmark: sparse sampling vs sequential decoding, frame-cache hits, memory.

    .venv/bin/python benchmarks/bench_video.py [--seconds 60] [--cache-mb 64] [--json out.json]

Generates a 640x360 H.264 video at 30 fps (textured, moving content so the codec does real work) with
a keyframe every 2 s (what streaming sites and most cameras use), then times, best of 3 unless noted:
  - decoding every frame in order with PyAV (the baseline),
  - sampling 32 frames spread over the whole video, cold (empty frame cache), with decord and with PyAV,
    at exact times and snapped to the nearest keyframes (one decode per sample),
  - the same sample again, served from the frame cache,
and reports peak RSS and the frame cache's peak bytes against its bound. ``--gop 250`` (x264's default)
shows the limit: a sample decodes from the previous keyframe, so with 8 s GOPs and a sample every 2 s
sparse sampling decodes about as much as the sequential pass.
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
    """A panning textured scene with a moving object. The texture is low-frequency noise (upsampled 8x),
    closer to natural images than per-pixel noise, which would make every keyframe unrealistically large."""
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 255, (height // 8, width * 2 // 8, 3), dtype=np.uint8)
    background = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)
    background = (background.astype(np.float32) * 0.8 + rng.normal(0, 6, background.shape)).clip(0, 255)
    background = background.astype(np.uint8)
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
    parser.add_argument("--gop", type=int, default=60, help="keyframe interval in frames (60 = 2 s at 30 fps)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(Path(tmp) / "bench.mp4", textured_frames(args.seconds), fps=30,
                           keyframe_interval=args.gop)
        ref = VideoRef.open(path)
        bound = args.cache_mb * 2**20
        figures: dict[str, float] = {"frames_in_video": ref.frame_count, "video_mb": path.stat().st_size / 2**20}

        figures["sequential_all_s"] = best_of(lambda: decode_all_sequential(ref), repeats=2)
        for decoder in ("decord", "pyav"):
            for snap in (False, True):
                name = f"sparse32_{decoder}{'_keyframes' if snap else ''}_s"
                figures[name] = best_of(lambda d=decoder, k=snap: sample_frames(
                    ref, 0, ref.duration_s, count=32, cache=FrameCache(bound), decoder=d, snap_to_keyframes=k))
        cache = FrameCache(bound)
        figures["cold_sample_s"] = best_of(lambda: sample_frames(ref, 0, ref.duration_s, count=32,
                                                                 cache=cache, decoder="auto"), repeats=1)
        figures["cache_hit_s"] = best_of(lambda: sample_frames(ref, 0, ref.duration_s, count=32, cache=cache), repeats=5)
        # Overflow the cache on purpose: 300 frames x 675 KiB is ~200 MiB against the bound.
        sample_frames(ref, 0, ref.duration_s, count=300, cache=cache)
        figures["cache_bound_mb"] = bound / 2**20
        figures["cache_peak_mb"] = cache.peak_bytes / 2**20
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    figures["sparse_exact_speedup_x"] = figures["sequential_all_s"] / min(
        figures["sparse32_decord_s"], figures["sparse32_pyav_s"])
    figures["sparse_speedup_x"] = figures["sequential_all_s"] / min(
        figures["sparse32_decord_keyframes_s"], figures["sparse32_pyav_keyframes_s"])
    figures["cache_speedup_x"] = figures["cold_sample_s"] / figures["cache_hit_s"]
    checks = {
        "sparse (keyframe-snapped) >= 5x faster than sequential": figures["sparse_speedup_x"] >= 5,
        "cache hit >= 50x faster than cold": figures["cache_speedup_x"] >= 50,
        "frame cache never above its bound": figures["cache_peak_mb"] <= figures["cache_bound_mb"],
    }
    print(f"video: {args.seconds} s, 640x360, 30 fps, keyframe every {args.gop} frames, {figures['frames_in_video']} frames, "
          f"{figures['video_mb']:.1f} MB")
    print(f"{'measure':<40} {'value':>12}")
    for key in ("sequential_all_s", "sparse32_decord_s", "sparse32_pyav_s", "sparse32_decord_keyframes_s",
                "sparse32_pyav_keyframes_s", "cold_sample_s", "cache_hit_s"):
        print(f"{key:<40} {figures[key] * 1000:>10.1f} ms")
    print(f"{'sparse speed-up, exact times':<40} {figures['sparse_exact_speedup_x']:>11.1f}x")
    print(f"{'sparse speed-up, keyframe-snapped':<40} {figures['sparse_speedup_x']:>11.1f}x")
    print(f"{'cache-hit speed-up':<40} {figures['cache_speedup_x']:>11.0f}x")
    print(f"{'frame cache peak / bound':<40} {figures['cache_peak_mb']:>6.1f} / {figures['cache_bound_mb']:.0f} MB")
    print(f"{'peak RSS':<40} {figures['peak_rss_mb']:>9.0f} MB")
    for name, ok in checks.items():
        print(f"[{'PASS' if ok else 'FAIL'}] {name}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "checks": checks}, indent=2))


if __name__ == "__main__":
    main()
