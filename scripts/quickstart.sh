#!/usr/bin/env bash
# README command 1: set up, build (Release) and run the quickstart experiment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/gradflow run configs/quickstart.json "$@"
# The same results as a page to look at (inline SVG; open it in any browser).
out=results/runs/quickstart
for ((i = 1; i <= $#; i++)); do
  case "${!i}" in -o|--out) j=$((i + 1)); out="${!j}" ;; --out=*) out="${!i#--out=}" ;; esac
done
./build/gradflow report "$out"
