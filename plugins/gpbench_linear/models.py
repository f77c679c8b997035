"""Linear baselines: lasso / elastic net (inner-CV penalty), ridge (LOO penalty), GBLUP (REML).

Every model standardises nothing it was not fitted on: marker means and the phenotype mean come
from the training data passed to ``fit``; penalties are chosen on that data alone.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gpbench import ModelContext, read_model_json, write_model_json

from .kernel import fit_kernel, fit_kernel_factor
from .path import ScreenedPath, alpha_grid, walk_cv

FORMAT = 1  # version of the saved form written by ``save`` below


def save_arrays(directory: Path, kind: str, meta: dict[str, Any], **arrays: np.ndarray) -> None:
    """Write ``arrays.npz`` (no pickled objects) and ``model.json`` (kind, format, meta)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / "arrays.npz", **{k: np.asarray(v) for k, v in arrays.items()})
    write_model_json(directory, kind, FORMAT, meta)


def load_arrays(directory: Path, kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read what ``save_arrays`` wrote, checking the kind and format; never unpickles."""
    directory = Path(directory)
    meta = read_model_json(directory, kind, FORMAT)
    with np.load(directory / "arrays.npz", allow_pickle=False) as z:
        return meta, {k: z[k] for k in z.files}


def _center(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    xm = X.mean(axis=0)
    ym = float(y.mean())
    return np.asfortranarray(X - xm), y - ym, ym, xm


class ElasticNetCV:
    """Elastic net / lasso; the penalty is chosen by K-fold CV inside the training data.

    The paths of all inner folds advance together along the penalty grid and stop once the mean
    inner-CV error has not improved for ``patience`` grid points (0 = walk the whole grid), so
    the slow, over-fitted end of the path is skipped. The final model walks the path on all
    training data down to the chosen penalty.
    """

    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.o = options
        self.ctx = context
        self.fit_info: dict[str, Any] = {}

    def _folds(self, n: int) -> list[np.ndarray]:
        rng = np.random.default_rng(self.ctx.seed)
        fold = np.empty(n, dtype=int)
        fold[rng.permutation(n)] = np.arange(n) % self.o["inner_folds"]
        return [fold == f for f in range(self.o["inner_folds"])]

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> ElasticNetCV:
        self._fit(X, Y, self._folds(len(X)), oof=False)
        return self

    def fit_oof(self, X: np.ndarray, Y: np.ndarray, fold: np.ndarray) -> np.ndarray:
        """Fit with ``fold``'s folds as the inner CV (the same as ``fit`` when they are the
        model's own: ``inner_folds`` folds dealt by ``context.seed``, as the stack deals its
        folds) and return each fold's inner-CV predictions at the penalty that the *other*
        folds' inner-CV errors choose. (At the penalty chosen on all folds, a fold's predictions
        would be optimistic: that penalty minimises their own error.) The penalty grid comes
        from all rows."""
        fold = np.asarray(fold)
        return self._fit(X, Y, [fold == f for f in np.unique(fold)], oof=True)[:, None]

    def _fit(self, X: np.ndarray, Y: np.ndarray, folds: list[np.ndarray],
             oof: bool) -> np.ndarray:
        """Fit with ``folds`` as the inner CV; the inner folds' predictions at the chosen
        penalty when ``oof`` (else an empty array)."""
        y = np.asarray(Y, dtype=np.float64)[:, 0]
        l1 = float(self.o["l1_ratio"])
        Xc, yc, self.ym, self.xm = _center(X, y)
        alphas = alpha_grid(Xc, yc, l1, int(self.o["n_alphas"]), float(self.o["eps"]))
        paths, vals = [], []
        for test in folds:
            Xa, ya, yma, xma = _center(X[~test], y[~test])
            paths.append(ScreenedPath(Xa, ya, l1, self.o["tol"]))
            vals.append(((np.asarray(X[test], np.float64) - xma), y[test] - yma))
        held: dict[tuple[int, float], np.ndarray] = {}  # (fold, alpha): its held-out residual fit

        def step(k: int, a: float) -> np.ndarray:
            w = paths[k].step(a)
            if oof:
                held[k, a] = vals[k][0] @ w
            return w

        errors, best = walk_cv(step, len(paths), vals, alphas, int(self.o["patience"]),
                               self.ctx.n_threads)
        pred = np.empty(len(y) if oof else 0)
        if oof:
            walked = alphas[: len(errors)]
            # err[k, i]: fold k's held-out MSE at penalty i (vals[k][1] is y_test - fold mean)
            err = np.array([[np.mean((vals[k][1] - held[k, a]) ** 2) for a in walked]
                            for k in range(len(folds))])
            for k, test in enumerate(folds):
                others = np.delete(err, k, axis=0).mean(axis=0)
                a = walked[int(np.argmin(others))]
                pred[test] = y[test] - (vals[k][1] - held[k, a])
        final = ScreenedPath(Xc, yc, l1, self.o["tol"])
        for a in alphas[: best + 1]:
            self.coef = final.step(a)
        self.fit_info = {"alpha": float(alphas[best]), "alpha_index": best,
                         "n_alphas_walked": len(errors), "n_nonzero": int(np.sum(self.coef != 0)),
                         "cv_mse": errors}
        return pred

    def predict(self, X: np.ndarray) -> np.ndarray:
        return ((np.asarray(X, np.float64) - self.xm) @ self.coef + self.ym)[:, None]

    def save(self, directory: Path) -> None:
        save_arrays(directory, "elasticnet", {"ym": self.ym, "options": self.o},
                    xm=self.xm, coef=self.coef)

    @classmethod
    def load(cls, directory: Path, context: ModelContext) -> ElasticNetCV:
        meta, a = load_arrays(directory, "elasticnet")
        model = cls(meta["options"], context)
        model.ym, model.xm, model.coef = float(meta["ym"]), a["xm"], a["coef"]
        return model


# above this many rows per marker, GBLUP and ridge decompose the p x p cross-product instead of
# the n x n kernel (same fit to ~1e-10; at n = 3,200, p = 2,000 the two cost about the same)
FACTOR_RATIO = 1.5


class KernelRidge:
    """Ridge regression / GBLUP through the n x n genomic relationship matrix.

    ``K = Xc Xc' / c`` with marker-centred genotypes, scaled to mean diagonal 1 (VanRaden). With its
    eigen-decomposition, every penalty costs O(n^2): ``method="loo"`` picks the ridge penalty
    minimising exact leave-one-out error (ridge); ``method="reml"`` estimates the variance ratio
    ``delta = s2_e / s2_g`` by REML (GBLUP / rrBLUP). Both through :func:`.kernel.fit_kernel`,
    or :func:`.kernel.fit_kernel_factor` when rows outnumber markers ``FACTOR_RATIO`` to one.
    """

    def __init__(self, options: dict[str, Any], context: ModelContext, method: str) -> None:
        self.o, self.method = options, method
        self.fit_info: dict[str, Any] = {}

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> KernelRidge:
        self._fit(X, Y, None)
        return self

    def fit_oof(self, X: np.ndarray, Y: np.ndarray, fold: np.ndarray) -> np.ndarray:
        """Fit on all rows and return exact k-fold out-of-fold predictions for ``fold`` at the
        fitted penalty (``delta`` by REML or LOO on all rows, then held fixed: the marker-scale
        ridge penalty ``delta * k_scale``), from the same eigen-decomposition."""
        return self._fit(X, Y, np.asarray(fold))[:, None]

    def _fit(self, X: np.ndarray, Y: np.ndarray, fold: np.ndarray | None) -> np.ndarray | None:
        y = np.asarray(Y, dtype=np.float64)[:, 0]
        Xc, _, _, self.xm = _center(X, y)
        n, p = Xc.shape
        if n > FACTOR_RATIO * p:  # many more rows than markers: decompose Xc'Xc, not K
            # scale K to mean diagonal 1, so delta = s2_e / s2_g and h2 = 1 / (1 + delta)
            self.k_scale = float(np.einsum("ij,ij->", Xc, Xc) / n) or 1.0
            kfit = fit_kernel_factor(Xc / np.sqrt(self.k_scale), y, self.method, fold)
        else:
            K = Xc @ Xc.T
            self.k_scale = float(np.trace(K) / n) or 1.0
            K /= self.k_scale
            kfit = fit_kernel(K, y, self.method, fold)
        # marker effects: K(new) alpha = (Xn - xm) (Xc' alpha) / c, so predict needs no
        # training rows (and a saved model holds p numbers, not the training matrix)
        self.beta = Xc.T @ kfit.alpha / self.k_scale
        self.ym = kfit.intercept
        self.delta = kfit.delta
        self.fit_info = {"delta": self.delta, "method": self.method, "h2_estimate": kfit.h2}
        return kfit.oof

    def predict(self, X: np.ndarray) -> np.ndarray:
        return ((np.asarray(X, np.float64) - self.xm) @ self.beta + self.ym)[:, None]

    def save(self, directory: Path) -> None:
        save_arrays(directory, "kernel-ridge", {"method": self.method, "ym": self.ym,
                                                "delta": self.delta, "k_scale": self.k_scale,
                                                "options": self.o},
                    xm=self.xm, beta=self.beta)

    @classmethod
    def load(cls, directory: Path, context: ModelContext, method: str) -> KernelRidge:
        meta, a = load_arrays(directory, "kernel-ridge")
        if meta["method"] != method:
            raise ValueError(f"{directory} holds a kernel model fitted by {meta['method']!r}, "
                             f"not {method!r}")
        model = cls(meta["options"], context, method)
        model.ym, model.delta, model.k_scale = (float(meta[k]) for k in ("ym", "delta",
                                                                         "k_scale"))
        model.xm, model.beta = a["xm"], a["beta"]
        return model


class TrainingMean:
    """The null model: predicts the training mean of each trait (R² ≈ 0 by construction).

    A floor for the leaderboard and a cheap test double for the harness.
    """

    def __init__(self, options: dict[str, Any], context: ModelContext) -> None:
        self.fit_info: dict[str, Any] = {}

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> TrainingMean:
        Y = np.asarray(Y, np.float64)
        measured = (~np.isnan(Y)).any(axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "mean of empty slice"
            self.mean = np.nanmean(Y, axis=0)
        # The model predicts 0 on each trait's centred scale, i.e. the trait's training mean. A
        # trait with no training measurement has no mean: its centre is taken as 0 (as the
        # multi-trait transformer's nan_to_num(nanmean) does), so it is predicted as 0, not NaN
        self.mean[~measured] = 0.0
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.tile(self.mean, (len(X), 1))

    def save(self, directory: Path) -> None:
        save_arrays(directory, "mean", {}, mean=self.mean)

    @classmethod
    def load(cls, directory: Path, context: ModelContext) -> TrainingMean:
        _, a = load_arrays(directory, "mean")
        model = cls({}, context)
        model.mean = a["mean"]
        return model
