"""Minimal batched dopri5 in PyTorch (CPU) for `npm run bench:ode`: same MLP field, same algorithm as
@continuum/ode (SciPy-style I controller, Hairer initial step, FSAL, largest per-sample RMS norm), so
the NFE match and wall times compare like for like. Reads {"weights", "biases", "batches", "repeats",
"rtol", "atol", "seed"} as JSON on stdin, prints JSON results. Single-threaded (torch.set_num_threads(1)).
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
cfg = json.load(sys.stdin)
W = [torch.tensor(w, dtype=torch.float32) for w in cfg["weights"]]  # [in, out]
b = [torch.tensor(v, dtype=torch.float32) for v in cfg["biases"]]


def f(t, y):
    h = torch.tanh(y @ W[0] + b[0])
    h = torch.tanh(h @ W[1] + b[1])
    return h @ W[2] + b[2]


C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1]
A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9],
     [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
     [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]]
Bw = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
E = [-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40]


def norm(x, ya, yb, rtol, atol):
    scale = atol + rtol * torch.maximum(ya.abs(), yb.abs())
    return float(((x / scale) ** 2).mean(dim=1).max().sqrt())


def dopri5(y0, t1, rtol, atol):
    nfe = 0
    t = 0.0
    y = y0
    f0 = f(t, y); nfe += 1
    scale = atol + rtol * y0.abs()
    d0 = float(((y0 / scale) ** 2).mean(dim=1).max().sqrt())
    d1 = float(((f0 / scale) ** 2).mean(dim=1).max().sqrt())
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, t1)
    f1 = f(t + h0, y0 + h0 * f0); nfe += 1
    d2 = float((((f1 - f0) / scale) ** 2).mean(dim=1).max().sqrt()) / h0
    h1 = max(1e-6, h0 * 1e-3) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** (1 / 5)
    h = min(100 * h0, h1, t1)
    accepted = 0
    while t < t1:
        rejected = False
        while True:
            hh = min(h, t1 - t)
            k = [f0]
            for i in range(1, 6):
                yi = y + hh * sum(a * kj for a, kj in zip(A[i], k) if a != 0)
                k.append(f(t + C[i] * hh, yi)); nfe += 1
            ynew = y + hh * sum(bj * kj for bj, kj in zip(Bw, k) if bj != 0)
            fnew = f(t + hh, ynew); nfe += 1
            k.append(fnew)
            err = hh * sum(e * kj for e, kj in zip(E, k) if e != 0)
            en = norm(err, y, ynew, rtol, atol)
            if en <= 1:
                fac = 10.0 if en == 0 else min(10.0, 0.9 * en ** -0.2)
                if rejected:
                    fac = min(1.0, fac)
                t += hh; y = ynew; f0 = fnew; h = hh * fac; accepted += 1
                break
            h = hh * max(0.2, 0.9 * en ** -0.2); rejected = True
    return y, nfe, accepted


out = []
with torch.no_grad():
    for B in cfg["batches"]:
        g = torch.Generator().manual_seed(cfg["seed"])
        y0 = torch.rand(B, W[0].shape[0], generator=g) * 2 - 1
        dopri5(y0, 1.0, cfg["rtol"], cfg["atol"])  # warm-up
        best = float("inf")
        for _ in range(cfg["repeats"]):
            t0 = time.perf_counter()
            _, nfe, acc = dopri5(y0, 1.0, cfg["rtol"], cfg["atol"])
            best = min(best, time.perf_counter() - t0)
        out.append(dict(B=B, nfe=nfe, accepted=acc, ms=best * 1e3))
print(json.dumps(dict(torch=torch.__version__, threads=torch.get_num_threads(), results=out)))
