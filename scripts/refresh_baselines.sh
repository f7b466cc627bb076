#!/usr/bin/env bash
# Regenerates the regression baselines in results/baselines/ from configs/regression/*.json.
# Run it only when a change in results is intended, and say why in the commit message.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gradflow="${1:-$root/build/gradflow}"
for config in "$root"/configs/regression/*.json; do
  name="$(basename "$config" .json)"
  out="$root/results/baselines/$name"
  tmp="$(mktemp -d)"
  "$gradflow" run "$config" --out "$tmp/$name" --jobs 2 -q
  rm -rf "$out"
  mkdir -p "$out"
  # The tables hold every run's series; the per-run folders would only repeat them.
  cp "$tmp/$name"/{sweep.json,runs.csv,layers.csv,steps.csv,lifecycle.csv} "$out/"
  rm -rf "$tmp"
  echo "refreshed $out"
done
