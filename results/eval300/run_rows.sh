#!/bin/bash
# the eval table of issue 6: one process per row (a crash loses one row), the same 300 questions
cd /work/main
export OMP_NUM_THREADS=1
common="--world data/world_policy --suite world:test --tools real --questions 300 --max-tool-calls 3 --max-new-tokens 64 --concurrency 16"
.venv/bin/vidagent eval $common --rows oracle --out results/eval300/oracle > results/eval300/oracle.log 2>&1
.venv/bin/vidagent eval $common --rows prior --out results/eval300/prior > results/eval300/prior.log 2>&1
.venv/bin/vidagent eval $common --rows planners --planner SFT=runs/sft480 --out results/eval300/sft > results/eval300/sft.log 2>&1
# the base row did not fit in the session at 300 questions (~25 s per question while GRPO trained): run on the first 60
.venv/bin/vidagent eval --world data/world_policy --suite world:test --tools real --questions 60 --max-tool-calls 3 --max-new-tokens 64 --concurrency 16 --rows base --out results/eval300/base60 > results/eval300/base60.log 2>&1
# after GRPO (runs/grpo = SFT + 16 GRPO steps):
.venv/bin/vidagent eval $common --rows planners --planner SFT+GRPO=runs/grpo --out results/eval300/grpo > results/eval300/grpo.log 2>&1
# the oracle row again, with the tools as committed (the first run overlapped an edit of ground_moment)
.venv/bin/vidagent eval $common --rows oracle --out results/eval300/oracle > results/eval300/oracle.log 2>&1
python -c "from vidagent.policies.evaluate import merge_reports; merge_reports(['results/eval300/prior.json', 'results/eval300/sft.json', 'results/eval300/grpo.json', 'results/eval300/oracle.json'], 'results/eval_world_test')"
