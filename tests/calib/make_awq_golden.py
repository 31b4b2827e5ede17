#!/usr/bin/env python3
"""Writes golden/awq_small.json: llm-compressor's AWQ pieces computed with PyTorch tensor semantics
(bf16 in-place ops, fp32 x_mean.pow, fp64 w_mean, fp64->bf16 casts), for calib's exactness tests.
Run: /usr/bin/python3 tests/calib/make_awq_golden.py   (Debian's torch; only for producing the file)
The QDQ scale uses the CUDA path of compressed-tensors (amax * fp32(1/7.5), rounded to bf16), which is
what calibration on a GPU computes (spec compressed-tensors-awq.md 3.2)."""
import json, os
import torch

torch.manual_seed(0)
G = 32
rows, cols = 6, 96
W = (torch.randn(rows, cols) * 0.05)
W[:, 5] *= 20.0                      # an outlier input channel
W[2, 64:96] = 0.0                    # an all-zero group
W = W.to(torch.bfloat16)
x_mean = (torch.rand(cols) * 0.5 + 0.01).float()
x_mean[5] = 9.0
x_mean[17] = 0.0                     # a dead channel: clamps at 1e-4

# _compute_layer_means
w = W.clone().view(-1, G)
w.abs_()
w.div_(w.amax(dim=1, keepdim=True) + 1e-6)
w = w.view(rows, cols)
w_mean = w.sum(0, dtype=torch.float64) / rows

def scales(ratio, duo):
    if duo:
        s = (x_mean.pow(ratio) / (w_mean.pow(1 - ratio) + 1e-4)).clamp(min=1e-4)
    else:
        s = x_mean.pow(ratio).clamp(min=1e-4)
    s = s / (s.max() * s.min()).sqrt()
    s[torch.isinf(s)] = 1
    s[torch.isnan(s)] = 1
    return s

def qdq(wb):  # wb: bf16 [rows, cols]
    g = wb.view(-1, G)
    mn = torch.clamp(g.amin(dim=1, keepdim=True), max=0)
    mx = torch.clamp(g.amax(dim=1, keepdim=True), min=0)
    amax = torch.maximum(mn.abs(), mx.abs())
    sc = (amax.float() * torch.tensor(1 / 7.5, dtype=torch.float32)).to(torch.bfloat16)
    sc = torch.where(sc == 0, torch.tensor(torch.finfo(torch.bfloat16).eps, dtype=torch.bfloat16), sc)
    q = torch.round(torch.clamp(g / sc, -8, 7))
    return (q * sc).view(rows, cols)

points = [(0.0, False)] + [(k / 18, True) for k in range(19)] + [(0.5, False), (1.0, False)]
out = {"group": G, "rows": rows, "cols": cols,
       "W": W.float().tolist(), "x_mean": x_mean.tolist(), "w_mean": w_mean.tolist(), "points": []}
for r, duo in points:
    s = scales(r, duo)
    Ws = (W * s.view(1, -1)).to(torch.bfloat16)
    trial = (qdq(Ws) / s.view(1, -1)).to(torch.bfloat16)
    out["points"].append({"ratio": r, "duo": duo, "scales": s.double().tolist(),
                          "trial": trial.float().tolist()})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "awq_small.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, "torch", torch.__version__)
