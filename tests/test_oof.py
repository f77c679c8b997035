"""Out-of-fold predictions from one fit (``fit_oof``): exact for GBLUP / ridge at the fitted
penalty, lasso's own inner CV at its chosen penalty, and the same final model as ``fit``."""

from __future__ import annotations

import numpy as np
import pytest

from gpbench import ModelContext, OutOfFoldModel
from gpbench_linear import _ENET_OPTIONS
from gpbench_linear.kernel import fit_kernel
from gpbench_linear.models import ElasticNetCV, KernelRidge
from gpbench_linear.path import ScreenedPath, alpha_grid


def _data(n: int = 90, p: int = 150, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n, p)).astype(np.float64)
    y = X[:, :8] @ rng.normal(0, 1, 8) + rng.normal(0, 2, n)
    return X, y


def _deal(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Inner folds dealt as the stack and lasso deal them."""
    fold = np.empty(n, dtype=int)
    fold[np.random.default_rng(seed).permutation(n)] = np.arange(n) % k
    return fold


@pytest.mark.parametrize("method", ["reml", "loo"])
@pytest.mark.parametrize("k", [2, 5])
def test_kernel_ridge_oof_equals_refits_at_the_fitted_penalty(method, k):
    X, y = _data()
    fold = _deal(len(y), k)
    model = KernelRidge({}, ModelContext(), method)
    oof = model.fit_oof(X, y[:, None], fold)[:, 0]
    lam = model.delta * model.k_scale  # the penalty on marker effects
    for f in range(k):
        b = fold == f
        Xt, yt = X[~b], y[~b]
        Xc = Xt - Xt.mean(0)
        beta = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ (yt - yt.mean()))
        np.testing.assert_allclose(oof[b], (X[b] - Xt.mean(0)) @ beta + yt.mean(), atol=1e-9)


def test_kernel_oof_without_genetic_variance_is_the_other_folds_mean():
    y = np.arange(12.0)
    fold = _deal(12, 3)
    oof = fit_kernel(np.ones((12, 12)), y, "reml", fold).oof
    for f in range(3):
        np.testing.assert_allclose(oof[fold == f], y[fold != f].mean())


@pytest.mark.parametrize("name", ["gblup", "ridge", "lasso"])
def test_fit_oof_leaves_the_model_fit_would(name):
    X, y = _data()
    opts = {**_ENET_OPTIONS, "l1_ratio": 1.0}

    def build():
        if name == "lasso":
            return ElasticNetCV(opts, ModelContext(seed=3))
        return KernelRidge({}, ModelContext(), "reml" if name == "gblup" else "loo")

    a, b = build(), build()
    assert isinstance(a, OutOfFoldModel)
    a.fit(X, y[:, None])
    oof = b.fit_oof(X, y[:, None], _deal(len(y), 5, seed=3))
    assert oof.shape == (len(y), 1) and np.all(np.isfinite(oof))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_lasso_oof_is_its_inner_cv_at_the_penalty_the_other_folds_choose():
    X, y = _data()
    opts = {**_ENET_OPTIONS, "l1_ratio": 1.0}
    k = 4
    fold = _deal(len(y), k)
    model = ElasticNetCV(opts, ModelContext(seed=0))
    oof = model.fit_oof(X, y[:, None], fold)[:, 0]
    alphas = alpha_grid(X - X.mean(0), y - y.mean(), 1.0, opts["n_alphas"], opts["eps"])
    alphas = alphas[: model.fit_info["n_alphas_walked"]]
    # every fold's path on the other folds, its held-out predictions at every penalty walked
    preds = []
    for f in range(k):
        b = fold == f
        xm, ym = X[~b].mean(0), y[~b].mean()
        path = ScreenedPath(np.asfortranarray(X[~b] - xm), y[~b] - ym, 1.0, opts["tol"])
        preds.append(np.array([(X[b] - xm) @ path.step(a) + ym for a in alphas]))
    err = np.array([np.mean((p - y[fold == f]) ** 2, axis=1) for f, p in enumerate(preds)])
    assert np.allclose(err.mean(0), model.fit_info["cv_mse"])
    chosen = []
    for f in range(k):
        i = int(np.argmin(np.delete(err, f, axis=0).mean(0)))  # fold f's own error not used
        chosen.append(i)
        np.testing.assert_allclose(oof[fold == f], preds[f][i], atol=1e-10)
    assert 0 < min(chosen) and max(chosen) < len(alphas) - 1  # inside the grid walked
