#!/usr/bin/env bash
# Peak RSS of one large run against its memory budget (issue 5): depth 100 x width 1024,
# float64, batch 64, SGD, a few steps, run through `gradflow run` under /usr/bin/time -v.
# Budget = parameters + gradients + optimizer state (none for SGD) + one batch's activations
# (z, a, phi'(z), delta per layer); the target is peak RSS <= 1.5 x budget.
# usage: benchmarks/peak_rss.sh [GRADFLOW_BINARY] [DEPTH] [WIDTH] [STEPS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gradflow="${1:-$root/build/gradflow}"
depth="${2:-100}"
width="${3:-1024}"
steps="${4:-3}"
batch=64
classes=10
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/config.json" <<EOF
{"name": "peak_rss", "seed": 1, "precision": "float64",
 "data": {"kind": "gaussian_mixture", "dim": $width, "classes": $classes, "train_size": 1024,
          "probe_size": 512},
 "model": {"depth": $depth, "width": $width, "activation": "relu", "init": "he_normal"},
 "train": {"loss": "cross_entropy", "optimizer": "sgd", "lr": 0.001, "steps": $steps,
           "batch_size": $batch},
 "log": {"every": 1}}
EOF

/usr/bin/time -v "$gradflow" run "$work/config.json" --out "$work/run" -q 2> "$work/time.txt"
peak_kib="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")"
wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")"

# Parameters: depth hidden layers (width x width weights + biases; the input has `width`
# features) and the output layer (classes x width + classes).
params=$(( depth * (width * width + width) + classes * width + classes ))
units=$(( depth * width + classes ))
activations=$(( 4 * units * batch ))
budget=$(( 8 * (2 * params + activations) ))
awk -v peak="$peak_kib" -v budget="$budget" -v params="$params" -v act="$activations" \
    -v d="$depth" -v w="$width" -v s="$steps" -v wall="$wall" 'BEGIN {
  mib = 1048576
  printf "depth %d x width %d, float64, batch 64, SGD, %d steps (wall %s)\n", d, w, s, wall
  printf "parameters          %10.1f MiB (%d)\n", 8 * params / mib, params
  printf "gradients           %10.1f MiB\n", 8 * params / mib
  printf "optimizer state     %10.1f MiB (SGD)\n", 0
  printf "batch activations   %10.1f MiB (z, a, phi'"'"', delta)\n", 8 * act / mib
  printf "budget              %10.1f MiB\n", budget / mib
  printf "peak RSS            %10.1f MiB = %.2f x budget (target <= 1.5)\n", peak * 1024 / mib,
         peak * 1024 / budget
}'
