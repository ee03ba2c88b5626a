"""Regenerate the bundled world examples (the demo videos, their ground truth and questions).

    python examples/world/make_bundle.py --out examples/world

Five short videos (9-10 s, 320x240, 10 fps); ``street`` (people, cars and a dog on a street) is the demo
video. Deterministic: the same command rewrites byte-identical ground truth and questions (the H.264 bytes
can differ with the libx264 build). ``world.json`` and the questions record the generator version
(``GENERATOR_VERSION``): rerun this whenever it is bumped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vidagent.tasks.splits import split_of
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.generate import generate_video, write_directory

SHORT = {"min_duration_s": 9.0, "max_duration_s": 10.0, "questions_per_video": 16}
# name -> (video seed, config)
BUNDLE: dict[str, tuple[int, WorldConfig]] = {
    "street": (2, WorldConfig(**SHORT, backgrounds=("street",), classes=("person", "car", "dog"),
                              include=("person", "person", "car", "car", "dog"), min_objects=5, max_objects=6,
                              collision_prob=0.0)),
    "park": (1, WorldConfig(**SHORT, backgrounds=("park",), include=("dog", "ball", "bird", "person"),
                            min_objects=4, max_objects=5)),
    "plaza": (3, WorldConfig(**SHORT, backgrounds=("plaza",), include=("ball", "box", "person", "bicycle"),
                             collision_prob=1.0, min_objects=4, max_objects=5)),
    "beach": (4, WorldConfig(**SHORT, backgrounds=("beach",), include=("person", "person", "bird"),
                             min_objects=3, max_objects=5)),
    "crossing": (5, WorldConfig(**SHORT, backgrounds=("street",), include=("car", "bicycle", "person", "person"),
                                min_objects=4, max_objects=6)),
}


def make_bundle(out: Path, names: list[str] | None = None) -> None:
    results = []
    for name in names or list(BUNDLE):
        seed, config = BUNDLE[name]
        results.append(generate_video(config, seed, name, out, split_of(seed)))
    summary = write_directory(out, results, {"seed": None, "videos": len(results),
                                             "note": "bundled examples: python examples/world/make_bundle.py"})
    print(f"wrote {summary.videos} videos, {summary.questions} questions, {summary.bytes / 1e6:.2f} MB to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--only", nargs="*", choices=list(BUNDLE), help="generate only these videos")
    args = parser.parse_args()
    make_bundle(args.out, args.only)
