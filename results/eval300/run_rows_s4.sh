#!/bin/bash
# Session 4: the rows that call the real detector, again, with detector v4 (tools/weights/detector.pt).
# Two lanes, one thread each (the machine has 2 cores): the tool evals, and the eval300 rows.
cd /work/main
export OMP_NUM_THREADS=1
common="--world data/world_policy --suite world:test --tools real --questions 300 --max-tool-calls 3 --max-new-tokens 64 --concurrency 16"
(
  .venv/bin/python -m vidagent.tools.eval_tools --world data/world_eval --split test --only action --out results/eval_tools_action_v4.json > results/eval300/action_tools_s4.log 2>&1
  .venv/bin/python -m vidagent.tools.eval_tools --world data/world_eval --split test --only grounding --out results/ground_eval_v4.json > results/eval300/grounding_s4.log 2>&1
) &
(
  .venv/bin/vidagent eval $common --rows oracle --out results/eval300/oracle_s4 > results/eval300/oracle_s4.log 2>&1
  .venv/bin/vidagent eval $common --rows planners --planner SFT+GRPO=runs/grpo --out results/eval300/grpo_s4 > results/eval300/grpo_s4.log 2>&1
  .venv/bin/vidagent eval $common --rows planners --planner SFT=runs/sft480 --out results/eval300/sft_s4 > results/eval300/sft_s4.log 2>&1
) &
wait
