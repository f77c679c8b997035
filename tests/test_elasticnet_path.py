"""Elastic net's glmnet-class path (gpbench_linear.path.GlmnetPath, .enet.ElasticNetPathCV),
and that lasso's screened path kept its behaviour (properties; the bitwise check against the
committed records is in docs/notes/elasticnet-path.md)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, enet_path

from gpbench import ModelContext
from gpbench_linear import _ENET_OPTIONS, _GLMNET_OPTIONS
from gpbench_linear.enet import ElasticNetPathCV
from gpbench_linear.models import ElasticNetCV
from gpbench_linear.path import (
    GlmnetPath,
    _GramCache,
    _solve,
    alpha_grid,
    glmnet_eps,
)


def _sparse(n: int, p: int, k: int = 8, noise: float = 0.5, seed: int = 0):
    """Marker-like design (0/1/2), ``k`` true effects of size 1, centred."""
    rng = np.random.default_rng(seed)
    X = rng.binomial(2, rng.uniform(0.1, 0.9, p), size=(n, p)).astype(float)
    beta = np.zeros(p)
    support = rng.choice(p, k, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], k)
    y = X @ beta + noise * rng.standard_normal(n)
    return X, y, support


def _centre(X, y):
    return np.asfortranarray(X - X.mean(0)), y - y.mean()


def _opts(**kw):
    return {**_GLMNET_OPTIONS, "l1_ratio": 0.5, **kw}


@pytest.mark.parametrize("l1_ratio", [0.5, 0.2])
def test_glmnet_path_matches_sklearn_at_a_tight_threshold(l1_ratio):
    X, y, _ = _sparse(120, 300, seed=1)
    Xc, yc = _centre(X, y)
    alphas = alpha_grid(Xc, yc, l1_ratio, n_alphas=25, eps=1e-2)
    path = GlmnetPath(Xc, yc, l1_ratio, thresh=1e-14)
    coefs = [path.step(a) for a in alphas]
    for i in (6, 15, 24):
        ref = ElasticNet(alpha=alphas[i], l1_ratio=l1_ratio, fit_intercept=False, tol=1e-12,
                         max_iter=100_000).fit(Xc, yc).coef_
        assert np.allclose(coefs[i], ref, atol=1e-5 * np.abs(ref).max())


def test_grid_end_follows_glmnet_lambda_min_ratio():
    assert glmnet_eps(100, 200) == 0.01
    assert glmnet_eps(200, 100) == 1e-4
    assert glmnet_eps(100, 100) == 1e-4
    # in the model: decided on the rows of the inner-CV paths (4/5 of the training rows)
    X, y, _ = _sparse(100, 90, seed=2)  # 80 inner rows < 90 markers
    fit = ElasticNetPathCV(_opts(), ModelContext(seed=0)).fit(X, y[:, None]).fit_info
    assert fit["eps"] == 0.01
    X, y, _ = _sparse(150, 90, seed=2)  # 120 inner rows >= 90 markers
    fit = ElasticNetPathCV(_opts(), ModelContext(seed=0)).fit(X, y[:, None]).fit_info
    assert fit["eps"] == 1e-4
    fixed = ElasticNetPathCV(_opts(eps=1e-3), ModelContext(seed=0)).fit(X, y[:, None])
    assert fixed.fit_info["eps"] == 1e-3


def test_path_exits_when_deviance_explained_stops_growing():
    # few markers, many rows: once all carry effects, deviance explained barely moves
    X, y, _ = _sparse(300, 6, k=6, noise=0.3, seed=3)
    Xc, yc = _centre(X, y)
    alphas = alpha_grid(Xc, yc, 0.5, n_alphas=100, eps=1e-4)
    path = GlmnetPath(Xc, yc, 0.5)
    steps = 0
    for a in alphas:
        path.step(a)
        steps += 1
        if path.done:
            break
    assert 5 <= steps < 100 and path.done
    model = ElasticNetPathCV(_opts(patience=0), ModelContext(seed=0)).fit(X, y[:, None])
    assert model.fit_info["n_alphas_walked"] < 100


def test_path_exits_near_interpolation():
    # far fewer rows than markers and no noise: deviance explained passes devmax
    X, y, _ = _sparse(40, 400, k=30, noise=0.0, seed=4)
    Xc, yc = _centre(X, y)
    path = GlmnetPath(Xc, yc, 0.5)
    for a in alpha_grid(Xc, yc, 0.5, n_alphas=100, eps=1e-4):
        path.step(a)
        if path.done:
            break
    assert path.done and path.dev > 0.99


def test_elastic_net_recovers_a_sparse_signal():
    X, y, support = _sparse(300, 800, k=8, noise=0.5, seed=5)
    model = ElasticNetPathCV(_opts(), ModelContext(seed=1)).fit(X[:240], y[:240, None])
    pred = model.predict(X[240:])[:, 0]
    r2 = 1 - np.sum((y[240:] - pred) ** 2) / np.sum((y[240:] - y[240:].mean()) ** 2)
    assert r2 > 0.8
    top = np.argsort(-np.abs(model.coef))[:8]
    assert set(top) == set(support)
    assert model.fit_info["n_nonzero"] < 200


def test_elastic_net_saves_and_loads_as_before(tmp_path):
    X, y, _ = _sparse(120, 200, seed=6)
    model = ElasticNetPathCV(_opts(), ModelContext(seed=0)).fit(X, y[:, None])
    model.save(tmp_path / "m")
    for cls in (ElasticNetPathCV, ElasticNetCV):
        back = cls.load(tmp_path / "m", ModelContext())
        assert np.array_equal(back.predict(X), model.predict(X))


def test_elasticnet_and_lasso_registrations():
    from gpbench.plugins import load_registry

    reg = load_registry([], load_entrypoints=True)
    lasso, enet = reg.entry("model", "lasso").spec, reg.entry("model", "elasticnet").spec
    assert lasso.factory is ElasticNetCV  # lasso keeps the screened sklearn path
    assert lasso.options == {"n_alphas": 100, "eps": 1e-3, "inner_folds": 5, "patience": 10,
                             "tol": 1e-4, "l1_ratio": 1.0}
    assert _ENET_OPTIONS["eps"] == 1e-3 and _ENET_OPTIONS["tol"] == 1e-4
    assert enet.factory is ElasticNetPathCV and enet.options["eps"] is None


# ---- lasso's path: the two no-effect clean-ups keep every number


@pytest.mark.parametrize("use_gram", [False, True])
def test_solve_is_the_same_single_enet_path_call(use_gram):
    X, y, _ = _sparse(80, 60, seed=7)
    Xc, yc = _centre(X, y)
    alpha = alpha_grid(Xc, yc, 1.0, 10)[4]
    w0 = np.zeros(Xc.shape[1])
    gram = (Xc.T @ Xc, Xc.T @ yc) if use_gram else None
    got = _solve(Xc, yc, alpha, 1.0, w0, 1e-4, 5000, gram)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        kw = {"precompute": gram[0], "Xy": gram[1]} if use_gram else {"precompute": False}
        ref = enet_path(Xc, yc, l1_ratio=1.0, alphas=[alpha], coef_init=w0, check_input=False,
                        tol=1e-4, max_iter=5000, **kw)[1][:, 0]
    assert np.array_equal(got, ref)


def test_gram_cache_order_and_entries():
    rng = np.random.default_rng(8)
    X = np.asfortranarray(rng.standard_normal((30, 40)))
    y = rng.standard_normal(30)
    cache = _GramCache(X, X.T @ y, 40)
    for S in ([3, 7, 1], [1, 2, 3, 7, 20], [0, 5, 20, 39], [2, 3]):
        S = np.array(S)
        G, Xy = cache.get(S)
        # the cached order is what the former code recomputed from ``pos`` on every call
        seen = np.flatnonzero(cache.pos >= 0)
        assert np.array_equal(cache.order, seen[np.argsort(cache.pos[seen])])
        assert np.allclose(G, X[:, S].T @ X[:, S]) and np.allclose(Xy, X[:, S].T @ y)
    assert cache.get(np.arange(40)) is not None
    small = _GramCache(X, X.T @ y, 5)
    assert small.get(np.arange(6)) is None
