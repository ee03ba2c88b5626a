#!/usr/bin/env bash
# Self-consistency on world:test: greedy N=1 against votes of N sampled runs on the first LIMIT (default 40)
# questions of the seeded order: LIMIT=20 bash results/tts/run_tts.sh 4 8 (SKIP_GREEDY=1: no N=1 row;
# ADAPTIVE=3: each N also as an adaptive run that stops once 3 samples agree, a cap of N; PLANNER=NAME=SPEC:
# another planner than the shipped default). Each sampled row keeps every sample's answer:
# `vidagent scaling results/tts/n8_limit60.json --out results/tts/n8_limit60_curve` scores votes of 1, 2, 4, 8,
# the adaptive stops and the evidence weighting on those same samples.
# Needs data/world_policy (`vidagent world generate --videos 300 --seed 2026 --out data/world_policy --workers 1`).
set -euo pipefail
cd "$(dirname "$0")/../.."
common=(--world data/world_policy --suite world:test --tools world --rows planners --planner "${PLANNER:-default}"
        --limit "${LIMIT:-40}" --max-tool-calls 3)
[ -n "${SKIP_GREEDY:-}" ] || .venv/bin/vidagent eval "${common[@]}" --out "results/tts/n1_limit${LIMIT:-40}"
for n in "$@"; do
  if [ -n "${ADAPTIVE:-}" ]; then
    .venv/bin/vidagent eval "${common[@]}" --samples "$n" --adaptive "$ADAPTIVE" --concurrency 2 \
      --out "results/tts/n${n}_adaptive${ADAPTIVE}_limit${LIMIT:-40}"
  else
    .venv/bin/vidagent eval "${common[@]}" --samples "$n" --concurrency 2 --out "results/tts/n${n}_limit${LIMIT:-40}"
  fi
done
