#!/usr/bin/env python3
"""Reference numbers for NativeLstmMatchesPyTorchTest (run once; the test holds the printed literals).

Usage: /usr/bin/python3 lstm_fixture.py   (needs PyTorch; Debian's python3-torch 1.13.1 was used)

Shapes: nIn=3, nOut=4, minibatch=2, T=5. Every number is a closed formula, restated in the Java test:
  x[b, i, t]        = sin(0.37*t + 0.91*i + 1.3*b)           (DL4J NCW indexing)
  weight_ih[k, i]   = 0.3*cos(0.5*k + 0.7*i + 0.2)            (PyTorch layout [4*nOut, nIn], gates i,f,g,o)
  weight_hh[k, j]   = 0.25*sin(0.3*k - 0.4*j + 0.5)           ([4*nOut, nOut])
  bias_ih[k]        = 0.1*cos(1.1*k)
  bias_hh[k]        = 0.1*sin(0.9*k + 0.3)
  h0[b, j]          = 0.2*cos(0.6*b + 0.8*j)                   (second case only; c0 = 0.5*sin(0.4*b - 0.7*j))
  c[b, j, t]        = cos(0.29*(b + 2*j + 3*t))               loss L = sum(output * c)
Printed arrays are flattened in row-major order: output and dL/dx in DL4J NCW [mb, size, T]; the weight gradients
in PyTorch's own layout (weight_ih [4nOut, nIn], weight_hh [4nOut, nOut], bias [4nOut], the two bias gradients are
equal). The Java test maps them to DL4J's layout.
"""
import math
import torch

N_IN, N_OUT, MB, T = 3, 4, 2, 5


def run(with_state):
    torch.set_default_dtype(torch.float64)
    lstm = torch.nn.LSTM(N_IN, N_OUT, batch_first=True)
    with torch.no_grad():
        for k in range(4 * N_OUT):
            for i in range(N_IN):
                lstm.weight_ih_l0[k, i] = 0.3 * math.cos(0.5 * k + 0.7 * i + 0.2)
            for j in range(N_OUT):
                lstm.weight_hh_l0[k, j] = 0.25 * math.sin(0.3 * k - 0.4 * j + 0.5)
            lstm.bias_ih_l0[k] = 0.1 * math.cos(1.1 * k)
            lstm.bias_hh_l0[k] = 0.1 * math.sin(0.9 * k + 0.3)
    x_ncw = torch.tensor([[[math.sin(0.37 * t + 0.91 * i + 1.3 * b) for t in range(T)]
                           for i in range(N_IN)] for b in range(MB)], requires_grad=True)
    c_ncw = torch.tensor([[[math.cos(0.29 * (b + 2 * j + 3 * t)) for t in range(T)]
                           for j in range(N_OUT)] for b in range(MB)])
    state = None
    if with_state:
        h0 = torch.tensor([[[0.2 * math.cos(0.6 * b + 0.8 * j) for j in range(N_OUT)] for b in range(MB)]])
        c0 = torch.tensor([[[0.5 * math.sin(0.4 * b - 0.7 * j) for j in range(N_OUT)] for b in range(MB)]])
        state = (h0, c0)
    out_nwc, _ = lstm(x_ncw.permute(0, 2, 1), state)
    out_ncw = out_nwc.permute(0, 2, 1)
    (out_ncw * c_ncw).sum().backward()
    return out_ncw, x_ncw.grad, lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad


def emit(name, tensor):
    vals = ", ".join(repr(float(v)) for v in tensor.detach().reshape(-1).tolist())
    print(f"    private static final double[] {name} = {{{vals}}};")


def main():
    print(f"    // torch {torch.__version__}")
    for suffix, with_state in (("", False), ("_FROM_STATE", True)):
        out, dx, dwih, dwhh, db = run(with_state)
        emit("EXPECTED_OUTPUT" + suffix, out)
        emit("EXPECTED_DX" + suffix, dx)
        emit("EXPECTED_DW_IH" + suffix, dwih)
        emit("EXPECTED_DW_HH" + suffix, dwhh)
        emit("EXPECTED_DB" + suffix, db)


if __name__ == "__main__":
    main()
