"""One outer fold of every registered model on yeast and on soynam, timed against the committed
baseline (``baseline.json``): ratios, not seconds.

    tox -e bench -- benchmarks/test_bench_fold.py                 # ratios against baseline.json
    tox -e bench -- benchmarks/test_bench_fold.py -k "yeast and gblup" --write-baseline

Fold 0 of the 5-fold plan with seed 0, one thread, default options except ``BENCH_OPTIONS``
(samplers, forests, boosting rounds and the transformers cut so that no unit takes minutes;
a ratio compares like with like, so the cut does not bias it). Development traits (yeast YPD,
soynam protein; the second trait for multi-trait models): timing only, nothing is chosen here.
Each unit's CPU seconds of fit and predict go to ``benchmark.extra_info`` and to the ratio
table printed at the end of the session (``conftest.py``).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from measure import fold_rows

from gpbench.api.types import ModelContext
from gpbench.plugins import load_registry
from gpbench.running.fitting import fit_predict
from gpbench.running.threads import limit_threads

REGISTRY = load_registry()
MODELS = REGISTRY.names("model")
DATASETS = {"yeast": ("YPD", "Caffeine"), "soynam": ("protein", "oil")}
# 1500 / 500 by default (bayesc 3000 / 1000); time is linear in n_iter
SAMPLER = {"n_iter": 600, "burn_in": 200}
BENCH_OPTIONS: dict[str, dict] = {
    **{m: SAMPLER for m in ("brr", "bayesa", "bayesb", "bayesc", "bl")},
    "rf": {"n_estimators": 100},  # 500 by default
    "gbm": {"num_boost_round": 300},  # 3000 by default, early stopping
    "xgboost": {"num_boost_round": 300},  # 2000 by default, early stopping
    "transformer": {"max_epochs": 2},
    "transformer-mt": {"max_epochs": 2},
    "stack": {"base": "gblup,lasso", "inner_folds": 3},  # gblup,lasso,gbm,bayesb x 5 by default
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_fold_time(benchmark, bench_data, fold_times, dataset, model):
    data = bench_data(dataset)
    spec = REGISTRY.model(model)
    traits = list(DATASETS[dataset][: 2 if spec.multi_trait else 1])
    Y = data.traits[traits].to_numpy(np.float64)
    fit_rows, valid_rows, predict_rows = fold_rows(data, Y, spec)
    limit_threads(1)
    ctx = ModelContext(seed=0, markers=data.markers, n_threads=1, device="cpu",
                       get_model=REGISTRY.model)
    options = BENCH_OPTIONS.get(model, {})
    cpu: dict[str, float] = {}

    def once():
        t0 = time.process_time()
        out = fit_predict(spec, options, ctx, data.genotypes, Y, fit_rows, valid_rows,
                          predict_rows, model)
        cpu["s"] = time.process_time() - t0
        return out

    pred, _, timing = benchmark.pedantic(once, rounds=1, iterations=1)
    assert np.isfinite(pred).all()
    fold_times[f"{dataset}/{model}"] = {"cpu_s": cpu["s"], "options": options}
    benchmark.extra_info.update({"cpu_s": round(cpu["s"], 2), "options": options,
                                 **{k: round(v, 2) for k, v in timing.items()}})
