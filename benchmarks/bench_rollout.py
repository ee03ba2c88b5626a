"""Rollout throughput: the GRPO rollouts of a batch run concurrently with batched LLM calls,
versus the same rollouts one by one, on the same model, the same questions, oracle tools.

    .venv/bin/python benchmarks/bench_rollout.py --world data/world_policy [--planner base] \
        [--questions 3 --group-size 4]

A batch is what one GRPO step rolls out: ``--questions`` train questions, each ``--group-size`` times (the
shipped run used 3 x 4). Both modes sample with the same settings (temperature 1, ``--max-new-tokens``).
Sampled rollouts differ between the modes, so the headline figure is planner tokens generated per second
(model tokens only: observations are not generated); rollouts per second is printed beside it.
Target: >= 3x.
"""

from __future__ import annotations

import argparse
import json
import time

import vidagent  # noqa: F401  (offline defaults)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", required=True)
    parser.add_argument("--planner", default="base", help="base, or an adapter / model directory")
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import torch

    from vidagent.policies.environment import WorldData, make_toolbox
    from vidagent.policies.models import load_base
    from vidagent.policies.rollout import GraphRollout

    world = WorldData.load(args.world)
    distinct = world.questions("train", args.questions, seed=1)
    questions = [q for q in distinct for _ in range(args.group_size)]  # a GRPO batch: each question, a group
    model, tokenizer, _ = load_base(args.planner)
    rollout = GraphRollout(questions, world.video_path, make_toolbox("world-truth", world), tokenizer,
                           max_tool_calls=3, max_new_tokens=args.max_new_tokens, temperature=1.0)
    rollout.rollout(model, questions[:1])  # warm-up

    def timed(batches: list[list]) -> tuple[float, int]:
        torch.manual_seed(0)
        started, tokens = time.perf_counter(), 0
        for i, batch in enumerate(batches):  # one-by-one keeps the system prompt cached: no update in between
            tokens += sum(sum(t.model_mask) for t in rollout.rollout(model, batch, weights_changed=i == 0))
        return time.perf_counter() - started, tokens

    concurrent_s, concurrent_tokens = timed([questions])
    serial_s, serial_tokens = timed([[q] for q in questions])
    report = {"rollouts": len(questions), "concurrent_s": round(concurrent_s, 2), "serial_s": round(serial_s, 2),
              "concurrent_tokens_per_s": round(concurrent_tokens / concurrent_s, 2),
              "serial_tokens_per_s": round(serial_tokens / serial_s, 2),
              "speedup_rollouts_per_s": round(serial_s / concurrent_s, 2),
              "threads": torch.get_num_threads()}
    report["speedup_tokens_per_s"] = round(report["concurrent_tokens_per_s"] / report["serial_tokens_per_s"], 2)
    print(json.dumps(report, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
