"""Reference work counts and end errors of SciPy's solve_ivp(method='RK45') for the acceptance tests of
libs/ode (issue 3). Run: python3 bench/reference/scipy_rk45.py  -> writes bench/reference/scipy_rk45.json
"""
import json
import math
import os

import numpy as np
import scipy
from scipy.integrate import solve_ivp

PROBLEMS = {
    # y' = -y, y(0) = 1 on [0, 10]; exact y = exp(-t)
    "exponential_decay": dict(
        fun=lambda t, y: -y, y0=[1.0], t_span=(0.0, 10.0), exact=lambda t: np.array([math.exp(-t)])
    ),
    # x'' = -x as y = (x, v), y(0) = (1, 0) on [0, 20 pi]; exact (cos t, -sin t)
    "harmonic_oscillator": dict(
        fun=lambda t, y: np.array([y[1], -y[0]]),
        y0=[1.0, 0.0],
        t_span=(0.0, 20 * math.pi),
        exact=lambda t: np.array([math.cos(t), -math.sin(t)]),
    ),
}

results = []
for name, p in PROBLEMS.items():
    for rtol in (1e-3, 1e-6, 1e-9):
        atol = rtol * 1e-3
        sol = solve_ivp(p["fun"], p["t_span"], p["y0"], method="RK45", rtol=rtol, atol=atol)
        err = float(np.max(np.abs(sol.y[:, -1] - p["exact"](sol.t[-1]))))
        results.append(
            dict(
                problem=name,
                rtol=rtol,
                atol=atol,
                nfev=int(sol.nfev),
                steps=int(len(sol.t) - 1),
                end_error=err,
                status=int(sol.status),
            )
        )

out = dict(scipy_version=scipy.__version__, numpy_version=np.__version__, method="RK45", results=results)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scipy_rk45.json")
with open(path, "w") as fh:
    json.dump(out, fh, indent=2)
    fh.write("\n")
print(json.dumps(out, indent=2))
