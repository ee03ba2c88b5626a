#!/bin/bash
# Session 5 (issue 12): every row of the world:test table re-run with today's generator (world-v2, stamped in
# the world and in every row) and today's code: the default tools over one declaration, the one answer
# parser. Rows run one after another, 2 threads each, on the 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=2
[ -f data/world_policy/world.json ] || .venv/bin/vidagent world generate --videos 300 --seed 2026 --out data/world_policy --workers 1
common="--world data/world_policy --suite world:test --limit 300 --max-tool-calls 3 --max-new-tokens 64 --concurrency 16"
out=results/eval300
.venv/bin/vidagent eval $common --tools world-truth --rows oracle --out $out/oracle_truth > $out/oracle_truth.log 2>&1
.venv/bin/vidagent eval $common --tools world --rows oracle --out $out/oracle > $out/oracle.log 2>&1
.venv/bin/vidagent eval $common --tools world --rows prior --out $out/prior > $out/prior.log 2>&1
.venv/bin/vidagent eval $common --tools world --rows planners --planner SFT+GRPO=policies/adapters/default \
    --out $out/grpo > $out/grpo.log 2>&1
.venv/bin/python -c "from vidagent.policies.evaluate import merge_reports; merge_reports(['$out/prior.json', '$out/grpo.json', '$out/oracle.json', '$out/oracle_truth.json'], 'results/eval_world_test')"
# the zero-shot base planner takes ~18 s a question on this CPU: the first 60 of the same questions
.venv/bin/vidagent eval ${common/--limit 300/--limit 60} --tools world --rows base --out $out/base60 > $out/base60.log 2>&1
