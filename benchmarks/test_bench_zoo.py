"""One fit of each gpbench_zoo model on one outer training fold of yeast (YPD, fold 0 of
seed 0, 2 threads): time and memory. YPD is a development trait, not a headline one."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from measure import fit_one_outer_fold

from gpbench.plugins import load_registry

PLUGINS = ("gpbench_linear", "gpbench_gbm", "gpbench_metrics", "gpbench_zoo")
REGISTRY = load_registry([(p, importlib.import_module(p)) for p in PLUGINS],
                         load_entrypoints=False)
MODELS = ["rkhs", "svr", "rf", "xgboost", "stack"]


@pytest.mark.parametrize("model", MODELS)
def test_zoo_one_fold(benchmark, yeast, model):
    info, r2 = fit_one_outer_fold(benchmark, yeast, REGISTRY.model(model), ["YPD"], model,
                                  get_model=REGISTRY.model)
    assert np.isfinite(r2) and r2 > 0.1, r2  # the fit learned something on its test fold
    for key in ("weights", "best_iteration", "n_support", "delta"):
        if key in info:
            benchmark.extra_info[key] = info[key]
