#!/usr/bin/env python3
"""Reference numbers for GruMatchesPyTorchTest (run once; the test holds the printed literals).

Usage: /usr/bin/python3 gru_fixture.py   (needs PyTorch; 1.13 was used)

Shapes: nIn=3, nOut=4, minibatch=2, T=5. Every number is a closed formula, restated in the Java test:
  x[b, i, t]        = sin(0.37*t + 0.91*i + 1.3*b)           (DL4J NCW indexing)
  weight_ih[k, i]   = 0.3*cos(0.5*k + 0.7*i + 0.2)            (PyTorch layout [3*nOut, nIn], gates r,z,n)
  weight_hh[k, j]   = 0.25*sin(0.3*k - 0.4*j + 0.5)           ([3*nOut, nOut])
  bias_ih[k]        = 0.1*cos(1.1*k)
  bias_hh[k]        = 0.1*sin(0.9*k + 0.3)
  c[b, j, t]        = cos(0.29*(b + 2*j + 3*t))               loss L = sum(output * c)
Printed arrays are flattened in row-major order of the DL4J shapes:
  output, dL/dx: [mb, size, T];  W = weight_ih^T [nIn, 3nOut];  RW = weight_hh^T [nOut, 3nOut];  b, rb [3nOut].
"""
import math
import torch

N_IN, N_OUT, MB, T = 3, 4, 2, 5


def main():
    torch.set_default_dtype(torch.float64)
    gru = torch.nn.GRU(N_IN, N_OUT, batch_first=True)
    with torch.no_grad():
        for k in range(3 * N_OUT):
            for i in range(N_IN):
                gru.weight_ih_l0[k, i] = 0.3 * math.cos(0.5 * k + 0.7 * i + 0.2)
            for j in range(N_OUT):
                gru.weight_hh_l0[k, j] = 0.25 * math.sin(0.3 * k - 0.4 * j + 0.5)
            gru.bias_ih_l0[k] = 0.1 * math.cos(1.1 * k)
            gru.bias_hh_l0[k] = 0.1 * math.sin(0.9 * k + 0.3)
    x_ncw = torch.tensor([[[math.sin(0.37 * t + 0.91 * i + 1.3 * b) for t in range(T)]
                           for i in range(N_IN)] for b in range(MB)], requires_grad=True)
    c_ncw = torch.tensor([[[math.cos(0.29 * (b + 2 * j + 3 * t)) for t in range(T)]
                           for j in range(N_OUT)] for b in range(MB)])
    out_nwc, _ = gru(x_ncw.permute(0, 2, 1))
    out_ncw = out_nwc.permute(0, 2, 1)
    loss = (out_ncw * c_ncw).sum()
    loss.backward()

    def emit(name, tensor):
        vals = ", ".join(repr(float(v)) for v in tensor.detach().reshape(-1).tolist())
        print(f"    private static final double[] {name} = {{{vals}}};")

    print(f"    // torch {torch.__version__}")
    emit("EXPECTED_OUTPUT", out_ncw)
    emit("EXPECTED_DX", x_ncw.grad)
    emit("EXPECTED_DW", gru.weight_ih_l0.grad.t().contiguous())
    emit("EXPECTED_DRW", gru.weight_hh_l0.grad.t().contiguous())
    emit("EXPECTED_DB", gru.bias_ih_l0.grad)
    emit("EXPECTED_DRB", gru.bias_hh_l0.grad)


if __name__ == "__main__":
    main()
