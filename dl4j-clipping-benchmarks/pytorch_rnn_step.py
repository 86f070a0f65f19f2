#!/usr/bin/env python3
"""PyTorch half of the side-by-side recurrent training-step benchmark.

What is timed: ONE TRAINING STEP of a small recurrent network, per configuration, in float32 on the CPU:

    optimizer.zero_grad(set_to_none=False)
    logits = Linear(RNN(x))                                  # nn.LSTM or nn.GRU, num_layers 1 or 2
    loss = cross_entropy(logits over all T*B positions)      # mean
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)              # global L2 norm over all parameters
    Adam(lr=1e-3).step()

Network: no embedding. The input x has shape [T, B, nIn] (time-major, the nn.LSTM / nn.GRU default); 1 or 2
stacked recurrent layers of `width` units; nn.Linear(width, classes) applied to every time step; cross-entropy
(log-softmax + NLL) against a random class per (t, b). Inputs: N(0, 1) values when nIn == 1, one-hot vectors of
random classes when nIn > 1. All data and weights come from fixed seeds (torch.manual_seed(42) before each
configuration). The data are built once per configuration, outside the timing.

Why it matches the Java side: there, one step is MultiLayerNetwork.fit(DataSet) on a network made of the same
recurrent layer(s) (DL4J's LSTM, or this project's GRU, which has exactly nn.GRU's equations and parameters), then
an RnnOutputLayer with softmax activation and MCXENT loss (= Linear on every time step + softmax cross-entropy),
global-norm gradient clipping with threshold 1.0, the Adam(1e-3) updater, float data type, same T, batch, nIn,
classes and data distribution. Both sides thus do the same forward pass, the same backward pass through time, one
global-norm clip and one Adam update per step. Small differences that do not change the work in any material way:
PyTorch's LSTM has two bias vectors per layer where DL4J's has one; initialisation differs (irrelevant to the
time); DL4J's MCXENT on an RnnOutputLayer averages over the minibatch but sums over time steps, so its loss is T
times this mean (clip_grad_norm_ scales the gradients unconditionally, so the clipping work is the same either way).

Threads: torch.set_num_threads(N) sets PyTorch's OpenMP pool only. Debian's torch calls its BLAS (OpenBLAS, when
libopenblas0-pthread is installed) through the libblas.so.3 alternative, and OpenBLAS keeps its own thread pool
sized from OPENBLAS_NUM_THREADS (default: all cores), which set_num_threads does not touch. This script therefore
sets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS to N before it imports torch, as the Java side gets
OMP_NUM_THREADS=N OPENBLAS_NUM_THREADS=N, and prints the OpenBLAS thread count it finds in the header.

Timing: 5 warm-up steps, then 30 timed steps (time.perf_counter around the whole step); reported as median, min
and max in milliseconds. --quick: 1 warm-up and 3 timed steps (smoke tests only, not for figures).

Usage: /usr/bin/python3 pytorch_rnn_step.py --threads N [--quick] [--json OUT]
Needs only torch and the standard library (Debian: apt-get install python3-torch libopenblas0-pthread; a
pyenv/venv python3 earlier on PATH usually has no torch, hence /usr/bin/python3).
"""
import argparse
import os
import sys


def parse_args():
    p = argparse.ArgumentParser(description="Time one recurrent training step (PyTorch) per configuration.")
    p.add_argument("--threads", type=int, required=True, help="torch/OpenMP/OpenBLAS threads")
    p.add_argument("--quick", action="store_true", help="1 warm-up and 3 timed steps (smoke test)")
    p.add_argument("--json", metavar="OUT", help="also write the rows as a JSON list to OUT")
    args = p.parse_args()
    if args.threads < 1:
        p.error("--threads must be >= 1")
    return args


ARGS = parse_args()
# Before torch (and with it OpenBLAS and libgomp) is loaded: both read these once, when they start.
_ENV_BEFORE = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import ctypes  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

# (name, layers, width, T, B, nIn, classes)
CONFIGS = [
    ("uci-w10", 1, 10, 60, 10, 1, 6),
    ("uci-w64", 1, 64, 60, 10, 1, 6),
    ("classify-w32", 1, 32, 100, 32, 65, 65),
    ("char-w256", 1, 256, 100, 32, 65, 65),
    ("charlm-2x256", 2, 256, 100, 32, 65, 65),
    ("gru-bench-2x256", 2, 256, 64, 32, 65, 65),
]
CELLS = ("lstm", "gru")


class Net(nn.Module):
    def __init__(self, cell, n_in, width, layers, classes):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(input_size=n_in, hidden_size=width, num_layers=layers)  # time-major [T, B, nIn]
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        h, _ = self.rnn(x)          # [T, B, width]
        return self.out(h)          # [T, B, classes]


def make_data(T, B, n_in, classes):
    if n_in == 1:
        x = torch.randn(T, B, 1)
    else:
        x = F.one_hot(torch.randint(n_in, (T, B)), n_in).to(torch.float32)
    y = torch.randint(classes, (T, B))
    return x.contiguous(), y


def time_config(cell, name, layers, width, T, B, n_in, classes, warmup, runs):
    torch.manual_seed(42)
    net = Net(cell, n_in, width, layers, classes)
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x, y = make_data(T, B, n_in, classes)
    y_flat = y.reshape(T * B)

    def step():
        opt.zero_grad(set_to_none=False)
        logits = net(x)
        loss = F.cross_entropy(logits.reshape(T * B, classes), y_flat)  # mean over all T*B positions
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    gc.collect()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        times.append((t1 - t0) * 1e3)
    return statistics.median(times), min(times), max(times)


def openblas_threads():
    """The thread count of the OpenBLAS loaded in this process, or None when there is none (or it can't be read)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "libopenblas" in line}
        for lib in sorted(libs):
            try:
                return ctypes.CDLL(lib).openblas_get_num_threads(), lib
            except (OSError, AttributeError):
                continue
    except OSError:
        pass
    return None, None


def load():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        try:
            with open("/proc/loadavg") as f:
                return "loadavg " + f.read().strip()
        except OSError:
            return "load unknown"


def main():
    threads = ARGS.threads
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    warmup, runs = (1, 3) if ARGS.quick else (5, 30)

    # Touch BLAS once so that the library is loaded before we look for it.
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))
    ob_threads, ob_lib = openblas_threads()
    blas = f"openblas threads {ob_threads} ({ob_lib})" if ob_threads is not None else "openblas not loaded"
    overridden = [f"{k} was {v}" for k, v in _ENV_BEFORE.items() if v is not None and v != str(threads)]
    print(f"# torch {torch.__version__}, threads {threads} (torch.get_num_threads {torch.get_num_threads()}), "
          f"{blas}, warm-up {warmup}, timed {runs}{' (QUICK: not for figures)' if ARGS.quick else ''}"
          f"{'; ' + ', '.join(overridden) if overridden else ''}; load: {load()}")
    print("# cell config ms_median ms_min ms_max")
    sys.stdout.flush()

    rows = []
    for name, layers, width, T, B, n_in, classes in CONFIGS:
        for cell in CELLS:
            med, lo, hi = time_config(cell, name, layers, width, T, B, n_in, classes, warmup, runs)
            print(f"{cell} {name} {med:.3f} {lo:.3f} {hi:.3f}")
            sys.stdout.flush()
            rows.append({"cell": cell, "config": name, "layers": layers, "width": width, "T": T, "B": B,
                         "nIn": n_in, "classes": classes, "threads": threads,
                         "median_ms": med, "min_ms": lo, "max_ms": hi})
    print(f"# load at end: {load()}")

    if ARGS.json:
        with open(ARGS.json, "w") as f:
            json.dump(rows, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
