#!/usr/bin/env bash
# `gradflow submit` against a real Slurm (a single-node cluster started by slurm_local.sh):
# a sweep submitted as a job array and merged must equal a local `gradflow run` byte for byte;
# a failed task must show as missing runs, and a resubmission must redo only that task.
# Used by ctest (needs root and Debian's slurmctld slurmd slurm-client munge).
# usage: check_slurm.sh GRADFLOW_BINARY WORK_DIR
set -euo pipefail
gradflow="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
# Daemons of an earlier run that was killed (a ctest timeout skips the trap) go first.
[ -d "$work/cluster" ] && bash "$root/scripts/slurm_local.sh" stop "$work/cluster" >/dev/null 2>&1 || true
rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

cluster="$work/cluster"
trap 'bash "$root/scripts/slurm_local.sh" stop "$cluster" >/dev/null' EXIT
bash "$root/scripts/slurm_local.sh" start "$cluster"
export SLURM_CONF="$cluster/slurm.conf"

fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*/logs/*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done >&2
  bash "$root/scripts/slurm_local.sh" logs "$cluster" >&2
  exit 1
}

# Six short runs: depth 2..4 x (relu/He, tanh/Xavier).
cat > "$work/sweep.json" <<'EOF'
{
  "name": "slurm-check", "seed": 11,
  "data": {"kind": "gaussian_mixture", "train_size": 128, "probe_size": 32, "dim": 8, "classes": 3},
  "model": {"width": 12},
  "train": {"steps": 30, "batch_size": 32, "lr": 0.05, "optimizer": "momentum"},
  "log": {"every": 10},
  "sweep": {"model.depth": [2, 3, 4],
            "zip": [{"model.activation": ["relu", "tanh"], "model.init": ["he_normal", "xavier_normal"]}]}
}
EOF
"$gradflow" run "$work/sweep.json" --out "$work/local" --jobs 2 -q

same_as_local() {
  local dir="$1" f
  for f in sweep.json runs.csv layers.csv steps.csv lifecycle.csv; do
    cmp "$work/local/$f" "$dir/$f" || fail "$dir/$f differs from the local run's"
  done
  diff -r "$work/local/runs" "$dir/runs" >/dev/null || fail "$dir/runs differs from the local run's"
}

# 1. The whole sweep as an array of 3 tasks, merged by the dependent job.
start=$SECONDS
timeout 120 "$gradflow" submit "$work/sweep.json" --out "$work/array" --array-size 3 --wait \
  || fail "submit --wait exited $?"
same_as_local "$work/array"
[ "$(ls "$work/array/logs" | grep -c '^task_')" -eq 3 ] || fail "expected 3 task logs"
echo "array of 3 tasks merged, equal to the local run ($((SECONDS - start)) s)"

# 2. Task 1 fails (its setup line exits 1): its runs (index 1 and 4) are listed as missing.
start=$SECONDS
status=0
timeout 120 "$gradflow" submit "$work/sweep.json" --out "$work/failed" --array-size 3 --wait \
  --setup '[ "${SLURM_ARRAY_TASK_ID:-}" != 1 ] || exit 1' > "$work/failed.out" 2>&1 || status=$?
cat "$work/failed.out"
[ "$status" -eq 3 ] || fail "submit with a failing task exited $status, expected 3"
# runs.csv is in plan order after its header: lines 3 and 6 are runs 1 and 4.
for id in $(sed -n '3p;6p' "$work/local/runs.csv" | cut -d, -f1); do
  grep -q "missing.*$id" "$work/failed.out" || fail "missing run $id not listed"
done
[ "$(wc -l < "$work/failed/runs.csv")" -eq 5 ] || fail "expected 4 merged runs after the failure"

# 3. The resubmission reruns task 1 only; finished shards are left as they were.
before="$(stat -c '%y %n' "$work"/failed/shards/0/runs/*/summary.json | md5sum)"
timeout 120 "$gradflow" submit "$work/sweep.json" --out "$work/failed" --wait > "$work/again.out" 2>&1 \
  || { cat "$work/again.out"; fail "resubmission exited $?"; }
cat "$work/again.out"
grep -q ": task 1 of 3 " "$work/again.out" || fail "the resubmission did not run task 1 alone"
[ "$(stat -c '%y %n' "$work"/failed/shards/0/runs/*/summary.json | md5sum)" = "$before" ] \
  || fail "shard 0 was rerun"
same_as_local "$work/failed"
echo "failed task listed, resubmitted alone, merged equal to the local run ($((SECONDS - start)) s)"
