#!/usr/bin/env bash
# CI check of the reference experiments in experiments/: runs the small version of each (its
# sweep.json with one seed: --set sweep.seeds=1, plus the few --set of ci_sets below), asserts
# each expected finding on the fresh results (check_experiments.py), then executes every
# analysis notebook headless on them (execute_notebooks.sh), checking each leaves its figures
# as PNG files. Used by ctest (test "experiments").
# usage: check_experiments.sh GRADFLOW_BINARY WORK_DIR
set -euo pipefail
gradflow="$1"
work="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
experiments=(a_vanishing b_dying_relu c_exploding d_initialization e_remedies f_fashion_mnist g_cnn)
# Beyond one seed, an experiment's CI version may be cut shorter still (its README says how;
# its checks hold on both versions): g_cnn's full study trains 600 steps, CI 200.
declare -A ci_sets=([g_cnn]="--set train.steps=200")
mkdir -p "$work"
for name in "${experiments[@]}"; do
  rm -rf "${work:?}/$name"
  # shellcheck disable=SC2086  # the extra --set arguments split on purpose
  "$gradflow" run "$root/experiments/$name/sweep.json" --set sweep.seeds=1 ${ci_sets[$name]:-} \
    --out "$work/$name" --jobs 2 -q
done
status=0
/usr/bin/python3 "$root/scripts/check_experiments.py" "$work" "${experiments[@]}" || status=1
rm -rf "${work:?}/notebooks"
bash "$root/scripts/execute_notebooks.sh" "$work" "$work/notebooks" "${experiments[@]}" || status=1
# Each notebook's figures are also PNG files next to its executed copy.
for name in "${experiments[@]}"; do
  if ! /usr/bin/python3 -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).verify()' \
      "$work/notebooks/$name-fig01.png" 2>/dev/null; then
    echo "FAIL $name: no figure saved as $work/notebooks/$name-fig01.png" >&2
    status=1
  fi
done
exit $status
