"""One DP-SGD step in PyTorch, the fixture for DpSgdMatchesPyTorchTest (run once: /usr/bin/python3, torch 1.13, float64).

Network: Linear(3, 4) - tanh - Linear(4, 2) - softmax, cross-entropy summed over classes per example (DL4J's
MCXENT with a softmax OutputLayer). Parameters, in DL4J's flattened order (W0 [3, 4] column-major, b0, W1 [4, 2]
column-major, b1; 26 values): p[k] = 0.5 sin(0.7 k + 0.3). Batch of 5: x[r][c] = 2 sin(3 r + c + 0.5), class r % 2.
Noise draws (standard normal stand-ins, one per parameter, same order): z[k] = 1.5 cos(1.3 k + 0.2).
Per-example gradients by a loop (each example alone through autograd), clipped as Opacus clips:
factor = min(1, C / (norm + 1e-6)); g = (sum_i factor_i g_i + sigma * C * z) / (q N); SGD lr 0.1.
Flat: C = 1.6 (clips 3 of the 5 examples, whose norms are 1.91, 1.55, 1.77, 1.39, 1.64). Per-layer: C = (0.5, 0.8) for the two layers, noise std sigma * ||(0.5, 0.8)||.
sigma = 1.3, q = 0.25, N = 20 (expected batch size 5).
"""
import math
import torch

torch.set_default_dtype(torch.float64)
P = 26
p = torch.tensor([0.5 * math.sin(0.7 * k + 0.3) for k in range(P)])
z = torch.tensor([1.5 * math.cos(1.3 * k + 0.2) for k in range(P)])
x = torch.tensor([[2 * math.sin(3 * r + c + 0.5) for c in range(3)] for r in range(5)])
y = torch.tensor([r % 2 for r in range(5)])
sigma, q, n, lr = 1.3, 0.25, 20, 0.1


def unflatten(v):
    # DL4J W [in, out] column-major == torch weight [out, in] row-major
    return [v[0:12].reshape(4, 3), v[12:16], v[16:24].reshape(2, 4), v[24:26]]


def flatten(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def example_grad(i):
    params = [t.clone().requires_grad_(True) for t in unflatten(p)]
    w0, b0, w1, b1 = params
    h = torch.tanh(x[i:i + 1] @ w0.T + b0)
    logp = torch.log_softmax(h @ w1.T + b1, dim=1)
    loss = -logp[0, y[i]]
    return torch.autograd.grad(loss, params)


grads = [example_grad(i) for i in range(5)]


def step(thresholds):
    total = torch.zeros(P)
    for g in grads:
        if len(thresholds) == 1:
            norm = flatten(g).norm()
            f = [min(1.0, thresholds[0] / (norm.item() + 1e-6))] * 4
        else:
            n0 = flatten(g[0:2]).norm().item()
            n1 = flatten(g[2:4]).norm().item()
            f0 = min(1.0, thresholds[0] / (n0 + 1e-6))
            f1 = min(1.0, thresholds[1] / (n1 + 1e-6))
            f = [f0, f0, f1, f1]
        total += flatten([fk * gk for fk, gk in zip(f, g)])
    c = math.sqrt(sum(t * t for t in thresholds))
    grad = (total + sigma * c * z) / (q * n)
    return p - lr * grad


print("torch", torch.__version__)
print("norms", [flatten(g).norm().item() for g in grads])
for name, th in (("flat", [1.6]), ("perLayer", [0.5, 0.8])):
    out = step(th)
    print(name, "{" + ", ".join(repr(v) for v in out.tolist()) + "}")
