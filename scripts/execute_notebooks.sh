#!/usr/bin/env bash
# Executes experiments/<name>/analysis.ipynb headless on the results in RESULTS_ROOT/<name>, with
# Debian's Python (python3-pandas, python3-matplotlib, jupyter-nbconvert, python3-ipykernel), and
# writes the executed copies to OUT_DIR/<name>.ipynb, with each figure beside it as
# OUT_DIR/<name>-fig<NN>.png (in cell order, for papers and slides). Fails if a notebook raises
# or draws no figure. The python3 first on PATH may not be Debian's, so the kernel is pinned to
# /usr/bin/python3 by a kernelspec in a temporary JUPYTER_PATH.
# usage: execute_notebooks.sh RESULTS_ROOT OUT_DIR [EXPERIMENT ...]   (default: all seven)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 2 ] || { echo "usage: $0 RESULTS_ROOT OUT_DIR [EXPERIMENT ...]" >&2; exit 2; }
results="$(cd "$1" && pwd)"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
shift 2
experiments=("$@")
[ ${#experiments[@]} -gt 0 ] || experiments=(a_vanishing b_dying_relu c_exploding d_initialization e_remedies f_fashion_mnist g_cnn)

jupyter_dir="$(mktemp -d)"
trap 'rm -rf "$jupyter_dir"' EXIT
kernel=gradflow-debian-python3
mkdir -p "$jupyter_dir/kernels/$kernel"
cat >"$jupyter_dir/kernels/$kernel/kernel.json" <<EOF
{"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
 "display_name": "Python 3 (Debian)", "language": "python"}
EOF
export JUPYTER_PATH="$jupyter_dir" JUPYTER_RUNTIME_DIR="$jupyter_dir/runtime"
export IPYTHONDIR="$jupyter_dir/ipython" MPLCONFIGDIR="$jupyter_dir/matplotlib"

# One notebook: execute it, then count the figures in the executed copy. Output goes to
# OUT_DIR/<name>.log; the exit status says whether it passed.
run_one() {
  local name="$1" notebook="$root/experiments/$1/analysis.ipynb" figures
  # MPLBACKEND=Agg in the environment would make matplotlib draw nowhere: no inline figures.
  if ! env -u MPLBACKEND GRADFLOW_RESULTS="$results/$name" /usr/bin/python3 -m nbconvert \
      --to notebook --execute --ExecutePreprocessor.kernel_name="$kernel" \
      --ExecutePreprocessor.timeout=300 --output-dir "$out" --output "$name" "$notebook" \
      >"$out/$name.log" 2>&1; then
    echo "FAIL $name: the notebook raised (above)" >>"$out/$name.log"
    return 1
  fi
  # Count the figures and save each as a PNG file next to the executed copy (stale ones from
  # an earlier run of the same notebook are removed first).
  rm -f "$out/$name"-fig*.png
  figures="$(/usr/bin/python3 -c '
import base64, sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
n = 0
for c in nb.cells:
    for o in c.get("outputs", []) if c.cell_type == "code" else []:
        if "image/png" in o.get("data", {}):
            n += 1
            with open(f"{sys.argv[2]}-fig{n:02d}.png", "wb") as f:
                f.write(base64.b64decode(o["data"]["image/png"]))
print(n)' "$out/$name.ipynb" "$out/$name")"
  if [ "$figures" -gt 0 ]; then
    echo "ok   $name: notebook executed, $figures figures drawn -> $out/$name.ipynb," \
      "$out/$name-fig*.png" >"$out/$name.log"
  else
    echo "FAIL $name: notebook executed but drew no figure" >>"$out/$name.log"
    return 1
  fi
}

# The notebooks run side by side (each kernel is one process); results are reported in order.
pids=()
for name in "${experiments[@]}"; do
  run_one "$name" &
  pids+=($!)
done
status=0
for i in "${!experiments[@]}"; do
  if wait "${pids[$i]}"; then
    cat "$out/${experiments[$i]}.log"
  else
    cat "$out/${experiments[$i]}.log" >&2
    status=1
  fi
done
exit $status
