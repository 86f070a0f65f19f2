#!/usr/bin/env python3
"""Reference numbers for GruResetBeforeMatchesPyTorchTest (run once; the test holds the printed literals).

PyTorch has no reset-before GRU (nn.GRU applies the reset gate after the recurrent product), so the cell is written
out here with torch ops and differentiated by autograd:
  r  = gate(x W_r + b_r + h RW_r)
  z  = gate(x W_z + b_z + h RW_z)
  n  = act(x W_n + b_n + (r * h) RW_n)
  h' = m * ((1 - z) * n + z * h)            m = mask value of the example at that step (DL4J's masking)
(Keras's GRU with reset_after=False; gate blocks r, z, n as in DL4J's layout.)

Usage: /usr/bin/python3 gru_reset_before_fixture.py   (needs PyTorch; 1.13 was used)

Shapes: nIn=3, nOut=4, minibatch=2, T=5. Every number is a closed formula, restated in the Java test:
  x[b, i, t]   = sin(0.37*t + 0.91*i + 1.3*b)           (DL4J NCW indexing)
  W[i, k]      = 0.3*cos(0.5*k + 0.7*i + 0.2)            ([nIn, 3*nOut], DL4J layout)
  RW[j, k]     = 0.25*sin(0.3*k - 0.4*j + 0.5)           ([nOut, 3*nOut])
  b[k]         = 0.1*cos(1.1*k)
  c[b, j, t]   = cos(0.29*(b + 2*j + 3*t))               loss L = sum(output * c)
Case "default": gate = sigmoid, act = tanh, no mask.
Case "hard": gate = hard sigmoid written as relu6(x + 3)/6 (Keras 3's definition; the function of
  torch.nn.functional.hardsigmoid, whose backward in torch 1.13 multiplies by 1/6 rounded to float even in float64,
  0.1666666716337204: 3e-8 relative off), act = relu, inputs times 10 (24
  of the 80 gate pre-activations lie beyond +-3, none closer than 0.02 to it; 14 of the 40 relu inputs are
  negative, none closer than 0.09 to 0), mask [[1,1,1,0,0],[1,0,1,1,1]].
Printed arrays are flattened in row-major order of the DL4J shapes:
  output, dL/dx: [mb, size, T];  W [nIn, 3nOut];  RW [nOut, 3nOut];  b [3nOut].
"""
import math
import torch
import torch.nn.functional as F

N_IN, N_OUT, MB, T = 3, 4, 2, 5
MASK = [[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]]


def run(name, gate, act, scale, mask):
    w = torch.tensor([[0.3 * math.cos(0.5 * k + 0.7 * i + 0.2) for k in range(3 * N_OUT)] for i in range(N_IN)],
                     requires_grad=True)
    rw = torch.tensor([[0.25 * math.sin(0.3 * k - 0.4 * j + 0.5) for k in range(3 * N_OUT)] for j in range(N_OUT)],
                      requires_grad=True)
    b = torch.tensor([0.1 * math.cos(1.1 * k) for k in range(3 * N_OUT)], requires_grad=True)
    x = torch.tensor([[[scale * math.sin(0.37 * t + 0.91 * i + 1.3 * e) for t in range(T)]
                       for i in range(N_IN)] for e in range(MB)], requires_grad=True)
    c = torch.tensor([[[math.cos(0.29 * (e + 2 * j + 3 * t)) for t in range(T)]
                       for j in range(N_OUT)] for e in range(MB)])
    n = N_OUT
    h = torch.zeros(MB, n)
    outs = []
    for t in range(T):
        a = x[:, :, t] @ w + b
        rec = h @ rw[:, :2 * n]
        r = gate(a[:, :n] + rec[:, :n])
        z = gate(a[:, n:2 * n] + rec[:, n:])
        cand = act(a[:, 2 * n:] + (r * h) @ rw[:, 2 * n:])
        h = (1 - z) * cand + z * h
        if mask is not None:
            h = h * torch.tensor([[float(mask[e][t])] for e in range(MB)])
        outs.append(h)
    out = torch.stack(outs, dim=2)          # [mb, nOut, T]
    (out * c).sum().backward()

    def emit(field, tensor):
        vals = ", ".join(repr(float(v)) for v in tensor.detach().reshape(-1).tolist())
        print(f"    private static final double[] {field} = {{{vals}}};")

    print(f"    // case {name}, torch {torch.__version__}")
    suffix = name.upper()
    emit(f"{suffix}_OUTPUT", out)
    emit(f"{suffix}_DX", x.grad)
    emit(f"{suffix}_DW", w.grad)
    emit(f"{suffix}_DRW", rw.grad)
    emit(f"{suffix}_DB", b.grad)


def hard_sigmoid(v):
    """clip(v/6 + 1/2, 0, 1) with the exact derivative 1/6 inside (-3, 3) and 0 outside."""
    return F.relu6(v + 3.0) / 6.0


def main():
    torch.set_default_dtype(torch.float64)
    run("default", torch.sigmoid, torch.tanh, 1.0, None)
    run("hard", hard_sigmoid, torch.relu, 10.0, MASK)


if __name__ == "__main__":
    main()
