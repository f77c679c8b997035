"""Support vector regression (scikit-learn ``SVR``) with a Gaussian (RBF) kernel.

Defaults for n << p genotype data, all set from the training data passed to ``fit`` (chosen on
YPD, Caffeine and Maltose, never on Lactate or Lactose; figures in ``docs/notes/zoo-defaults.md``):

* **Kernel**: ``exp(-gamma * d2)`` with ``gamma = gamma_scale / median d2`` (the median heuristic:
  ``d2`` are squared distances between training rows; with ~10^4 markers a fixed ``gamma`` such
  as scikit-learn's ``"scale"`` would be off by orders of magnitude between datasets).
  ``gamma_scale=0.2`` is the RKHS kernel with bandwidth ``h=5``, the one REML prefers on yeast
  traits; ``gamma_scale=1`` was 0.02 R^2 worse on average. The kernel matrix is computed once
  with BLAS and passed as ``kernel="precomputed"`` (the same RBF kernel libsvm would compute, but
  libsvm evaluates each row with a scalar loop over all markers, which is many times slower).
* **Target**: y is standardised by its training mean and sd, so ``C`` and ``epsilon`` are in units
  of the phenotypic sd for every trait; predictions are scaled back.
* ``C=10``: Cherkassky & Ma (2004) suggest ``C = max(|mean(y) +/- 3 sd(y)|)``, i.e. 3 for
  standardised y; with the smoother kernel 10 was better on the two high-heritability traits
  (+0.06 R^2) and worse on the low-heritability one (-0.02), 3 being the safer choice for noisy
  traits (``--tune`` searches 0.1-100). ``epsilon=0.1``: a small insensitive zone (a tenth of an
  sd), so nearly every training row is a support vector, which suits noisy phenotypes with n in
  the hundreds.

The kernel computation uses the BLAS threads; libsvm itself is single-threaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.svm import SVR

from gpbench import ModelContext

from .kernels import CentredRows

DEFAULTS: dict[str, Any] = {"C": 10.0, "epsilon": 0.1, "gamma_scale": 0.2, "tol": 1e-3}


class SupportVectorRegression:
    """RBF support vector regression; see the module docstring."""

    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.o = {**DEFAULTS, **options}
        self.fit_info: dict[str, Any] = {}

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> SupportVectorRegression:
        y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        self.rows = CentredRows(X)
        D2, median = self.rows.train_sq_dist()
        self.gamma = float(self.o["gamma_scale"]) / median
        self.y_mean, self.y_sd = float(y.mean()), float(y.std()) or 1.0
        self.svr = SVR(kernel="precomputed", C=float(self.o["C"]),
                       epsilon=float(self.o["epsilon"]), tol=float(self.o["tol"]),
                       cache_size=500)
        self.svr.fit(np.exp(-self.gamma * D2), (y - self.y_mean) / self.y_sd)
        self.fit_info = {"gamma": self.gamma, "median_d2": median,
                         "n_support": int(len(self.svr.support_)), "n_train": int(len(y))}
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        K = np.exp(-self.gamma * self.rows.sq_dist_to(X))
        return (self.svr.predict(K) * self.y_sd + self.y_mean)[:, None]
