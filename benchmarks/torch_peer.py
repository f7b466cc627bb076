#!/usr/bin/python3
"""PyTorch peer of benchmarks/step_bench.cpp (issue 5): the same MLPs (batch 64, ReLU,
cross-entropy, SGD, one thread) with the same per-layer metrics computed through hooks, timed
interleaved with gradflow's own benchmark (run here as a subprocess), printed side by side.

Needs Debian's python3-torch and OpenBLAS:
                               bash scripts/setup.sh python3-torch libopenblas0-pthread
Run:                           /usr/bin/python3 benchmarks/torch_peer.py [--repeats 3]

The peer runs in its best configuration or not at all: OpenBLAS behind libblas.so.3, one
thread (OPENBLAS_NUM_THREADS=1, set before torch loads it). Debian's reference BLAS
(libblas3 alone) makes torch 3-20x slower, and a ratio against it says nothing; the script
refuses to run on it (exit 2) and prints the BLAS it found in its header.
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

# Before torch loads the BLAS: OpenBLAS reads its thread count once, at load time, and ignores
# torch.set_num_threads.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import torch
import torch.nn.functional as F

WORKLOADS = [(10, 64), (50, 64), (20, 256), (10, 1024)]
PRECISIONS = ["float32", "float64"]
BATCH, CLASSES, TRAIN_SIZE, LR = 64, 10, 2048, 0.005


def blas_in_use():
    """The BLAS library this process has mapped (after a matrix product), resolved through
    Debian's alternatives symlinks: e.g. /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3."""
    a = torch.ones(64, 64, dtype=torch.float64)
    (a @ a).sum().item()
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if ("blas" in name or "mkl" in name) and path not in found:
                found.append(path)
    return [os.path.realpath(p) for p in found]


def check_blas():
    """Exits (2) unless an optimised BLAS (OpenBLAS, or MKL) is the one loaded."""
    libs = blas_in_use()
    fast = [p for p in libs if "openblas" in p or "mkl" in p]
    # Debian's reference BLAS lives in .../blas/libblas.so.3*: when it is mapped it answers
    # torch's sgemm/dgemm calls through libblas.so.3, even if OpenBLAS is loaded beside it.
    reference = [p for p in libs if os.path.basename(os.path.dirname(p)) == "blas"]
    if reference or not fast:
        print("torch_peer: refusing to run: torch's BLAS is "
              f"{', '.join(libs) or 'not found'}, not OpenBLAS (Debian's reference BLAS makes "
              "torch 3-20x slower, and the ratios would be unfair). Install it with\n"
              "  apt-get install libopenblas0-pthread   (or: bash scripts/setup.sh python3-torch "
              "libopenblas0-pthread)", file=sys.stderr)
        sys.exit(2)
    return fast[0]


def norms(tensors):
    """Euclidean norms of a list of tensors, in one fused call where this torch has it."""
    if hasattr(torch, "_foreach_norm"):
        return list(torch._foreach_norm(tensors))
    return [t.norm() for t in tensors]


class Peer:
    """An MLP trained step by step; with metrics, every step logs what gradflow's layers.csv
    holds from the training step: per layer ||dW||, ||db||, sqrt(B) ||dL/dz|| (through a
    tensor hook on each Linear's output), ||W||, ||b|| and ||W(t) - W(t-1)|| / ||W(t-1)||, plus the
    loss, batch accuracy and the global gradient norm."""

    def __init__(self, depth, width, dtype):
        torch.manual_seed(1)
        gen = torch.Generator().manual_seed(1)
        dims = [width] * (depth + 1) + [CLASSES]
        self.linears = [torch.nn.Linear(a, b, dtype=dtype) for a, b in zip(dims, dims[1:])]
        layers = []
        for i, lin in enumerate(self.linears):
            torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            torch.nn.init.zeros_(lin.bias)
            layers.append(lin)
            if i + 1 < len(self.linears):
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.x = torch.randn(TRAIN_SIZE, width, generator=gen, dtype=dtype)
        self.y = torch.randint(0, CLASSES, (TRAIN_SIZE,), generator=gen)
        self.perm = torch.randperm(TRAIN_SIZE, generator=gen)
        self.cursor = 0
        self.delta_sq = [None] * len(self.linears)
        self.hooks = []

    def set_metrics(self, on):
        for h in self.hooks:
            h.remove()
        self.hooks = []
        if on:
            # dL/dz of each Linear's output through a tensor hook (cheaper than a full module
            # backward hook).
            for i, lin in enumerate(self.linears):
                def forward_hook(module, inputs, output, i=i):
                    output.register_hook(lambda g, i=i: self.delta_sq.__setitem__(i, g.pow(2).sum()))
                self.hooks.append(lin.register_forward_hook(forward_hook))
        self.metrics = on

    def step(self):
        if self.cursor + BATCH > TRAIN_SIZE:
            self.cursor = 0
        idx = self.perm[self.cursor:self.cursor + BATCH]
        self.cursor += BATCH
        xb, yb = self.x[idx], self.y[idx]
        logits = self.model(xb)
        loss = F.cross_entropy(logits, yb)
        self.opt.zero_grad(set_to_none=False)
        loss.backward()
        if not self.metrics:
            self.opt.step()
            return
        with torch.no_grad():
            w = [lin.weight for lin in self.linears]
            b = [lin.bias for lin in self.linears]
            grads_w = norms([p.grad for p in w])
            grads_b = norms([p.grad for p in b])
            weights = norms(w)
            biases = norms(b)
            deltas = [d.sqrt() * math.sqrt(BATCH) for d in self.delta_sq]
            grad_norm = torch.stack(grads_w + grads_b).norm()
            accuracy = (logits.argmax(1) == yb).to(grad_norm.dtype).mean()
            # Plain SGD applies exactly lr * dW, so ||W(t+1) - W(t)|| = lr ||dW||: no copy of
            # the weights needed (the cheapest honest way for this optimizer; gradflow measures
            # the applied update itself).
            ratios = [LR * g / n for g, n in zip(grads_w, weights)]
            record = torch.stack(grads_w + grads_b + weights + biases + deltas + ratios +
                                 [grad_norm, accuracy]).tolist()
        self.opt.step()
        self.last_record = (loss.item(), record)

    def steps_per_second(self, steps):
        # CPU time, as step_bench measures it: the machine is shared, and wall time would
        # count other processes' time slices.
        t0 = time.process_time()
        for _ in range(steps):
            self.step()
        return steps / (time.process_time() - t0)


def time_peer(peer, metrics, min_time):
    peer.set_metrics(metrics)
    for _ in range(2):
        peer.step()
    rate = peer.steps_per_second(3)
    return peer.steps_per_second(max(5, int(rate * min_time)))


def run_gradflow(bench, depth, width, precision, min_time):
    out = subprocess.run([bench, "--json", "-w", f"{depth}x{width}", "-p", precision, "-r", "1",
                          "--min-time", str(min_time)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def spread(values, fmt, scale=1.0):
    v = [scale * x for x in values]
    return f"{fmt % statistics.median(v)} ({fmt % min(v)}-{fmt % max(v)})"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=os.path.join(root, "build", "step_bench"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("-w", "--workload", action="append", help="DEPTHxWIDTH (default: all four)")
    ap.add_argument("-p", "--precision", action="append", choices=PRECISIONS)
    ap.add_argument("--json", help="also write every measurement to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch_blas = check_blas()
    workloads = [tuple(int(v) for v in w.split("x")) for w in args.workload] if args.workload \
        else WORKLOADS
    precisions = args.precision or PRECISIONS

    results = {}
    context = None
    for r in range(args.repeats):  # gradflow and torch interleaved, so load hits both alike
        for depth, width in workloads:
            for precision in precisions:
                g = run_gradflow(args.bench, depth, width, precision, args.min_time)
                context = g["context"]
                b = g["benchmarks"][0]
                dtype = torch.float32 if precision == "float32" else torch.float64
                peer = Peer(depth, width, dtype)
                t_off = time_peer(peer, False, args.min_time)
                t_on = time_peer(peer, True, args.min_time)
                row = results.setdefault((depth, width, precision), {
                    "gflop_per_step": b["gflop_per_step"], "gf_off": [], "gf_on": [],
                    "torch_off": [], "torch_on": [], "gemm": [], "fraction": []})
                row["gf_off"].append(b["steps_per_s_metrics_off"]["median"])
                row["gf_on"].append(b["steps_per_s_metrics_on"]["median"])
                row["gemm"].append(b["gemm_gflops"]["median"])
                row["fraction"].append(b["fraction_of_gemm"]["median"])
                row["torch_off"].append(t_off)
                row["torch_on"].append(t_on)
                print(f"torch_peer: repeat {r + 1}/{args.repeats} {depth}x{width} {precision} done",
                      file=sys.stderr)

    print(f"gradflow vs PyTorch {torch.__version__}: batch {BATCH}, ReLU MLP, cross-entropy, SGD, "
          f"one thread each; gradflow GEMM: {context['blas']}")
    print(f"torch BLAS: {torch_blas} (OPENBLAS_NUM_THREADS=1, torch threads "
          f"{torch.get_num_threads()})")
    print(f"cpu: {context['cpu']}; gradflow {context['gradflow']} ({context['compiler']}); "
          f"python {platform.python_version()}")
    print("metrics on: every step, per layer ||dW||, ||db||, delta RMS, ||W||, ||b||, update "
          "ratio, plus loss, accuracy, global grad norm (gradflow: log.every=1, probe pass off; "
          "torch: the same through tensor hooks and fused norms after backward)")
    print(f"values: median (min-max) over {args.repeats} interleaved repeats; ratio = gradflow / "
          "torch, paired per repeat\n")
    head = ["workload", "prec", "gradflow off", "gradflow on", "torch off", "torch on",
            "ratio on", "ratio off", "gf metrics %", "torch metrics %", "GEMM GFLOP/s",
            "gf on/GEMM %"]
    rows = []
    for (depth, width, precision), row in results.items():
        pair = lambda a, b: [x / y for x, y in zip(row[a], row[b])]
        cost = lambda a, b: [x / y - 1 for x, y in zip(row[a], row[b])]
        rows.append([f"{depth}x{width}", precision, spread(row["gf_off"], "%.0f"),
                     spread(row["gf_on"], "%.0f"), spread(row["torch_off"], "%.0f"),
                     spread(row["torch_on"], "%.0f"), spread(pair("gf_on", "torch_on"), "%.2f"),
                     spread(pair("gf_off", "torch_off"), "%.2f"),
                     spread(cost("gf_off", "gf_on"), "%.1f", 100),
                     spread(cost("torch_off", "torch_on"), "%.0f", 100),
                     spread(row["gemm"], "%.1f"), spread(row["fraction"], "%.0f", 100)])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print("(metrics % = extra step time with metrics on; steps/s; gf on/GEMM = gradflow's step "
          "GFLOP/s with metrics on over the same products alone, measured in the same process)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": context, "torch": torch.__version__,
                       "results": [{"depth": d, "width": w, "precision": p, **v}
                                   for (d, w, p), v in results.items()]}, f, indent=2)


if __name__ == "__main__":
    main()
