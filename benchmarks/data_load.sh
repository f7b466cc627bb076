#!/usr/bin/env bash
# Fashion-MNIST load time, gradflow beside numpy, interleaved in one invocation (issue 14's
# target: gradflow in at most half numpy's time). gradflow: build/data_bench (make_dataset:
# inflate the IDX files with zlib, scale, standardize, hold float32). numpy, under Debian's
# python3: gzip + frombuffer + scaling to [0, 1] + standardization of the 60000 training
# images (float32). Each side is timed inside its process (no start-up), REPEATS times.
#   bash benchmarks/data_load.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
build="${1:-build}"
repeats="${2:-5}"
images=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -f "$images" ] || { echo "needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
numpy_once() {
  /usr/bin/python3 - "$images" <<'PY'
import gzip, sys, time
import numpy as np
t0, c0 = time.perf_counter(), time.process_time()
with gzip.open(sys.argv[1], "rb") as f:
    raw = f.read()
x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
x = (x - x.mean()) / x.std()
assert x.shape == (60000, 784)
print("%.4f %.4f" % (time.perf_counter() - t0, time.process_time() - c0))
PY
}
printf '%-8s %-10s %-10s %-10s %-10s\n' repeat gf_wall gf_cpu np_wall np_cpu
gf_all=() np_all=()
for r in $(seq 1 "$repeats"); do
  read -r gw gc < <("$build/data_bench" 1)
  read -r nw nc < <(numpy_once)
  printf '%-8s %-10s %-10s %-10s %-10s\n' "$r" "$gw" "$gc" "$nw" "$nc"
  gf_all+=("$gc") np_all+=("$nc")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
gm=$(median "${gf_all[@]}") nm=$(median "${np_all[@]}")
echo "median CPU seconds: gradflow $gm, numpy $nm, ratio gradflow/numpy $(awk -v g="$gm" -v n="$nm" 'BEGIN {printf "%.2f", g / n}')"
