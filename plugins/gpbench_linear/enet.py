"""Elastic net with a glmnet-class path (lasso keeps :class:`.models.ElasticNetCV` unchanged).

What differs from lasso's :class:`~.models.ElasticNetCV` (see ``docs/notes/elasticnet-path.md``):

* the grid ends at glmnet's ``lambda.min.ratio`` (:func:`.path.glmnet_eps`: 0.01 when the
  inner-CV paths have fewer rows than markers, 1e-4 otherwise) unless ``eps`` is given;
* every path is a :class:`.path.GlmnetPath`: compiled coordinate descent with glmnet's
  convergence threshold ``thresh``, and glmnet's early exit (deviance explained above
  ``devmax`` or grown by less than ``fdev``): a path that exits keeps its last solution, as
  cv.glmnet predicts with the smallest fitted penalty, and the walk along the grid stops once
  every inner path has exited (or the CV error has not improved for ``patience`` steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .models import ElasticNetCV, _center
from .path import GlmnetPath, alpha_grid, glmnet_eps, walk_cv


class ElasticNetPathCV(ElasticNetCV):
    """Elastic net; the penalty is chosen by K-fold CV inside the training data (glmnet path).

    Saved and loaded as :class:`~.models.ElasticNetCV` (the same arrays: marker means,
    phenotype mean, coefficients).
    """

    def __init__(self, options: dict[str, Any], context: Any) -> None:
        super().__init__(options, context)
        # load numba and the compiled kernels (cached on disk) when the model is built, so that
        # a worker's first fit does not pay the one-time import
        from . import _cd  # noqa: F401

    def _path(self, X: np.ndarray, y: np.ndarray) -> GlmnetPath:
        return GlmnetPath(X, y, float(self.o["l1_ratio"]), float(self.o["thresh"]),
                          float(self.o["fdev"]), float(self.o["devmax"]))

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> ElasticNetPathCV:
        y = np.asarray(Y, dtype=np.float64)[:, 0]
        l1 = float(self.o["l1_ratio"])
        Xc, yc, self.ym, self.xm = _center(X, y)
        folds = self._folds(len(y))
        eps = self.o["eps"]
        if eps is None:  # glmnet's rule, on the rows the penalty is chosen on
            eps = glmnet_eps(min(int((~test).sum()) for test in folds), X.shape[1])
        alphas = alpha_grid(Xc, yc, l1, int(self.o["n_alphas"]), float(eps))
        paths, vals = [], []
        for test in folds:
            Xa, ya, yma, xma = _center(X[~test], y[~test])
            paths.append(self._path(Xa, ya))
            vals.append(((np.asarray(X[test], np.float64) - xma), y[test] - yma))
        last: list[np.ndarray] = [np.zeros(X.shape[1]) for _ in paths]

        def advance(k: int, a: float) -> np.ndarray:  # a finished path keeps its last solution
            if not paths[k].done:
                last[k] = paths[k].step(a)
            return last[k]

        errors, best = walk_cv(advance, len(paths), vals, alphas, int(self.o["patience"]),
                               self.ctx.n_threads, lambda: all(p.done for p in paths))
        final = self._path(Xc, yc)
        for a in alphas[: best + 1]:
            if final.done:
                break
            self.coef = final.step(a)
        self.fit_info = {"alpha": float(alphas[best]), "alpha_index": best,
                         "n_alphas_walked": len(errors), "n_nonzero": int(np.sum(self.coef != 0)),
                         "eps": float(eps), "cv_mse": errors}
        return self
