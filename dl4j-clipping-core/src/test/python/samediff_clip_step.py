# Fixture for SameDiffClippingTest.stepEqualsPyTorch: three SGD steps (lr 0.5) with clip_grad_norm_(max_norm 0.05)
# on a dense tanh layer (4 -> 6) and a linear output (6 -> 3), mean squared error over all elements, in float64.
# Inputs and initial weights are closed-form (below), the same formulas as the Java test. Run once:
#   python3 samediff_clip_step.py      (PyTorch 1.13, Debian python3-torch)
import math
import torch

torch.set_default_dtype(torch.float64)
B, I, H, O = 8, 4, 6, 3
x = torch.tensor([[2 * math.sin(0.3 * i + 0.7 * j + 0.1) for j in range(I)] for i in range(B)])
y = torch.tensor([[math.cos(0.5 * i - 0.2 * k) for k in range(O)] for i in range(B)])
w0 = torch.tensor([[0.3 * math.sin(1.1 * a + 0.37 * b + 0.5) for b in range(H)] for a in range(I)], requires_grad=True)
b0 = torch.tensor([[0.05 * b - 0.1 for b in range(H)]], requires_grad=True)
w1 = torch.tensor([[0.4 * math.cos(0.9 * b - 0.61 * c) for c in range(O)] for b in range(H)], requires_grad=True)
b1 = torch.tensor([[0.02 * c for c in range(O)]], requires_grad=True)
params = [w0, b0, w1, b1]
opt = torch.optim.SGD(params, lr=0.5)
for step in range(3):
    opt.zero_grad()
    out = torch.tanh(x @ w0 + b0) @ w1 + b1
    loss = ((out - y) ** 2).mean()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(params, 0.05)
    print("step", step, "loss", repr(loss.item()), "norm before", repr(norm.item()))
    opt.step()
print("torch", torch.__version__)
for name, p in zip(["layer0/W", "layer0/b", "layer1/W", "layer1/b"], params):
    print(name, ", ".join(repr(v) for v in p.detach().reshape(-1).tolist()))
