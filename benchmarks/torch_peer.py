#!/usr/bin/python3
"""PyTorch peer of benchmarks/step_bench.cpp (issue 5): the same MLPs (batch 64, ReLU,
cross-entropy, SGD, one thread) with the same per-layer metrics computed through hooks, timed
interleaved with gradflow's own benchmark (run here as a subprocess), printed side by side.

Needs Debian's python3-torch and OpenBLAS:
                               bash scripts/setup.sh python3-torch libopenblas0-pthread
Run:                           /usr/bin/python3 benchmarks/torch_peer.py [--repeats 3]
Other networks (issue 13):     --norm batch --residual 2[:rezero] -w 21x64
The CNN (issue 15):            --cnn (float32, against build/conv_bench)

The peer runs in its best configuration or not at all: OpenBLAS behind libblas.so.3, one
thread (OPENBLAS_NUM_THREADS=1, set before torch loads it), and glibc's malloc keeping freed
memory instead of returning it to the kernel after every step (GLIBC_TUNABLES, see
MALLOC_TUNABLES). Debian's reference BLAS
(libblas3 alone) makes torch 3-20x slower, and a ratio against it says nothing; the script
refuses to run on it (exit 2) and prints the BLAS it found in its header. OpenBLAS picks its
kernels from the CPU model, and 0.3.21 does not know newer CPUs: on an Intel Xeon of family
6 model 207 (Emerald Rapids) it falls back to its SSE3 "Prescott" kernels, 3-4x slower than
its AVX-512 ones. So the script times torch's three step products under each OpenBLAS core the
CPU's flags allow (OPENBLAS_CORETYPE, one process each), runs the peer on the fastest, and
prints them all in its header (--openblas-core forces one).
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

# Before torch loads the BLAS: OpenBLAS reads its thread count (and OPENBLAS_CORETYPE) once,
# at load time, and ignores torch.set_num_threads. torch itself is imported in main(), once
# the core is chosen.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
torch = F = None

# torch allocates every step's tensors afresh. glibc serves blocks above its mmap threshold
# (128 KB, raised as freed blocks are seen) with mmap/munmap, so a CNN step (3 MB activations)
# page-faults its buffers in every time: 1500-3500 minor faults and 4-8 ms of kernel time per
# step, a third of torch's step here, and it varied from one process to the next (23-48
# steps/s). Keeping freed memory in the heap is torch's best configuration (gradflow allocates
# nothing in a step). glibc reads its tunables at start-up, so the script re-executes itself.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"


def with_malloc_tunables():
    """Re-executes this script with MALLOC_TUNABLES in GLIBC_TUNABLES, once."""
    current = os.environ.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.mmap_threshold" in current:
        return
    os.environ["GLIBC_TUNABLES"] = MALLOC_TUNABLES + (":" + current if current else "")
    os.execv(sys.executable, [sys.executable] + sys.argv)

WORKLOADS = [(10, 64), (50, 64), (20, 256), (10, 1024)]
PRECISIONS = ["float32", "float64"]
BATCH, CLASSES, TRAIN_SIZE, LR = 64, 10, 2048, 0.005
DEAD_WINDOW = 100  # gradflow's log.dead_window default


def import_torch():
    global torch, F
    import torch as torch_module
    import torch.nn.functional as functional
    torch, F = torch_module, functional
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


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


def openblas_core(lib_path):
    """The kernel set OpenBLAS chose at load time (openblas_get_corename), or '' for MKL."""
    import ctypes
    if "openblas" not in lib_path:
        return ""
    lib = ctypes.CDLL(lib_path)  # the copy already mapped: same handle, no second load
    lib.openblas_get_corename.restype = ctypes.c_char_p
    return lib.openblas_get_corename().decode()


# OPENBLAS_CORETYPE values worth trying, with the CPU flags their kernels need (OpenBLAS's
# DYNAMIC_ARCH builds refuse a core the CPU cannot run, but we ask only for those it can).
CORE_CANDIDATES = [("Haswell", {"avx2", "fma"}),
                   ("SkylakeX", {"avx512f", "avx512dq", "avx512bw", "avx512vl"}),
                   ("Cooperlake", {"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_bf16"})]


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def step_gemm_gflops(widths, precisions, seconds=0.1):
    """torch's three products of a dense layer at batch 64 (y = x W^T, dW = g^T x, dx = g W),
    GFLOP/s of CPU time per (width, precision)."""
    out = {}
    for p in precisions:
        dtype = torch.float32 if p == "float32" else torch.float64
        for w in widths:
            x = torch.randn(BATCH, w, dtype=dtype)
            g = torch.randn(BATCH, w, dtype=dtype)
            weight = torch.randn(w, w, dtype=dtype)

            def products():
                x @ weight.t(), g.t() @ x, g @ weight
            for _ in range(3):
                products()
            reps, t = 0, 0.0
            t0 = time.process_time()
            while t < seconds:
                products()
                reps += 1
                t = time.process_time() - t0
            out[f"{w}/{p}"] = 6.0 * BATCH * w * w * reps / t * 1e-9
    return out


def probe_core_main(args):
    """--probe-core (a child process): prints the core OpenBLAS loaded and its GEMM speeds."""
    import_torch()
    core = openblas_core(check_blas())
    widths = sorted({w for _, w in args.workloads})
    print(json.dumps({"core": core, "gflops": step_gemm_gflops(widths, args.precisions)}))


def choose_core(args):
    """Sets OPENBLAS_CORETYPE to the fastest core for this CPU (before torch loads OpenBLAS);
    returns the table of candidates for the header."""
    if args.openblas_core:
        os.environ["OPENBLAS_CORETYPE"] = args.openblas_core
        return []
    os.environ.pop("OPENBLAS_CORETYPE", None)
    flags = cpu_flags()
    tried = []
    for name in [None] + [c for c, need in CORE_CANDIDATES if need <= flags]:
        env = dict(os.environ)
        if name:
            env["OPENBLAS_CORETYPE"] = name
        cmd = [sys.executable, os.path.abspath(__file__), "--probe-core"]
        for d, w in args.workloads:
            cmd += ["-w", f"{d}x{w}"]
        for p in args.precisions:
            cmd += ["-p", p]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:  # e.g. the reference BLAS: the main process refuses it below
            continue
        r = json.loads(out.stdout)
        r["requested"] = name or "(detected)"
        r["score"] = statistics.geometric_mean(r["gflops"].values())
        tried.append(r)
    if tried:
        best = max(tried, key=lambda r: r["score"])
        if best["requested"] != "(detected)":
            os.environ["OPENBLAS_CORETYPE"] = best["requested"]
    return tried


# --- the network ---------------------------------------------------------------------------

Residual = None  # the residual block's module class, defined by define_modules()


def define_modules():
    """Module classes, defined once torch is imported."""
    global Residual

    class ResidualBlock(torch.nn.Module):
        """out = x + s * branch(x); s a constant, or (rezero) a learnable scalar init 0."""

        def __init__(self, branch, scale, dtype):
            super().__init__()
            self.branch = torch.nn.Sequential(*branch)
            self.rezero = scale == "rezero"
            if self.rezero:
                self.alpha = torch.nn.Parameter(torch.zeros((), dtype=dtype))
            else:
                self.scale = float(scale)

        def forward(self, x):
            if self.rezero:
                return torch.addcmul(x, self.alpha, self.branch(x))
            return torch.add(x, self.branch(x), alpha=self.scale)  # one fused op

    Residual = ResidualBlock


def parse_residual(text):
    """EVERY[:SCALE] -> (every, scale); SCALE a number, inv_sqrt_blocks or rezero (default 1)."""
    if text is None:
        return None
    every, _, scale = text.partition(":")
    try:
        k = int(every)
        if k < 1:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"EVERY must be a positive integer, got {every!r}")
    scale = scale or "1"
    if scale not in ("inv_sqrt_blocks", "rezero"):
        try:
            scale = float(scale)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"SCALE must be a number, inv_sqrt_blocks or rezero, got {scale!r}")
    return (k, scale)


def residual_blocks(depth, every):
    """Blocks of a residual net of `depth` hidden layers: the stem is one, each block `every`."""
    if (depth - 1) % every:
        raise ValueError(f"depth {depth}: depth - 1 must be a multiple of --residual EVERY "
                         f"({every}): one stem layer, then blocks of {every}")
    return (depth - 1) // every


def build_network(depth, width, dtype, norm, residual):
    """The layers gradflow builds from model.depth/width/norm/residual (issue 13's expansion):
    no residual: depth x (Linear, [norm], ReLU), then the output Linear; residual every k:
    stem Linear, [norm]; (depth - 1) / k pre-activation blocks of k x (ReLU, Linear, [norm])
    with out = x + scale * branch(x); ReLU; the output Linear. Returns (model, linears, norms)."""
    def make_norm():
        if norm == "batch":  # trains on batch statistics (train mode), keeps running ones
            return torch.nn.BatchNorm1d(width, eps=1e-5, dtype=dtype)
        if norm == "layer":
            return torch.nn.LayerNorm(width, eps=1e-5, dtype=dtype)
        return None
    linears, norms = [], []
    def dense(fan_in, fan_out, hidden=True):
        lin = torch.nn.Linear(fan_in, fan_out, dtype=dtype)
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        linears.append(lin)
        out = [lin]
        n = make_norm() if hidden else None
        if n is not None:
            norms.append(n)
            out.append(n)
        return out
    layers = []
    if residual is None:
        for _ in range(depth):
            layers += dense(width, width) + [torch.nn.ReLU()]
    else:
        every, scale = residual
        blocks = residual_blocks(depth, every)
        if scale == "inv_sqrt_blocks":
            scale = 1.0 / math.sqrt(blocks)
        layers += dense(width, width)
        for _ in range(blocks):
            branch = []
            for _ in range(every):
                branch += [torch.nn.ReLU()] + dense(width, width)
            layers.append(Residual(branch, scale, dtype))
        layers.append(torch.nn.ReLU())
    layers += dense(width, CLASSES, hidden=False)
    return torch.nn.Sequential(*layers), linears, norms


def norms(tensors):
    """Euclidean norms of a list of tensors, in one fused call where this torch has it."""
    if hasattr(torch, "_foreach_norm"):
        return list(torch._foreach_norm(tensors))
    return [t.norm() for t in tensors]


class Peer:
    """A network trained step by step; with metrics, every step logs what gradflow's layers.csv
    holds from the training step: for every parameter tensor (W, b, and gamma, beta, alpha of
    the norm and residual layers) its gradient norm, its norm and ||p(t) - p(t-1)|| / ||p(t-1)||;
    sqrt(B) ||dL/dz|| of every Linear's and norm layer's output (through a tensor hook); the
    loss, batch accuracy and the global gradient norm."""

    def __init__(self, depth, width, dtype, norm="none", residual=None):
        torch.manual_seed(1)
        gen = torch.Generator().manual_seed(1)
        self.model, self.linears, self.norm_layers = build_network(depth, width, dtype, norm,
                                                                   residual)
        self.model.train()
        self.params = list(self.model.parameters())
        self.opt = torch.optim.SGD(self.params, lr=LR)
        self.x = torch.randn(TRAIN_SIZE, width, generator=gen, dtype=dtype)
        self.y = torch.randint(0, CLASSES, (TRAIN_SIZE,), generator=gen)
        self.perm = torch.randperm(TRAIN_SIZE, generator=gen)
        self.cursor = 0
        self.watched = self.linears + self.norm_layers
        self.delta_sq = [None] * len(self.watched)
        # Dead units from the training batch, as gradflow's layers.csv has them every step
        # (batch_dead_fraction, window_dead_units over log.dead_window = 100 steps): per ReLU,
        # the units that fired on no example of the batch, and the step each unit last fired.
        self.relus = [m for m in self.model.modules() if isinstance(m, torch.nn.ReLU)]
        self.last_fired = torch.full((len(self.relus), width), -1, dtype=torch.long)
        self.fired = [None] * len(self.relus)
        self.unit_dims = None  # the CNN peer: a channel fires if any position of any example does
        self.step_index = 0
        self.hooks = []

    def set_metrics(self, on):
        for h in self.hooks:
            h.remove()
        self.hooks = []
        if on:
            # dL/dz of each watched layer's output through a tensor hook (cheaper than a full
            # module backward hook).
            for i, layer in enumerate(self.watched):
                def forward_hook(module, inputs, output, i=i):
                    output.register_hook(lambda g, i=i: self.delta_sq.__setitem__(i, g.pow(2).sum()))
                self.hooks.append(layer.register_forward_hook(forward_hook))
            for i, relu in enumerate(self.relus):
                # One reduction per ReLU in the hook; the bookkeeping is batched after backward.
                def dead_hook(module, inputs, output, i=i):
                    with torch.no_grad():
                        self.fired[i] = ((output > 0).any(0) if self.unit_dims is None
                                         else output.amax(dim=self.unit_dims) > 0)
                self.hooks.append(relu.register_forward_hook(dead_hook))
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
            grads = norms([p.grad for p in self.params])
            values = norms(self.params)
            deltas = [d.sqrt() * math.sqrt(BATCH) for d in self.delta_sq]
            grad_norm = torch.stack(grads).norm()
            accuracy = (logits.argmax(1) == yb).to(grad_norm.dtype).mean()
            # Plain SGD applies exactly lr * dp, so ||p(t+1) - p(t)|| = lr ||dp||: no copy of
            # the parameters needed (the cheapest honest way for this optimizer; gradflow
            # measures the applied update itself).
            ratios = [LR * g / n for g, n in zip(grads, values)]
            fired = torch.stack(self.fired)  # (relus, width)
            self.last_fired = torch.where(fired, self.step_index, self.last_fired)
            dead = (~fired).sum(1).to(grad_norm.dtype) / fired.shape[1]
            # Not fired in the last min(window, steps so far) steps (never fired: -1).
            window = min(DEAD_WINDOW, self.step_index + 1)
            window_dead = (self.last_fired <= self.step_index - window).sum(1)
            record = torch.stack(grads + values + deltas + ratios + list(dead) +
                                 list(window_dead.to(grad_norm.dtype)) +
                                 [grad_norm, accuracy]).tolist()
        self.opt.step()
        self.step_index += 1
        self.last_record = (loss.item(), record)

    def steps_per_second(self, steps):
        # CPU time, as step_bench measures it: the machine is shared, and wall time would
        # count other processes' time slices.
        t0 = time.process_time()
        for _ in range(steps):
            self.step()
        return steps / (time.process_time() - t0)


CNN_SHAPE = (1, 28, 28)


def build_cnn(dtype):
    """conv_bench's network (benchmarks/conv_bench.cpp): conv3x3(1->16, same) ReLU
    conv3x3(16->16) ReLU maxpool2 conv ReLU conv ReLU maxpool2 flatten (16*7*7 = 784)
    Linear(10); He-normal weights, zero biases."""
    convs = [torch.nn.Conv2d(c, 16, 3, padding=1, dtype=dtype) for c in (1, 16, 16, 16)]
    out = torch.nn.Linear(16 * 7 * 7, CLASSES, dtype=dtype)
    for m in convs + [out]:
        torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        torch.nn.init.zeros_(m.bias)
    relu, pool = torch.nn.ReLU, torch.nn.MaxPool2d
    model = torch.nn.Sequential(convs[0], relu(), convs[1], relu(), pool(2), convs[2], relu(),
                                convs[3], relu(), pool(2), torch.nn.Flatten(), out)
    return model, convs + [out]


class CnnPeer(Peer):
    """The MLP peer's step and metrics on the CNN: per parameter tensor its gradient norm, norm
    and update ratio, every conv's and the Linear's delta, and dead channels on the batch (a
    channel is dead if its ReLU output is <= 0 at every position of every example)."""

    def __init__(self, dtype):
        torch.manual_seed(1)
        gen = torch.Generator().manual_seed(1)
        self.model, self.linears = build_cnn(dtype)
        self.norm_layers = []
        self.model.train()
        self.params = list(self.model.parameters())
        self.opt = torch.optim.SGD(self.params, lr=LR)
        self.x = torch.randn(TRAIN_SIZE, *CNN_SHAPE, generator=gen, dtype=dtype)
        self.y = torch.randint(0, CLASSES, (TRAIN_SIZE,), generator=gen)
        self.perm = torch.randperm(TRAIN_SIZE, generator=gen)
        self.cursor = 0
        self.watched = self.linears
        self.delta_sq = [None] * len(self.watched)
        self.relus = [m for m in self.model.modules() if isinstance(m, torch.nn.ReLU)]
        self.last_fired = torch.full((len(self.relus), 16), -1, dtype=torch.long)
        self.fired = [None] * len(self.relus)
        self.unit_dims = (0, 2, 3)
        self.step_index = 0
        self.hooks = []


def cnn_main(args, root):
    """--cnn: torch's CNN steps/s beside conv_bench's (the same network through gradflow's
    network_forward/backward + SGD on N(0, 1) images, without train()'s data loading and
    probe pass), interleaved per repeat."""
    cores = choose_core(args)
    import_torch()
    define_modules()
    torch_blas = check_blas()
    core = openblas_core(torch_blas)
    bench = args.conv_bench or os.path.join(root, "build", "conv_bench")
    rows = {k: [] for k in ("gf_off", "gf_on", "gemm_ms", "fraction", "torch_off", "torch_on")}
    for r in range(args.repeats):
        out = subprocess.run([bench, "--json", "-r", "1", "--min-time", str(args.min_time)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"torch_peer: {bench} failed: {out.stderr.strip()}", file=sys.stderr)
            sys.exit(1)
        g = json.loads(out.stdout)
        rows["gf_off"].append(g["steps_per_s_metrics_off"]["median"])
        rows["gf_on"].append(g["steps_per_s_metrics_on"]["median"])
        rows["gemm_ms"].append(g["gemm_alone_ms"]["median"])
        rows["fraction"].append(g["fraction_of_gemm_metrics_on"]["median"])
        peer = CnnPeer(torch.float32)
        rows["torch_off"].append(time_peer(peer, False, args.min_time))
        rows["torch_on"].append(time_peer(peer, True, args.min_time))
        print(f"torch_peer: repeat {r + 1}/{args.repeats} cnn float32 done", file=sys.stderr)
    print(f"gradflow vs PyTorch {torch.__version__}: {g['workload']}; one thread each")
    print(f"gradflow figure: {g['figure']}; {g['gradflow']}")
    print(f"torch BLAS: {torch_blas}, core {core or '-'} (OPENBLAS_NUM_THREADS=1, torch threads "
          f"{torch.get_num_threads()}, mkldnn {torch.backends.mkldnn.is_available()})")
    print(f"torch malloc: GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')}")
    for c in cores:
        print(f"  OPENBLAS_CORETYPE {c['requested']} -> core {c['core']} (geometric mean "
              f"{c['score']:.1f} GFLOP/s at the MLP widths)")
    print(f"metrics on: {g['metrics_on']} (torch: the same through forward and tensor hooks, "
          "dead channels on the batch)")
    print(f"values: median (min-max) over {args.repeats} interleaved repeats, CPU time\n")
    pair = lambda a, b: [x / y for x, y in zip(rows[a], rows[b])]
    for name, values, fmt, scale in [
            ("gradflow steps/s, metrics off", rows["gf_off"], "%.1f", 1),
            ("gradflow steps/s, metrics on", rows["gf_on"], "%.1f", 1),
            ("torch steps/s, metrics off", rows["torch_off"], "%.1f", 1),
            ("torch steps/s, metrics on", rows["torch_on"], "%.1f", 1),
            ("ratio gradflow/torch, metrics on", pair("gf_on", "torch_on"), "%.2f", 1),
            ("ratio gradflow/torch, metrics off", pair("gf_off", "torch_off"), "%.2f", 1),
            # Against torch's fastest repeat: the conservative reading on a shared machine.
            ("ratio against torch's fastest, on", [x / max(rows["torch_on"]) for x in rows["gf_on"]],
             "%.2f", 1),
            ("ratio against torch's fastest, off",
             [x / max(rows["torch_off"]) for x in rows["gf_off"]], "%.2f", 1),
            ("gradflow: the step's GEMMs alone, ms", rows["gemm_ms"], "%.2f", 1),
            ("gradflow step at % of its GEMMs (on)", rows["fraction"], "%.0f", 100)]:
        print(f"{name:40s} {spread(values, fmt, scale)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "openblas_core": core, "gradflow": g,
                       "results": rows}, f, indent=2)


def time_peer(peer, metrics, min_time):
    peer.set_metrics(metrics)
    for _ in range(2):
        peer.step()
    rate = peer.steps_per_second(3)
    return peer.steps_per_second(max(5, int(rate * min_time)))


def gradflow_sets(norm, residual):
    """The config keys that ask gradflow for the same network (step_bench --set)."""
    sets = []
    if norm != "none":
        sets.append(f"model.norm={json.dumps(norm)}")
    if residual is not None:
        every, scale = residual
        sets.append("model.residual=" + json.dumps({"every": every, "scale": scale}))
    return sets


def run_gradflow(bench, depth, width, precision, min_time, sets):
    """step_bench's JSON, or (None, its error message) when it rejects the config."""
    cmd = [bench, "--json", "-w", f"{depth}x{width}", "-p", precision, "-r", "1",
           "--min-time", str(min_time)]
    for s in sets:
        cmd += ["--set", s]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return None, (out.stderr.strip() or f"exit status {out.returncode}").splitlines()[-1]
    return json.loads(out.stdout), None


def spread(values, fmt, scale=1.0):
    v = [scale * x for x in values if x is not None]
    if not v:
        return "-"
    return f"{fmt % statistics.median(v)} ({fmt % min(v)}-{fmt % max(v)})"


def parse_workload(text):
    try:
        d, w = (int(v) for v in text.split("x"))
        return d, w
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected DEPTHxWIDTH such as 50x64, got {text!r}")


def main():
    with_malloc_tunables()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=os.path.join(root, "build", "step_bench"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("-w", "--workload", action="append", type=parse_workload,
                    help="DEPTHxWIDTH (default: 10x64 50x64 20x256 10x1024; with --residual "
                         "every k, depth - 1 must be a multiple of k: 11x64 51x64 21x256 11x1024 "
                         "for k = 1, 2, 5 or 10)")
    ap.add_argument("-p", "--precision", action="append", choices=PRECISIONS)
    ap.add_argument("--norm", choices=["none", "batch", "layer"], default="none",
                    help="normalization after each hidden Linear, before its activation")
    ap.add_argument("--residual", type=parse_residual, metavar="EVERY[:SCALE]",
                    help="pre-activation residual blocks of EVERY layers after a stem layer; "
                         "SCALE a number (default 1), inv_sqrt_blocks or rezero")
    ap.add_argument("--openblas-core", metavar="NAME",
                    help="force OPENBLAS_CORETYPE (default: the fastest of those this CPU runs)")
    ap.add_argument("--json", help="also write every measurement to this file")
    ap.add_argument("--cnn", action="store_true",
                    help="the CNN workload (float32) against build/conv_bench instead of the MLPs")
    ap.add_argument("--conv-bench", help="conv_bench binary (default: build/conv_bench)")
    ap.add_argument("--probe-core", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.workloads = args.workload or (
        WORKLOADS if args.residual is None else [(d + 1, w) for d, w in WORKLOADS])
    args.precisions = args.precision or PRECISIONS
    if args.probe_core:
        return probe_core_main(args)
    if args.cnn:
        args.precisions = ["float32"]
        return cnn_main(args, root)
    if args.residual is not None:
        for d, _ in args.workloads:
            try:
                residual_blocks(d, args.residual[0])
            except ValueError as e:
                ap.error(str(e))

    cores = choose_core(args)
    import_torch()
    define_modules()
    torch_blas = check_blas()
    core = openblas_core(torch_blas)
    sets = gradflow_sets(args.norm, args.residual)

    results = {}
    context = None
    rejected = {}
    for r in range(args.repeats):  # gradflow and torch interleaved, so load hits both alike
        for depth, width in args.workloads:
            for precision in args.precisions:
                key = (depth, width, precision)
                g, error = run_gradflow(args.bench, depth, width, precision, args.min_time, sets)
                dtype = torch.float32 if precision == "float32" else torch.float64
                peer = Peer(depth, width, dtype, args.norm, args.residual)
                t_off = time_peer(peer, False, args.min_time)
                t_on = time_peer(peer, True, args.min_time)
                row = results.setdefault(key, {
                    "gflop_per_step": None, "gf_off": [], "gf_on": [], "torch_off": [],
                    "torch_on": [], "gemm": [], "fraction": []})
                if g is None:
                    rejected[key] = error
                    for k in ("gf_off", "gf_on", "gemm", "fraction"):
                        row[k].append(None)
                else:
                    context = g["context"]
                    b = g["benchmarks"][0]
                    row["gflop_per_step"] = b["gflop_per_step"]
                    row["gf_off"].append(b["steps_per_s_metrics_off"]["median"])
                    row["gf_on"].append(b["steps_per_s_metrics_on"]["median"])
                    row["gemm"].append(b["gemm_gflops"]["median"])
                    row["fraction"].append(b["fraction_of_gemm"]["median"])
                row["torch_off"].append(t_off)
                row["torch_on"].append(t_on)
                print(f"torch_peer: repeat {r + 1}/{args.repeats} {depth}x{width} {precision} done",
                      file=sys.stderr)

    net = "MLP" if args.residual is None else (
        f"residual every {args.residual[0]} (scale {args.residual[1]})")
    if args.norm != "none":
        net += f", {args.norm} norm"
    print(f"gradflow vs PyTorch {torch.__version__}: batch {BATCH}, ReLU {net}, cross-entropy, "
          f"SGD, one thread each; gradflow GEMM: {context['blas'] if context else '-'}")
    print(f"torch BLAS: {torch_blas}, core {core or '-'}"
          f"{' (forced)' if args.openblas_core else ''} (OPENBLAS_NUM_THREADS=1, torch threads "
          f"{torch.get_num_threads()})")
    print(f"torch malloc: GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')}")
    for c in cores:
        speeds = ", ".join(f"{k} {v:.0f}" for k, v in c["gflops"].items())
        print(f"  OPENBLAS_CORETYPE {c['requested']} -> core {c['core']}: step GEMMs GFLOP/s "
              f"{speeds} (geometric mean {c['score']:.1f})")
    if context:
        print(f"cpu: {context['cpu']}; gradflow {context['gradflow']} ({context['compiler']}); "
              f"python {platform.python_version()}")
    else:
        print(f"cpu: {platform.processor() or platform.machine()}; gradflow: no run accepted")
    if sets:
        print("gradflow config: " + "; ".join(sets))
    print("metrics on: every step, per layer ||dW||, ||db||, delta RMS, ||W||, ||b||, update "
          "ratio, dead units on the batch and over the last 100 steps, plus loss, accuracy, "
          "global grad norm (gradflow: log.every=1, probe pass off; torch: the same through "
          "tensor and forward hooks and fused norms after backward)")
    print(f"values: median (min-max) over {args.repeats} interleaved repeats; ratio = gradflow / "
          "torch, paired per repeat\n")
    head = ["workload", "prec", "gradflow off", "gradflow on", "torch off", "torch on",
            "ratio on", "ratio off", "gf metrics %", "torch metrics %", "GEMM GFLOP/s",
            "gf on/GEMM %"]
    rows = []
    for (depth, width, precision), row in results.items():
        def pair(a, b):
            return [x / y if x is not None else None for x, y in zip(row[a], row[b])]
        def cost(a, b):
            return [x / y - 1 if x is not None and y is not None else None
                    for x, y in zip(row[a], row[b])]
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
    for (depth, width, precision), error in rejected.items():
        print(f"gradflow rejected {depth}x{width} {precision} ({'; '.join(sets) or 'plain MLP'}): "
              f"{error}")
    if rejected:
        print("(expected before issue 13's layer stack is merged: rerun this command after it)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": context, "torch": torch.__version__, "openblas_core": core,
                       "openblas_cores_tried": cores, "norm": args.norm,
                       "residual": list(args.residual) if args.residual else None,
                       "gradflow_sets": sets,
                       "rejected": {f"{d}x{w}/{p}": e for (d, w, p), e in rejected.items()},
                       "results": [{"depth": d, "width": w, "precision": p, **v}
                                   for (d, w, p), v in results.items()]}, f, indent=2)


if __name__ == "__main__":
    main()
