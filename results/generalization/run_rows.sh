#!/bin/bash
# Issue 14: does the planner generalize? One planner's three rows on the same questions:
#   world   - world:test, the generator's wording (first 60, seeded order)
#   heldout - the same 60 questions in the held-out wording set (never trained on)
#   novel   - 50 questions that only one of 5 held-out novel tools answers (registered with --tool)
#   open    - 40 open questions (what kind of animal/vehicle; where in the frame), 20 per family
# A row whose OUT.json exists is not re-run (delete it to re-run).
# Usage: bash results/generalization/run_rows.sh NAME PLANNER   (e.g. shipped policies/adapters/default)
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1; planner=$2
out=results/generalization
common="--max-tool-calls 3 --max-new-tokens 64 --concurrency 16 --tools world --rows planners --planner $name=$planner"
[ -f data/world_policy/world.json ] || .venv/bin/vidagent world generate --videos 300 --seed 2026 --out data/world_policy --workers 1
[ -f $out/heldout_wording60.jsonl ] || .venv/bin/vidagent world paraphrase --world data/world_policy --split test \
    --wording heldout --limit 60 --out $out/heldout_wording60.jsonl
[ -f $out/novel_heldout.jsonl ] || .venv/bin/vidagent world novel --world data/world_policy --split test --set heldout \
    --per-tool 10 --out $out/novel_heldout.jsonl
[ -f $out/open_test.jsonl ] || .venv/bin/vidagent world open --world data/world_policy --split test --per-family 20 \
    --out $out/open_test.jsonl
tools=""
for t in motion_direction lighting_level picture_noise count_entrances list_scenery; do
    tools="$tools --tool vidagent.tasks.world.novel_tools:$t"
done
[ -f $out/${name}_world.json ] || .venv/bin/vidagent eval --world data/world_policy --suite world:test --limit 60 $common --out $out/${name}_world
[ -f $out/${name}_heldout.json ] || .venv/bin/vidagent eval --questions $out/heldout_wording60.jsonl --videos data/world_policy $common --out $out/${name}_heldout
[ -f $out/${name}_novel.json ] || .venv/bin/vidagent eval --questions $out/novel_heldout.jsonl --videos data/world_policy $common $tools --out $out/${name}_novel
[ -f $out/${name}_open.json ] || .venv/bin/vidagent eval --questions $out/open_test.jsonl --videos data/world_policy $common --out $out/${name}_open
