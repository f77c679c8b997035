"""One fit of each gpbench_zoo model on one outer training fold of yeast (YPD, fold 0 of
seed 0, 2 threads): time and memory. YPD is a development trait, not a headline one."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from gpbench.plugins import load_registry
from gpbench.protocol import inner_validation_mask, make_folds
from gpbench.runner import fit_predict
from gpbench.types import ModelContext

PLUGINS = ("gpbench_linear", "gpbench_gbm", "gpbench_metrics", "gpbench_zoo")
REGISTRY = load_registry([(p, importlib.import_module(p)) for p in PLUGINS],
                         load_entrypoints=False)
MODELS = ["rkhs", "svr", "rf", "xgboost", "stack"]


@pytest.mark.parametrize("model", MODELS)
def test_zoo_one_fold(benchmark, yeast, peak_memory, model):
    spec = REGISTRY.model(model)
    Y = yeast.traits[["YPD"]].to_numpy()
    test = make_folds(yeast.sample_ids, 5, seed=0).test_mask(0, 0)
    train = ~test
    measured = ~np.isnan(Y[:, 0])
    ids = np.asarray(yeast.sample_ids)
    inner = np.zeros(len(ids), bool)
    inner[train] = inner_validation_mask(ids[train], 0, 0, 0)
    fit_rows = train & measured & (~inner if spec.uses_validation else True)
    valid_rows = (train & measured & inner) if spec.uses_validation else None
    ctx = ModelContext(seed=0, markers=yeast.markers, n_threads=2, device="cpu",
                       get_model=REGISTRY.model)

    def once():
        return fit_predict(spec, {}, ctx, yeast.genotypes, Y, fit_rows, valid_rows,
                           test & measured, model)

    with peak_memory() as mem:
        pred, info, timing = benchmark.pedantic(once, rounds=1, iterations=1)
    y = Y[test & measured, 0]
    r2 = 1 - np.sum((y - pred[:, 0]) ** 2) / np.sum((y - y.mean()) ** 2)
    benchmark.extra_info.update({"peak_traced_mib": round(mem.mib, 1),
                                 "max_rss_mib": round(mem.max_rss_mib, 1),
                                 "fit_s": round(timing["fit_s"], 2), "r2_ypd_fold0": round(r2, 4)})
    for key in ("weights", "best_iteration", "n_support", "delta"):
        if key in info:
            benchmark.extra_info[key] = info[key]
