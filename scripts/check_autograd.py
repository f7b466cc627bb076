"""Independent check of gradflow's layers against PyTorch autograd (float64).

Usage: /usr/bin/python3 scripts/check_autograd.py GRADFLOW WORK_DIR

For each network below (every layer kind, on Fashion-MNIST images or flat features), gradflow
trains a few full-batch SGD steps with log.save_params; this script builds the same network in
PyTorch from the run folder's expanded config.json, loads params_init/, trains the same steps
on the same images and compares every step's loss (steps.csv) and every tensor of
params_final/, with SGD, Nesterov momentum and Adam. Full batch (train_size = batch_size = 64), so the batch order cannot differ
(a permutation only reorders sums). Exits 1 with the first disagreement. Used by ctest.
"""
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
FASHION = "/usr/share/datasets/fashion-mnist"
TOLERANCE = 1e-9  # relative, on losses and on every parameter after training

# Networks: name -> model object (the data are the first 64 Fashion-MNIST training images).
NETWORKS = {
    "conv_stack": {"layers": [
        {"kind": "conv2d", "channels": 6, "kernel": 3, "padding": "same"},
        {"kind": "batch_norm"},
        {"kind": "activation", "activation": "relu"},
        {"kind": "conv2d", "channels": 8, "kernel": 4, "padding": "same"},
        {"kind": "prelu"},
        {"kind": "max_pool", "kernel": 2},
        {"kind": "conv2d", "channels": 8, "kernel": 3, "padding": "circular"},
        {"kind": "layer_norm"},
        {"kind": "activation", "activation": "tanh"},
        {"kind": "conv2d", "channels": 5, "kernel": 3, "padding": "valid", "stride": 2},
        {"kind": "activation", "activation": "elu"},
        {"kind": "avg_pool", "kernel": 2},
        {"kind": "flatten"},
        {"kind": "dense", "units": 12},
        {"kind": "activation", "activation": "gelu"}],
        "init": "he_normal", "bias_init": {"kind": "normal", "std": 0.1}},
    "conv_global": {"layers": [
        {"kind": "conv2d", "channels": 4, "kernel": 5, "padding": "same", "stride": 2},
        {"kind": "activation", "activation": "leaky_relu", "slope": 0.1},
        {"kind": "conv2d", "channels": 6, "kernel": 2, "padding": "same"},
        {"kind": "batch_norm", "affine": False},
        {"kind": "activation", "activation": "silu"},
        {"kind": "global_avg_pool"}],
        "init": "delta_orthogonal", "bias_init": {"kind": "normal", "std": 0.1}},
    "residual_mlp": {"layers": [
        {"kind": "dense", "units": 32},
        {"kind": "batch_norm", "momentum": 0.3},
        {"kind": "residual", "scale": 1, "layers": [
            {"kind": "activation", "activation": "relu"},
            {"kind": "dense", "units": 32},
            {"kind": "layer_norm"}]},
        {"kind": "residual", "scale": 0.5, "layers": [
            {"kind": "prelu", "init": 0.2},
            {"kind": "dense", "units": 24}]},
        {"kind": "residual", "scale": "rezero", "layers": [
            {"kind": "activation", "activation": "sigmoid"},
            {"kind": "dense", "units": 24}]},
        {"kind": "activation", "activation": "softplus"}],
        "init": "xavier_normal", "bias_init": {"kind": "normal", "std": 0.1}},
}


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def images(n):
    x = idx(os.path.join(FASHION, "train-images-idx3-ubyte.gz"), 16)[: n * 784]
    y = idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz"), 8)[:n]
    return torch.tensor(x.reshape(n, 1, 28, 28) / 255.0), torch.tensor(y.astype(np.int64))


def params(folder):
    return {f[:-4]: torch.tensor(np.load(os.path.join(folder, f)))
            for f in os.listdir(folder) if f.endswith(".npy")}


ACTIVATIONS = {
    "identity": lambda x, s: x,
    "relu": lambda x, s: F.relu(x),
    "leaky_relu": lambda x, s: F.leaky_relu(x, s["slope"]),
    "sigmoid": lambda x, s: torch.sigmoid(x),
    "tanh": lambda x, s: torch.tanh(x),
    "elu": lambda x, s: F.elu(x, s["alpha"]),
    "selu": lambda x, s: F.selu(x),
    "gelu": lambda x, s: F.gelu(x),
    "silu": lambda x, s: F.silu(x),
    "softplus": lambda x, s: F.softplus(x),
}


class Net:
    """The network of a run folder's config.json, its tensors named as gradflow names them
    (W<l>, b<l>, gamma<l>, beta<l>, slope<l>, alpha<l>, P<l>: l the layers.csv row)."""

    def __init__(self, layers, start, blocks):
        self.layers, self.p, self.blocks = layers, start, blocks
        for t in self.p.values():
            t.requires_grad_(True)

    def forward(self, x):
        self.row = 0
        return self.output(self.sequence(self.layers, x))

    def take(self, *names):
        self.row += 1
        return [self.p[f"{n}{self.row}"] for n in names]

    def sequence(self, layers, x):
        for s in layers:
            x = self.layer(s, x)
        return x

    def layer(self, s, x):
        kind = s["kind"]
        if kind == "dense":
            w, b = self.take("W", "b")
            return F.linear(x.flatten(1), w, b)
        if kind == "conv2d":
            w, b = self.take("W", "b")
            k, c_in = s["kernel"], x.shape[1]
            w = w.reshape(w.shape[0], c_in, k, k)
            if s["padding"] == "valid":
                return F.conv2d(x, w, b, stride=s["stride"])
            # same and circular: (k - 1) // 2 before, the rest after (PyTorch's "same")
            before, after = (k - 1) // 2, k - 1 - (k - 1) // 2
            mode = "circular" if s["padding"] == "circular" else "constant"
            x = F.pad(x, (before, after, before, after), mode=mode)
            return F.conv2d(x, w, b, stride=s["stride"])
        if kind == "activation":
            return ACTIVATIONS[s["activation"]](x, s)
        if kind == "prelu":
            (a,) = self.take("slope")
            shape = (1, -1) + (1,) * (x.dim() - 2)
            return torch.where(x > 0, x, a.reshape(shape) * x)
        if kind == "batch_norm":
            dims = [0] + list(range(2, x.dim()))
            mean = x.mean(dims, keepdim=True)
            var = ((x - mean) ** 2).mean(dims, keepdim=True)
            y = (x - mean) / torch.sqrt(var + 1e-5)
            if s["affine"]:
                g, b = self.take("gamma", "beta")
                shape = (1, -1) + (1,) * (x.dim() - 2)
                return y * g.reshape(shape) + b.reshape(shape)
            self.row += 1
            return y
        if kind == "layer_norm":
            shape = x.shape[1:]
            if s["affine"]:
                g, b = self.take("gamma", "beta")
                return F.layer_norm(x, shape, g.reshape(shape), b.reshape(shape), 1e-5)
            self.row += 1
            return F.layer_norm(x, shape, eps=1e-5)
        if kind == "residual":
            branch = self.sequence(s["layers"], x)
            skip = x
            if branch.shape[1:] != x.shape[1:]:  # the skip's projection row, then the block's
                (p,) = self.take("P")
                skip = F.linear(x.flatten(1), p)
            self.row += 1
            scale = s["scale"]
            if scale == "rezero":
                scale = self.p[f"alpha{self.row}"]
            elif scale == "inv_sqrt_blocks":
                scale = 1.0 / np.sqrt(self.blocks)
            return skip + scale * branch
        if kind == "max_pool":
            return F.max_pool2d(x, s["kernel"], s["stride"])
        if kind == "avg_pool":
            return F.avg_pool2d(x, s["kernel"], s["stride"])
        if kind == "global_avg_pool":
            return x.mean((2, 3), keepdim=True)
        if kind == "flatten":
            return x.flatten(1)
        raise SystemExit(f"check_autograd: no PyTorch twin for layer kind {kind}")

    def output(self, x):
        w, b = self.take("W", "b")
        return F.linear(x.flatten(1), w, b)


def count_blocks(layers):
    return sum(1 + count_blocks(s["layers"]) for s in layers if s["kind"] == "residual")


def relative(a, b):
    return float((a - b).abs().max() / max(b.abs().max(), 1e-300))


def optimizer(train, tensors):
    """torch.optim's twin of the run's train section (expanded config.json)."""
    kind = train["optimizer"]
    if kind == "sgd":
        return torch.optim.SGD(tensors, lr=train["lr"])
    if kind == "momentum":
        return torch.optim.SGD(tensors, lr=train["lr"], momentum=train["momentum"],
                               nesterov=train["nesterov"])
    return torch.optim.Adam(tensors, lr=train["lr"], betas=(train["beta1"], train["beta2"]),
                            eps=train["eps"])


def check(gradflow, work, name, model, train, x, y):
    config = {"name": name, "seed": 3, "precision": "float64",
              "data": {"kind": "fashion_mnist", "train_size": 64, "probe_size": 16,
                       "standardize": False},
              "model": model,
              "train": dict(train, steps=5, batch_size=64),
              "log": {"every": 1, "save_params": True}}
    path = os.path.join(work, name + ".json")
    with open(path, "w") as f:
        json.dump(config, f)
    out = os.path.join(work, name)
    subprocess.run([gradflow, "run", path, "--out", out, "-q", "--force"], check=True)
    run = json.load(open(os.path.join(out, "config.json")))
    layers = run["model"]["layers"]
    net = Net(layers, params(os.path.join(out, "params_init")), count_blocks(layers))
    opt = optimizer(run["train"], list(net.p.values()))
    losses = []
    steps = run["train"]["steps"]
    for step in range(steps + 1):  # the loss before each update and after the last
        opt.zero_grad()
        loss = F.cross_entropy(net.forward(x), y)
        losses.append(loss.item())
        if step == steps:
            break
        loss.backward()
        opt.step()
    logged = np.genfromtxt(os.path.join(out, "steps.csv"), delimiter=",", names=True)
    worst = {"loss": max(abs(a - b) / abs(b) for a, b in zip(logged["loss"], losses))}
    final = params(os.path.join(out, "params_final"))
    for key, t in net.p.items():
        worst[key] = relative(final[key], t.detach().reshape(final[key].shape))
    bad = {k: v for k, v in worst.items() if not v <= TOLERANCE}
    print(f"{name} ({run['train']['optimizer']}): {len(final)} tensors, {len(losses)} losses; "
          f"worst relative difference {max(worst.values()):.1e} ({max(worst, key=worst.get)})")
    return bad


def main():
    gradflow, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    x, y = images(64)
    failed = False
    runs = [(name, model, {"optimizer": "sgd", "lr": 0.05}) for name, model in NETWORKS.items()]
    runs += [("conv_stack_momentum", NETWORKS["conv_stack"],
              {"optimizer": "momentum", "lr": 0.02, "momentum": 0.9, "nesterov": True}),
             ("residual_mlp_adam", NETWORKS["residual_mlp"],
              {"optimizer": "adam", "lr": 0.003, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6})]
    for name, model, train in runs:
        bad = check(gradflow, work, name, model, train, x, y)
        if bad:
            failed = True
            print(f"  {name} disagrees with PyTorch (relative, tolerance {TOLERANCE}): {bad}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
