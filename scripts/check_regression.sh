#!/usr/bin/env bash
# Reruns every regression sweep in configs/regression/ and compares it with its committed
# baseline in results/baselines/<name>/ (gradflow compare: exit 0 within tolerance, 1 drifted,
# 2 missing). Used by ctest; refresh baselines on purpose with scripts/refresh_baselines.sh.
# usage: check_regression.sh GRADFLOW_BINARY WORK_DIR
set -euo pipefail
gradflow="$1"
work="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
rtol="${GRADFLOW_REGRESSION_RTOL:-1e-6}"
atol="${GRADFLOW_REGRESSION_ATOL:-1e-9}"
status=0
for config in "$root"/configs/regression/*.json; do
  name="$(basename "$config" .json)"
  rm -rf "$work/$name"
  "$gradflow" run "$config" --out "$work/$name" --jobs 2 -q
  echo "== $name"
  "$gradflow" compare "$root/results/baselines/$name" "$work/$name" --rtol "$rtol" --atol "$atol" \
    || status=$?
done
exit $status
