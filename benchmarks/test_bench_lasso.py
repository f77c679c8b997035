"""Lasso: gpbench's screened path vs scikit-learn's LassoCV, same alpha grid and inner folds."""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import LassoCV
from sklearn.model_selection import PredefinedSplit

from gpbench import ModelContext
from gpbench.running.protocol import make_folds
from gpbench_linear import _ENET_OPTIONS
from gpbench_linear.models import ElasticNetCV
from gpbench_linear.path import alpha_grid

TRAIT = "YPD"  # not one of the headline traits


def _r2(y, p):
    return 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


def test_lasso_vs_sklearn_lassocv(benchmark, yeast):
    y_all = yeast.traits[TRAIT].to_numpy()
    folds = make_folds(yeast.sample_ids, 5, seed=0)
    test = folds.test_mask(0, 0)
    m = ~np.isnan(y_all)
    train, test = ~test & m, test & m
    X = yeast.genotypes.astype(np.float64)
    opts = {**_ENET_OPTIONS, "l1_ratio": 1.0}

    def ours():
        return ElasticNetCV(opts, ModelContext(seed=0, n_threads=2)).fit(
            X[train], y_all[train, None])

    model = benchmark.pedantic(ours, rounds=1, iterations=1)
    t_ours = benchmark.stats.stats.mean
    r2_ours = _r2(y_all[test], model.predict(X[test])[:, 0])

    inner = np.zeros(int(train.sum()), int)
    for f, mask in enumerate(model._folds(int(train.sum()))):
        inner[mask] = f
    Xc, yc = X[train] - X[train].mean(0), y_all[train] - y_all[train].mean()
    grid = alpha_grid(Xc, yc, 1.0, opts["n_alphas"], opts["eps"])
    t0 = time.perf_counter()
    ref = LassoCV(alphas=grid, cv=PredefinedSplit(inner), n_jobs=2, tol=opts["tol"]).fit(
        X[train], y_all[train])
    t_sk = time.perf_counter() - t0
    r2_sk = _r2(y_all[test], ref.predict(X[test]))
    benchmark.extra_info.update({"trait": TRAIT, "ours_s": t_ours, "sklearn_s": t_sk,
                                 "speedup": t_sk / t_ours, "r2_ours": r2_ours,
                                 "r2_sklearn": r2_sk})
    print(f"\nlasso {TRAIT}: ours {t_ours:.1f}s R2={r2_ours:.4f}; sklearn LassoCV {t_sk:.1f}s "
          f"R2={r2_sk:.4f}; speed-up {t_sk / t_ours:.1f}x")
    assert t_sk / t_ours >= 5
    assert abs(r2_ours - r2_sk) <= 0.01
