"""One fit of each Bayesian-alphabet model on all yeast strains (YPD, 11,623 markers, 3,000
iterations, the default burn-in and thinning).

Issue 12 asks for one BayesB fit under 60 s on the 2-core machine; the sampler is single-threaded,
so the check is on the process CPU time, which other jobs on a shared machine do not inflate.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import gpbench_bayes
from gpbench.api.types import ModelContext
from gpbench.plugins import load_registry

REGISTRY = load_registry([("bayes", gpbench_bayes)], load_entrypoints=False)
LIMIT_S = {"bayesb": 60.0}


@pytest.mark.parametrize("model", ["brr", "bayesa", "bayesb", "bayesc", "bl"])
def test_one_fit_3000_iterations(benchmark, yeast, model):
    y = yeast.traits["YPD"].to_numpy()
    rows = ~np.isnan(y)
    X, Y = yeast.genotypes[rows], y[rows, None]
    spec = REGISTRY.model(model)
    ctx = ModelContext(seed=0, n_threads=2, device="cpu")
    spec.build({"n_iter": 20, "burn_in": 10}, ctx).fit(X[:50], Y[:50])  # load the compiled code

    cpu = {}

    def once():
        t0 = time.process_time()
        m = spec.build({"n_iter": 3000, "burn_in": 1000}, ctx).fit(X, Y)  # the v1 chain
        cpu["s"] = time.process_time() - t0
        return m

    fitted = benchmark.pedantic(once, rounds=1, iterations=1)
    benchmark.extra_info.update({"n": int(rows.sum()), "p": X.shape[1], "n_iter": 3000,
                                 "cpu_s": round(cpu["s"], 1),
                                 **{k: v for k, v in fitted.fit_info.items()
                                    if k in ("prob_in", "lambda", "n_samples")}})
    # the fit is a fit: 400 posterior samples (iterations 1,005-3,000, every 5th) and
    # in-sample predictions that follow the phenotype
    assert fitted.fit_info["n_samples"] == 400
    assert np.corrcoef(fitted.predict(X)[:, 0], Y[:, 0])[0, 1] > 0.5
    if model in LIMIT_S:
        assert cpu["s"] < LIMIT_S[model]
