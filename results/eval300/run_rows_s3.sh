#!/bin/bash
# Session 3: the rows again with the tools as committed now (track clean-up in detect_objects), plus the
# zero-shot base row on all 300 questions. Two lanes, one thread each (the machine has 2 cores).
cd /work/main
export OMP_NUM_THREADS=1
common="--world data/world_policy --suite world:test --tools real --questions 300 --max-tool-calls 3 --max-new-tokens 64 --concurrency 16"
(
  .venv/bin/python -m vidagent.tools.eval_tools --world data/world_eval --split test --only action --out results/eval_tools_action_v3.json > results/eval300/action_tools.log 2>&1
  .venv/bin/vidagent eval $common --rows oracle --out results/eval300/oracle > results/eval300/oracle.log 2>&1
  .venv/bin/vidagent eval $common --rows planners --planner SFT+GRPO=runs/grpo --out results/eval300/grpo > results/eval300/grpo.log 2>&1
  .venv/bin/vidagent eval $common --rows planners --planner SFT=runs/sft480 --out results/eval300/sft > results/eval300/sft.log 2>&1
) &
.venv/bin/vidagent eval $common --rows base --out results/eval300/base > results/eval300/base.log 2>&1 &
wait
.venv/bin/python -c "from vidagent.policies.evaluate import merge_reports; merge_reports(['results/eval300/prior.json', 'results/eval300/base.json', 'results/eval300/sft.json', 'results/eval300/grpo.json', 'results/eval300/oracle.json'], 'results/eval_world_test')"
