"""Fixture for KerasTrainingStepVsPyTorchTest: three training steps of the Keras 2.0.9 GRU file with its own
optimizer and clipping, computed by PyTorch in float64.

Model: keras2.0-gru-clipnorm/results_model_0.h5 (SeanvonB/speech-recognizer, MIT), keras_version 2.0.9:
input [T, 13] -> GRU(29, activation tanh, recurrent_activation hard_sigmoid, reset_after absent = reset applied
before the recurrent product, one bias [87]) -> softmax over the 29 units at each step. Its training loss is a CTC
Lambda layer; here the loss is instead a per-step softmax cross-entropy on the stated inputs and labels, summed
over steps and examples and divided by the number of examples (DL4J's RnnLossLayer/MCXENT score).

Optimizer, from the file's training_config: SGD(lr=0.02, momentum=0.9, nesterov=True, decay=1e-6) with
clipnorm=5, which standalone Keras 2.0.9 applies as ONE norm over all gradients. Each step:
  g      = gradient of the loss (autograd through the GRU written by hand below)
  n      = sqrt(sum of every g^2)
  g     <- g * 5 / (n + 1e-6)  when that factor is < 1  (torch.nn.utils.clip_grad_norm_; Keras: g * 5 / n when
                                                          n >= 5, also written: "keras" columns)
  lr_t   = 0.02 / (1 + 1e-6 * t), t = 0, 1, 2           (Keras's decay; t = iterations before the update)
  v      = 0.9 v - lr_t g;  p += 0.9 v - lr_t g         (Keras's SGD(nesterov=True), v from 0)
The hyper-parameters are the float32 values the file stores, widened to float64. Inputs: 2 sequences x 40 steps,
N(0, 1) x 10 from numpy RandomState(24) (the factor 10 and the 40 steps make the gradient norm exceed 5 at every
step: 22.6, 13.4, 10.4, so the clip is active; the norms are written to the fixture); labels uniform over the 29
classes, same generator.

Run once (PyTorch 1.13, h5py 3.7, numpy 1.24):
  PYTHONPATH=/usr/lib/python3/dist-packages python3 keras_gru_clipnorm_step.py \
      ../resources/keras/keras2.0-gru-clipnorm/results_model_0.h5 ../resources/keras-training/gru-clipnorm-steps.json
"""
import json
import sys

import h5py
import numpy as np
import torch

torch.set_default_dtype(torch.float64)

B, T, NIN, U = 2, 40, 13, 29
STEPS = 3


def hard_sigmoid(x):
    # Keras 2: clip(0.2 x + 0.5, 0, 1)
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def gru_reset_before(x, kernel, recurrent, bias):
    """Keras 2 GRU, reset_after=False, blocks z, r, h; x [B, T, NIN] -> h [B, T, U]."""
    h = torch.zeros(x.shape[0], U)
    out = []
    for t in range(x.shape[1]):
        xt = x[:, t, :] @ kernel + bias
        z = hard_sigmoid(xt[:, :U] + h @ recurrent[:, :U])
        r = hard_sigmoid(xt[:, U:2 * U] + h @ recurrent[:, U:2 * U])
        hh = torch.tanh(xt[:, 2 * U:] + (r * h) @ recurrent[:, 2 * U:])
        h = z * h + (1 - z) * hh
        out.append(h)
    return torch.stack(out, dim=1)


def main(h5_path, out_path):
    with h5py.File(h5_path, "r") as f:
        version = f.attrs["keras_version"]
        assert (version.decode() if isinstance(version, bytes) else version) == "2.0.9", version
        tc = json.loads(f.attrs["training_config"])["optimizer_config"]["config"]
        g = f["model_weights"]["rnn"]["rnn"]
        params = [torch.tensor(np.asarray(g[k], dtype=np.float64), requires_grad=True)
                  for k in ("kernel:0", "recurrent_kernel:0", "bias:0")]
    lr, mu, decay, clipnorm = tc["lr"], tc["momentum"], tc["decay"], float(tc["clipnorm"])
    assert tc["nesterov"] is True

    rs = np.random.RandomState(24)
    x = rs.randn(B, T, NIN) * 10.0
    labels = rs.randint(0, U, size=(B, T))
    xt = torch.tensor(x)
    yt = torch.tensor(labels)

    def run(keras_clip):
        ps = [p.detach().clone().requires_grad_(True) for p in params]
        vel = [torch.zeros_like(p) for p in ps]
        after, norms = [], []
        for t in range(STEPS):
            for p in ps:
                p.grad = None
            logits = gru_reset_before(xt, *ps)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, U), yt.reshape(-1), reduction="sum") / B
            loss.backward()
            grads = [p.grad.detach().clone() for p in ps]
            n = torch.sqrt(sum((gg ** 2).sum() for gg in grads)).item()
            norms.append(n)
            if keras_clip:
                if n >= clipnorm:
                    grads = [gg * clipnorm / n for gg in grads]
            else:
                for p, gg in zip(ps, grads):
                    p.grad = gg
                torch.nn.utils.clip_grad_norm_(ps, clipnorm)
                grads = [p.grad.detach().clone() for p in ps]
            lr_t = lr / (1 + decay * t)
            with torch.no_grad():
                for p, v, gg in zip(ps, vel, grads):
                    v.mul_(mu).sub_(lr_t * gg)
                    p.add_(mu * v - lr_t * gg)
            after.append([p.detach().numpy().tolist() for p in ps])
        return after, norms

    torch_after, norms = run(False)
    keras_after, _ = run(True)
    diff = max(abs(a - b) for s in range(STEPS) for k in range(3)
               for a, b in zip(np.ravel(torch_after[s][k]), np.ravel(keras_after[s][k])))
    assert min(norms) > clipnorm, norms
    fixture = {
        "about": "keras_gru_clipnorm_step.py: 3 steps of SGD(lr, momentum, nesterov, decay) with global clipnorm on "
                 "results_model_0.h5 (Keras 2.0.9), per-step softmax cross-entropy; PyTorch 1.13 float64",
        "keras_version": "2.0.9",
        "batch": B, "steps": T, "inputs": NIN, "units": U,
        "x": x.tolist(),
        "labels": labels.tolist(),
        "grad_norm_before_clip": norms,
        "max_difference_torch_vs_keras_clip": diff,
        "after_step": [{"kernel": s[0], "recurrent_kernel": s[1], "bias": s[2]} for s in torch_after],
        "after_last_step_keras_clip": {"kernel": keras_after[-1][0], "recurrent_kernel": keras_after[-1][1],
                                       "bias": keras_after[-1][2]},
    }
    with open(out_path, "w") as f:
        json.dump(fixture, f)
    print("gradient norms before clipping:", norms)
    print("max |torch clip - keras clip| over the parameters after each step:", diff)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
