"""One outer fold of each model with default settings (Lactate, fold 0 of seed 0).

This measures time and memory only; the defaults were not chosen on these folds.
"""

from __future__ import annotations

import numpy as np
import pytest

from gpbench.fitting import fit_predict
from gpbench.plugins import load_registry
from gpbench.protocol import inner_validation_mask, make_folds
from gpbench.types import ModelContext

REGISTRY = load_registry()
MODELS = [m for m in ("lasso", "elasticnet", "ridge", "gblup", "gbm", "transformer",
                      "transformer-mt") if m in REGISTRY.names("model")]


@pytest.mark.parametrize("model", MODELS)
def test_one_fold(benchmark, yeast, peak_memory, model):
    spec = REGISTRY.model(model)
    traits = ["Lactate", "Lactose"] if spec.multi_trait else ["Lactate"]
    Y = yeast.traits[traits].to_numpy()
    folds = make_folds(yeast.sample_ids, 5, seed=0)
    test = folds.test_mask(0, 0)
    train = ~test
    measured = ~np.isnan(Y).all(1) if spec.multi_trait else ~np.isnan(Y[:, 0])
    ids = np.asarray(yeast.sample_ids)
    inner = np.zeros(len(ids), bool)
    inner[train] = inner_validation_mask(ids[train], 0, 0, 0)
    fit_rows = train & measured & (~inner if spec.uses_validation else True)
    valid_rows = (train & measured & inner) if spec.uses_validation else None
    ctx = ModelContext(seed=0, markers=yeast.markers, n_threads=2, device="cpu")

    def once():
        return fit_predict(spec, {}, ctx, yeast.genotypes, Y, fit_rows, valid_rows, test, model)

    with peak_memory() as mem:
        pred, info, timing = benchmark.pedantic(once, rounds=1, iterations=1)
    y = Y[test, 0]
    m = ~np.isnan(y)
    r2 = 1 - np.sum((y[m] - pred[m, 0]) ** 2) / np.sum((y[m] - y[m].mean()) ** 2)
    benchmark.extra_info.update({"peak_traced_mib": round(mem.mib, 1),
                                 "max_rss_mib": round(mem.max_rss_mib, 1),
                                 "fit_s": round(timing["fit_s"], 2), "r2_fold0": round(r2, 4)})
    for key in ("epoch_time_s", "epochs_run", "best_epoch", "best_iteration"):
        if key in info:
            benchmark.extra_info[key] = info[key]
