"""One outer fold of each model with default settings (Lactate, fold 0 of seed 0).

This measures time and memory only; the defaults were not chosen on these folds.
"""

from __future__ import annotations

import numpy as np
import pytest
from measure import fit_one_outer_fold

from gpbench.plugins import load_registry

REGISTRY = load_registry()
MODELS = [m for m in ("lasso", "elasticnet", "ridge", "gblup", "gbm", "transformer",
                      "transformer-mt") if m in REGISTRY.names("model")]


@pytest.mark.parametrize("model", MODELS)
def test_one_fold(benchmark, yeast, model):
    spec = REGISTRY.model(model)
    traits = ["Lactate", "Lactose"] if spec.multi_trait else ["Lactate"]
    info, r2 = fit_one_outer_fold(benchmark, yeast, spec, traits, model)
    assert np.isfinite(r2) and r2 > 0.2, r2  # Lactate is ~0.5 for every model here
    for key in ("epoch_time_s", "epochs_run", "best_epoch", "best_iteration"):
        if key in info:
            benchmark.extra_info[key] = info[key]
