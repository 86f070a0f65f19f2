"""Generates the PyTorch fixture numbers of PyTorchFixturesTest (run once; the tests never need Python).

Run with Debian's python3-torch:  /usr/bin/python3 clip_fixtures.py
Printed with torch.__version__ at the top; the inputs are the formulas below, repeated in the Java test.
"""
import math
import torch

torch.set_printoptions(precision=17)


def grads(dtype):
    # three parameters of shapes [3, 4], [4], [2, 3]; element k of parameter j is sin(0.7 k + j) * (j + 1) * 0.9
    shapes = [(3, 4), (4,), (2, 3)]
    out = []
    for j, shape in enumerate(shapes):
        n = math.prod(shape)
        vals = [math.sin(0.7 * k + j) * (j + 1) * 0.9 for k in range(n)]
        p = torch.nn.Parameter(torch.zeros(shape, dtype=dtype))
        p.grad = torch.tensor(vals, dtype=dtype).reshape(shape)
        out.append(p)
    return out


def show(name, params, ret=None):
    flat = [v for p in params for v in p.grad.reshape(-1).tolist()]
    print("    // " + name + (" returned total norm %r" % ret if ret is not None else ""))
    print("    static final double[] " + name + " = {" + ", ".join(repr(v) for v in flat) + "};")


print("    // torch " + torch.__version__)
for dtype, suffix in [(torch.float64, "D"), (torch.float32, "F")]:
    ps = grads(dtype)
    show("INPUT_" + suffix, ps)
    for max_norm, norm_type, tag in [(1.0, 2.0, "L2_1"), (2.5, 1.0, "L1_2_5"), (0.5, float("inf"), "INF_0_5"),
                                     (100.0, 2.0, "L2_100")]:
        ps = grads(dtype)
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        show("NORM_" + tag + "_" + suffix, ps, total.item())
    ps = grads(dtype)
    torch.nn.utils.clip_grad_value_(ps, 0.5)
    show("VALUE_0_5_" + suffix, ps)
