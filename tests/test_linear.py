"""Linear models: correctness against reference solvers, and that they learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from gpbench import ModelContext
from gpbench_linear import _ENET_OPTIONS
from gpbench_linear.models import ElasticNetCV, KernelRidge
from gpbench_linear.path import alpha_grid, enet_path_screened
from gpbench_sim import simulate


@pytest.fixture(scope="module")
def data():
    ds = simulate(n_strains=200, n_markers=600, seed=2)
    y = ds.traits["trait1"].to_numpy()
    m = ~np.isnan(y)
    return ds.genotypes[m].astype(float), y[m]


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_screened_path_matches_sklearn(data, l1_ratio):
    X, y = data
    Xc, yc = np.asfortranarray(X - X.mean(0)), y - y.mean()
    alphas = alpha_grid(Xc, yc, l1_ratio, n_alphas=20, eps=1e-2)
    coefs = enet_path_screened(Xc, yc, alphas, l1_ratio, tol=1e-8)
    from sklearn.linear_model import ElasticNet

    for i in (5, 12, 19):
        ref = ElasticNet(alpha=alphas[i], l1_ratio=l1_ratio, fit_intercept=False, tol=1e-10,
                         max_iter=100000).fit(Xc, yc).coef_
        assert np.allclose(coefs[i], ref, atol=1e-4 * np.abs(ref).max())


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_gram_solves_match_plain_solves_when_n_exceeds_p(l1_ratio):
    """Many samples, few markers: the whole path runs on the cached Gram matrix."""
    ds = simulate(n_strains=900, n_markers=150, seed=3)
    y = ds.traits["trait1"].to_numpy()
    m = ~np.isnan(y)
    X = ds.genotypes[m].astype(float)
    Xc, yc = np.asfortranarray(X - X.mean(0)), y[m] - y[m].mean()
    alphas = alpha_grid(Xc, yc, l1_ratio, n_alphas=20, eps=1e-3)
    gram = enet_path_screened(Xc, yc, alphas, l1_ratio, tol=1e-10)
    plain = enet_path_screened(Xc, yc, alphas, l1_ratio, tol=1e-10, gram_max=0)
    assert np.abs(gram[-1]).sum() > 0
    assert np.allclose(gram, plain, atol=1e-6 * np.abs(plain).max())


def test_ridge_loo_penalty_and_predictions_match_sklearn(data):
    X, y = data
    model = KernelRidge({}, ModelContext(), "loo").fit(X[:150], y[:150, None])
    # the same ridge solution in sklearn's primal parametrisation
    lam = model.delta * model.k_scale
    ref = Ridge(alpha=lam).fit(X[:150], y[:150]).predict(X[150:])
    assert np.allclose(model.predict(X[150:])[:, 0], ref, atol=1e-6)


def test_ridge_loo_matches_brute_force(data):
    X, y = data
    X, y = X[:60], y[:60]
    model = KernelRidge({}, ModelContext(), "loo").fit(X, y[:, None])
    lam = model.delta * model.k_scale
    errs = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        pred = Ridge(alpha=lam).fit(X[keep], y[keep]).predict(X[i:i + 1])
        errs.append((y[i] - pred[0]) ** 2)
    # brute-force LOO at the chosen penalty is no worse than at a 4x different one
    errs_off = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        pred = Ridge(alpha=lam * 4).fit(X[keep], y[keep]).predict(X[i:i + 1])
        errs_off.append((y[i] - pred[0]) ** 2)
    assert np.mean(errs) <= np.mean(errs_off)


def test_gblup_reml_recovers_heritability():
    ds = simulate(n_strains=600, n_markers=800, h2=0.6, epistasis=0.0, n_qtl=60, seed=5)
    y = ds.traits["trait1"].to_numpy()
    m = ~np.isnan(y)
    model = KernelRidge({}, ModelContext(), "reml").fit(ds.genotypes[m], y[m, None])
    assert 0.35 < model.fit_info["h2_estimate"] < 0.85


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_enet_cv_learns_and_walks_only_part_of_the_grid(data, l1_ratio):
    X, y = data
    opts = {**_ENET_OPTIONS, "l1_ratio": l1_ratio}
    model = ElasticNetCV(opts, ModelContext(seed=1)).fit(X[:150], y[:150, None])
    pred = model.predict(X[150:])[:, 0]
    r2 = 1 - np.sum((y[150:] - pred) ** 2) / np.sum((y[150:] - y[150:].mean()) ** 2)
    assert r2 > 0.3
    assert model.fit_info["n_alphas_walked"] <= 100
    assert 0 < model.fit_info["n_nonzero"] < X.shape[1]


def test_lasso_choice_agrees_with_sklearn_lassocv(data):
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import PredefinedSplit

    X, y = data
    opts = {**_ENET_OPTIONS, "l1_ratio": 1.0, "patience": 0, "n_alphas": 30}
    model = ElasticNetCV(opts, ModelContext(seed=3))
    folds = model._folds(len(y))
    test_fold = np.zeros(len(y), int)
    for f, mask in enumerate(folds):
        test_fold[mask] = f
    model.fit(X, y[:, None])
    Xc, yc = X - X.mean(0), y - y.mean()
    ref = LassoCV(alphas=alpha_grid(Xc, yc, 1.0, 30), cv=PredefinedSplit(test_fold),
                  tol=1e-4).fit(X, y)
    ratio = model.fit_info["alpha"] / ref.alpha_
    assert 0.5 < ratio < 2.0  # same or a neighbouring grid point
    assert abs(np.corrcoef(model.predict(X)[:, 0], ref.predict(X))[0, 1]) > 0.98


def test_mean_model_predicts_the_training_mean():
    from gpbench_linear.models import TrainingMean

    Y = np.array([[1.0, np.nan], [3.0, 4.0]])
    pred = TrainingMean({}, ModelContext()).fit(np.zeros((2, 3)), Y).predict(np.zeros((4, 3)))
    assert pred.shape == (4, 2) and np.allclose(pred, [[2.0, 4.0]] * 4)
