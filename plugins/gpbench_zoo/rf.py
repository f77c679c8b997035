"""Random forest (scikit-learn ``RandomForestRegressor``) for single-trait genomic prediction.

Defaults for n << p genotype data (chosen on YPD, Caffeine and Maltose, never on Lactate or
Lactose; figures and commands in ``docs/notes/zoo-defaults.md``):

* ``n_estimators=500``: the error of a forest flattens out after a few hundred trees.
* ``max_features=0.03`` (a fraction of the markers tried at each split: ~350 of yeast's 11,623,
  about 3 x sqrt(p)). The regression default ``1/3`` (Breiman) costs ~3,900 candidate markers per
  split and a 500-tree fit takes minutes; ``sqrt(p)`` (~1%) is fast but lost 0.03-0.1 R^2 when a
  few QTL dominate, because most splits then never see one. 3% was as accurate as 10% at a third
  of the time.
* ``min_samples_leaf=5``: smoother leaves for noisy phenotypes; 1 was no better and twice as slow.
* ``n_jobs`` = ``context.n_threads``; ``random_state`` = ``context.seed`` (deterministic for a
  given seed and thread count).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from gpbench import ModelContext

DEFAULTS: dict[str, Any] = {"n_estimators": 500, "max_features": 0.03, "min_samples_leaf": 5,
                            "max_samples": 1.0}


class RandomForest:
    """Random forest regressor; see the module docstring."""

    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.o = {**DEFAULTS, **options}
        self.ctx = context
        self.fit_info: dict[str, Any] = {}

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> RandomForest:
        y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        max_samples = float(self.o["max_samples"])
        self.forest = RandomForestRegressor(
            n_estimators=int(self.o["n_estimators"]), max_features=self.o["max_features"],
            min_samples_leaf=int(self.o["min_samples_leaf"]),
            max_samples=None if max_samples >= 1.0 else max_samples,
            n_jobs=max(1, int(self.ctx.n_threads or 1)), random_state=int(self.ctx.seed))
        self.forest.fit(np.asarray(X, np.float32), y)
        self.fit_info = {"n_markers": int(X.shape[1]),
                         "max_features": self.forest.max_features,
                         "mean_depth": float(np.mean([e.get_depth()
                                                      for e in self.forest.estimators_]))}
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.forest.predict(np.asarray(X, np.float32))[:, None]
