"""Tests for the LightGBM ``gbm`` model plugin on small simulated data."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

import gpbench_gbm
from gpbench import ModelContext
from gpbench.plugins import load_registry
from gpbench_gbm.models import LightGBMModel, cap_markers, thin_markers


def _additive(n: int = 200, p: int = 500, h2: float = 0.8, seed: int = 0):
    """Binary markers in LD blocks, a few large-effect QTL plus noise (heritability h2)."""
    rng = np.random.default_rng(seed)
    block = rng.integers(0, 2, size=(n, p // 10))
    X = np.repeat(block, 10, axis=1)
    flip = rng.random(X.shape) < 0.02  # recombination-like noise between neighbours
    X = np.where(flip, 1 - X, X).astype(np.int8)
    beta = np.zeros(p)
    beta[rng.choice(p, 10, replace=False)] = rng.normal(0, 1, 10)
    g = X @ beta
    e = rng.normal(0, np.sqrt(g.var() * (1 - h2) / h2), n)
    return X, (g + e)[:, None]


def _split(X, Y, n_test=50, n_valid=30):
    te, va = slice(0, n_test), slice(n_test, n_test + n_valid)
    tr = slice(n_test + n_valid, None)
    return (X[tr], Y[tr]), (X[va], Y[va]), (X[te], Y[te])


def _r2(y, p):
    return 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


FAST = {"learning_rate": 0.1, "num_boost_round": 300}


def _model(seed=0, report=None, **opts):
    reg = load_registry([("gbm", gpbench_gbm)], load_entrypoints=False)
    spec = reg.model("gbm")
    return spec.build({**FAST, **opts}, ModelContext(seed=seed, n_threads=1, report=report))


def test_registered_spec():
    reg = load_registry([("gbm", gpbench_gbm)], load_entrypoints=False)
    spec = reg.model("gbm")
    assert spec.uses_validation and not spec.multi_trait
    assert spec.search_space is not None
    with pytest.raises(ValueError):
        spec.build({"no_such_option": 1}, ModelContext())


@pytest.mark.parametrize("refit_scale", [0.0, 1.25])
def test_fit_predict_shape_and_fit_info(refit_scale):
    X, Y = _additive()
    (Xt, Yt), valid, (Xs, _) = _split(X, Y)
    m = _model(refit_scale=refit_scale).fit(Xt, Yt, valid=valid)
    pred = m.predict(Xs)
    assert pred.shape == (len(Xs), 1) and np.all(np.isfinite(pred))
    info = m.fit_info
    json.dumps(info)  # serialisable
    hist = info["history"]
    assert len(hist["iteration"]) == len(hist["valid_l2"]) == len(hist["train_l2"])
    assert info["valid_source"] == "host" and info["n_valid"] == len(valid[0])
    assert 1 <= info["best_iteration"] <= info["stopped_at"]
    assert info["refit"] == (refit_scale > 0)
    assert info["n_rounds"] == max(1, round(info["best_iteration"] * refit_scale)) or (
        refit_scale == 0 and info["n_rounds"] == info["best_iteration"])


def test_learns_additive_signal():
    X, Y = _additive(seed=1)
    (Xt, Yt), valid, (Xs, Ys) = _split(X, Y)
    m = _model().fit(Xt, Yt, valid=valid)
    assert _r2(Ys[:, 0], m.predict(Xs)[:, 0]) > 0.3


def test_early_stopping_on_noise():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 2, size=(200, 500)).astype(np.int8)
    Y = rng.normal(size=(200, 1))
    (Xt, Yt), valid, _ = _split(X, Y)
    m = _model(early_stopping_rounds=20).fit(Xt, Yt, valid=valid)
    assert m.fit_info["best_iteration"] < FAST["num_boost_round"]
    assert m.fit_info["stopped_at"] < FAST["num_boost_round"]


def test_deterministic_same_seed():
    X, Y = _additive(seed=2)
    (Xt, Yt), valid, (Xs, _) = _split(X, Y)
    p1 = _model(seed=5).fit(Xt, Yt, valid=valid).predict(Xs)
    p2 = _model(seed=5).fit(Xt, Yt, valid=valid).predict(Xs)
    np.testing.assert_array_equal(p1, p2)


def test_without_valid_uses_own_split_and_refit():
    X, Y = _additive(seed=4)
    (Xt, Yt), _, (Xs, _) = _split(X, Y)
    m = _model(refit_scale=1.2).fit(Xt, Yt, valid=None)
    info = m.fit_info
    assert info["valid_source"] == "own split" and info["refit"]
    assert info["n_valid"] == round(0.2 * len(Xt)) and info["n_fit"] == len(Xt)
    assert info["n_rounds"] == max(1, round(info["best_iteration"] * 1.2))
    assert m.booster.current_iteration() == info["n_rounds"] == m.num_iteration
    assert m.predict(Xs).shape == (len(Xs), 1)


def test_report_called_and_pruning_propagates():
    X, Y = _additive(seed=5)
    (Xt, Yt), valid, _ = _split(X, Y)
    calls = []
    _model(report=lambda s, v: calls.append((s, v)), report_every=5).fit(Xt, Yt, valid=valid)
    assert calls and all(s % 5 == 0 for s, _ in calls)
    assert all(np.isfinite(v) for _, v in calls)

    def prune(step, value):
        raise optuna.TrialPruned()

    with pytest.raises(optuna.TrialPruned):
        _model(report=prune, report_every=5).fit(Xt, Yt, valid=valid)


def test_search_space_gives_valid_options():
    reg = load_registry([("gbm", gpbench_gbm)], load_entrypoints=False)
    spec = reg.model("gbm")
    X, Y = _additive(seed=6)
    (Xt, Yt), valid, (Xs, Ys) = _split(X, Y)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        opts = spec.search_space(trial)
        assert set(opts) <= set(spec.options)
        m = spec.build({**opts, "num_boost_round": 100}, ModelContext(seed=0))
        return _r2(Ys[:, 0], m.fit(Xt, Yt, valid=valid).predict(Xs)[:, 0])

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=2)
    assert len(study.trials) == 2 and np.isfinite(study.best_value)


def test_thin_markers():
    X = np.array([[0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 0, 1], [1, 1, 1, 0]], dtype=np.int8)
    assert thin_markers(X, 0.0).tolist() == [0, 1, 2, 3]
    assert thin_markers(X, 0.1).tolist() == [0, 2, 3]
    # fit keeps the thinned columns of its training rows, and predict reads only those
    X, Y = _additive(seed=7)
    (Xt, Yt), valid, (Xs, _) = _split(X, Y)
    m = LightGBMModel({**FAST, "ld_thin": 0.3}, ModelContext()).fit(Xt, Yt, valid=valid)
    assert np.array_equal(m.cols, thin_markers(Xt, 0.3)) and len(m.cols) < X.shape[1]
    scrambled = Xs.copy()
    dropped = np.setdiff1d(np.arange(X.shape[1]), m.cols)
    scrambled[:, dropped] = 1 - scrambled[:, dropped]
    np.testing.assert_array_equal(m.predict(scrambled), m.predict(Xs))


def test_cap_markers_keeps_evenly_spaced_columns():
    cols = np.arange(10, 110)
    assert cap_markers(cols, 0).tolist() == cols.tolist()
    assert cap_markers(cols, 200).tolist() == cols.tolist()
    capped = cap_markers(cols, 5)
    assert capped.tolist() == [10, 35, 60, 84, 109]  # first and last kept, order preserved


def test_max_markers_limits_the_columns_a_fit_uses():
    X, Y = _additive(n=200, p=500)
    (Xt, Yt), (Xv, Yv), (Xs, _) = _split(X, Y)
    m = _model(ld_thin=0.0, max_markers=120).fit(Xt, Yt, valid=(Xv, Yv))
    assert m.fit_info["n_markers_used"] == 120 and m.fit_info["n_markers"] == 500
    assert m.predict(Xs).shape == (len(Xs), 1)
