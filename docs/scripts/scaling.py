"""How fit time grows with markers and strains, per model, on the simulated cross.

    python docs/scripts/scaling.py > docs/notes/scaling.md

Base size: 250 strains x 2,000 markers; markers and strains are each scaled 1x, 2x, 4x. Each
cell is one fit on 80% of the strains (validation models get 20% of that as inner validation),
2 threads. The transformer is capped at 15 epochs and reported per epoch.
"""

from __future__ import annotations

import time

import numpy as np

from gpbench.api.types import ModelContext
from gpbench.plugins import load_registry
from gpbench_sim import simulate

BASE_N, BASE_P = 250, 2000
MODELS = ["lasso", "elasticnet", "ridge", "gblup", "gbm", "transformer"]
CAPPED = {"transformer": {"max_epochs": 15, "patience": 1000}}


def fit_time(spec, n: int, p: int) -> tuple[float, str]:
    ds = simulate(n_strains=n, n_markers=p, seed=1)
    y = ds.traits["trait1"].to_numpy()
    m = ~np.isnan(y)
    X, Y = ds.genotypes[m], y[m, None]
    cut = int(0.8 * len(Y))
    valid = None
    fit_X, fit_Y = X[:cut], Y[:cut]
    if spec.uses_validation:
        v = int(0.8 * cut)
        valid = (X[v:cut], Y[v:cut])
        fit_X, fit_Y = X[:v], Y[:v]
    opts = {k: v for k, v in CAPPED.get(spec.name, {}).items() if k in spec.options}
    model = spec.build(opts, ModelContext(seed=0, markers=ds.markers, n_threads=2,
                                          device="cpu"))
    t0 = time.perf_counter()
    model.fit(fit_X, fit_Y, valid=valid)
    elapsed = time.perf_counter() - t0
    info = getattr(model, "fit_info", {}) or {}
    if "epoch_time_s" in info:
        return info["epoch_time_s"], "s/epoch"
    return elapsed, "s"


def main() -> None:
    reg = load_registry()
    sizes = [(BASE_N, BASE_P * f) for f in (1, 2, 4)] + [(BASE_N * f, BASE_P) for f in (2, 4)]
    print("| model | unit | " + " | ".join(f"{n} x {p}" for n, p in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for name in MODELS:
        if name not in reg.names("model"):
            continue
        cells, unit = [], "s"
        for n, p in sizes:
            t, unit = fit_time(reg.model(name), n, p)
            cells.append(f"{t:.2f}")
        print(f"| {name} | {unit} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
