#!/usr/bin/env bash
# Sweep throughput with --jobs 1 against --jobs N (default 2), measured side by side in one
# invocation, alternating the two to spread machine noise over both. Prints runs/s and ratio.
# usage: benchmarks/sweep_scaling.sh [GRADFLOW_BINARY] [JOBS] [REPEATS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gradflow="${1:-$root/build/gradflow}"
jobs="${2:-2}"
repeats="${3:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
config="$root/benchmarks/sweep_scaling.json"
runs=$("$gradflow" plan "$config" | sed -n 's/.*: \([0-9]*\) runs.*/\1/p' | head -1)

elapsed() {  # seconds for one full sweep with --jobs $1
  local start end
  rm -rf "$work/out"
  start=$(date +%s.%N)
  "$gradflow" run "$config" --out "$work/out" --jobs "$1" -q
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' 
}

t1=0; tn=0
for _ in $(seq "$repeats"); do
  t1=$(awk -v a="$t1" -v b="$(elapsed 1)" 'BEGIN { print a + b }')
  tn=$(awk -v a="$tn" -v b="$(elapsed "$jobs")" 'BEGIN { print a + b }')
done
printf 'sweep of %s runs, %s repeats each, alternating\n' "$runs" "$repeats"
awk -v n="$runs" -v r="$repeats" -v t1="$t1" -v tn="$tn" -v j="$jobs" 'BEGIN {
  printf "  --jobs 1: %.2f runs/s\n  --jobs %s: %.2f runs/s\n  throughput ratio: %.2fx\n",
         n * r / t1, j, n * r / tn, t1 / tn }' 
