"""Reference work counts and tight-tolerance solutions of SciPy's stiff solvers (Radau, BDF, LSODA) for
the acceptance tests and benchmark of libs/ode's stiff solvers (issue 5).

Run: python3 bench/reference/scipy_stiff.py  -> writes bench/reference/scipy_stiff.json

Problems (Hairer & Wanner, Solving ODEs II, IV.1 and IV.10; the IVP test set of Mazzia & Magherini):
- robertson: k1 = 0.04, k2 = 3e7, k3 = 1e4, y0 = [1, 0, 0], t in [0, 1e5], rtol 1e-6, atol [1e-8, 1e-14, 1e-6]
- vdp1000: Van der Pol y1' = y2, y2' = mu (1 - y1^2) y2 - y1, mu = 1000, y0 = [2, 0], t in [0, 3000],
  rtol = atol = 1e-6
- hires: Schaefer's 8-species photomorphogenesis model, t in [0, 321.8122], rtol 1e-6, atol 1e-9

Work counts use SciPy's default finite-difference Jacobian (as libs/ode does without `jacobian`);
SciPy's Radau/BDF `nfev` does not count the Jacobian's own evaluations (LSODA's does). The reference
solutions are Radau with the analytic Jacobian at rtol 1e-13 (Van der Pol: 1e-10, as tighter takes minutes in Python).
"""
import json
import os
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp


def rober(t, y):
    k1, k2, k3 = 0.04, 3e7, 1e4
    return np.array(
        [-k1 * y[0] + k3 * y[1] * y[2], k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2, k2 * y[1] ** 2]
    )


def rober_jac(t, y):
    k1, k2, k3 = 0.04, 3e7, 1e4
    return np.array(
        [
            [-k1, k3 * y[2], k3 * y[1]],
            [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
            [0.0, 2 * k2 * y[1], 0.0],
        ]
    )


MU = 1000.0


def vdp(t, y):
    return np.array([y[1], MU * (1 - y[0] ** 2) * y[1] - y[0]])


def vdp_jac(t, y):
    return np.array([[0.0, 1.0], [-2 * MU * y[0] * y[1] - 1, MU * (1 - y[0] ** 2)]])


def hires(t, y):
    return np.array(
        [
            -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007,
            1.71 * y[0] - 8.75 * y[1],
            -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4],
            8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3],
            -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6],
            -280 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6],
            280 * y[5] * y[7] - 1.81 * y[6],
            -280 * y[5] * y[7] + 1.81 * y[6],
        ]
    )


def hires_jac(t, y):
    J = np.zeros((8, 8))
    J[0, 0], J[0, 1], J[0, 2] = -1.71, 0.43, 8.32
    J[1, 0], J[1, 1] = 1.71, -8.75
    J[2, 2], J[2, 3], J[2, 4] = -10.03, 0.43, 0.035
    J[3, 1], J[3, 2], J[3, 3] = 8.32, 1.71, -1.12
    J[4, 4], J[4, 5], J[4, 6] = -1.745, 0.43, 0.43
    J[5, 3], J[5, 4], J[5, 5], J[5, 6], J[5, 7] = 0.69, 1.71, -0.43 - 280 * y[7], 0.69, -280 * y[5]
    J[6, 5], J[6, 6], J[6, 7] = 280 * y[7], -1.81, 280 * y[5]
    J[7, 5], J[7, 6], J[7, 7] = -280 * y[7], 1.81, -280 * y[5]
    return J


PROBLEMS = {
    "robertson": dict(
        fun=rober, jac=rober_jac, y0=[1.0, 0.0, 0.0], t_span=(0.0, 1e5), rtol=1e-6, atol=[1e-8, 1e-14, 1e-6],
        tight=dict(rtol=1e-13, atol=[1e-16, 1e-22, 1e-16]),
    ),
    "vdp1000": dict(
        fun=vdp, jac=vdp_jac, y0=[2.0, 0.0], t_span=(0.0, 3000.0), rtol=1e-6, atol=1e-6,
        tight=dict(rtol=1e-10, atol=1e-10),
    ),
    "hires": dict(
        fun=hires, jac=hires_jac, y0=[1.0, 0, 0, 0, 0, 0, 0, 0.0057], t_span=(0.0, 321.8122), rtol=1e-6, atol=1e-9,
        tight=dict(rtol=1e-13, atol=1e-16),
    ),
}

out = dict(scipy=scipy.__version__, numpy=np.__version__, problems={})
for name, p in PROBLEMS.items():
    t0 = time.perf_counter()
    ref = solve_ivp(p["fun"], p["t_span"], p["y0"], method="Radau", jac=p["jac"], **p["tight"])
    assert ref.status == 0, ref.message
    entry = dict(
        y0=p["y0"], t_span=list(p["t_span"]), rtol=p["rtol"], atol=p["atol"],
        reference=dict(method="Radau", **p["tight"], y_end=ref.y[:, -1].tolist(), steps=len(ref.t) - 1,
                       seconds=time.perf_counter() - t0),
        methods={},
    )
    for method in ("Radau", "BDF", "LSODA"):
        t0 = time.perf_counter()
        sol = solve_ivp(p["fun"], p["t_span"], p["y0"], method=method, rtol=p["rtol"], atol=p["atol"])
        wall = time.perf_counter() - t0
        assert sol.status == 0, sol.message
        err = np.abs(sol.y[:, -1] - ref.y[:, -1])
        entry["methods"][method] = dict(
            nfev=int(sol.nfev), njev=int(sol.njev), nlu=int(sol.nlu), steps=int(len(sol.t) - 1),
            seconds=wall, end_error=float(np.max(err)), y_end=sol.y[:, -1].tolist(),
        )
    out["problems"][name] = entry
    print(name, json.dumps(entry["methods"]), flush=True)

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "scipy_stiff.json"), "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
