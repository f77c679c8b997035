"""Convergence diagnostics of the Bayesian alphabet's chains (``gpbench_bayes.convergence``):
ESS and Geweke's z on simulated traces with known answers, the traces the sampler keeps, and
the fields and warnings a fit puts in its record."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import gpbench_bayes
from gpbench import ModelContext
from gpbench.plugins import load_registry
from gpbench_bayes.convergence import (
    MIN_ESS,
    effective_sample_size,
    geweke_z,
    summarise,
    tracked_rows,
)

REGISTRY = load_registry([("bayes", gpbench_bayes)], load_entrypoints=False)


def _ar1(rho: float, n: int, k: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, k))
    noise = rng.standard_normal((n, k)) * np.sqrt(1 - rho * rho)
    x[0] = rng.standard_normal(k)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + noise[t]
    return x


def test_ess_of_independent_draws_is_about_their_number():
    ess = effective_sample_size(np.random.default_rng(1).standard_normal((4000, 5)))
    assert np.all((ess > 0.85 * 4000) & (ess < 1.15 * 4000))


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_ess_of_an_ar1_chain_matches_theory(rho):
    n = 20000
    ess = effective_sample_size(_ar1(rho, n, k=4, seed=2))
    expected = n * (1 - rho) / (1 + rho)
    assert np.all(np.abs(ess / expected - 1) < 0.2), (ess, expected)


def test_ess_per_column_and_of_constant_traces():
    x = _ar1(0.8, 500, k=3, seed=3)
    assert np.allclose(effective_sample_size(x), [effective_sample_size(c) for c in x.T])
    assert effective_sample_size(np.full(50, 2.5)) == 50.0


def test_geweke_z_small_for_a_stationary_chain_large_for_a_drifting_one():
    stationary = _ar1(0.5, 400, seed=4)[:, 0]
    assert abs(geweke_z(stationary)) < 3
    drifting = stationary + np.linspace(3.0, 0.0, 400)  # still settling: the start is high
    assert geweke_z(drifting) > 3


def test_summarise_warns_on_slow_mixing_and_not_on_a_good_chain():
    good = summarise(np.random.default_rng(5).standard_normal(400),
                     np.random.default_rng(6).standard_normal((400, 20)))
    assert "warnings" not in good and good["ess_var_g"] > MIN_ESS
    slow = _ar1(0.99, 400, k=21, seed=7)
    bad = summarise(slow[:, 0], slow[:, 1:])
    assert bad["ess_g_median"] < MIN_ESS
    assert any("effective sample size" in w for w in bad["warnings"])


def test_tracked_rows_are_all_or_evenly_spaced():
    assert np.array_equal(tracked_rows(5), np.arange(5))
    rows = tracked_rows(5000, limit=1000)
    assert len(rows) == 1000 and rows[0] == 0 and rows[-1] == 4999
    assert np.all(np.diff(rows) > 0)


def _problem():
    rng = np.random.default_rng(8)
    X = rng.integers(0, 3, size=(120, 60)).astype(np.int8)
    y = X @ rng.normal(0, 0.3, 60) + rng.normal(0, 1.0, 120)
    return X, y


@pytest.mark.parametrize("model", [0, 2, 4])  # brr, bayesb, bl
def test_sampler_traces_are_the_draws_genetic_values_and_leave_the_chain_unchanged(model):
    from gpbench_bayes.sampler import gibbs, moments

    X, y = _problem()
    Xt = np.ascontiguousarray(X.T)
    xm, x2 = moments(Xt)
    n_iter, burn_in, thin = 600, 100, 5
    n_keep = n_iter // thin - burn_in // thin

    def run(track):
        var_g, g = np.zeros(n_keep), np.zeros((n_keep, len(track)))
        out = gibbs(Xt, xm, x2, y, model, n_iter, burn_in, thin, 11,
                    5.0, 3.0, 0.5, False, 5.0, 0.01, 0.01, False, 1.1, 10.0,
                    0.5, 5.0, 5.0, False, 1.0, 1.1, 0.1, False, 1e-9, track, var_g, g)
        return out, var_g, g

    (b_all, mu_all, st_all), var_g, g = run(np.arange(len(y)))
    (b_none, mu_none, st_none), var_g2, _ = run(np.zeros(0, dtype=np.int64))
    # recording draws no random number: the chain is the same, bit for bit
    assert np.array_equal(b_all, b_none) and mu_all == mu_none
    assert np.array_equal(st_all, st_none) and np.array_equal(var_g, var_g2)
    assert st_all[6] == n_keep and np.all(var_g > 0)
    # the genetic values are linear in the effects: their mean over draws is X_c post_b
    fitted = (X - xm) @ b_all
    assert np.allclose(g.mean(axis=0), fitted, atol=1e-8 * np.abs(fitted).max())
    # and each draw's variance is the variance of that draw's genetic values
    assert np.allclose(var_g, g.var(axis=1), rtol=1e-9)


def test_fit_info_carries_the_diagnostics_and_warns_on_a_short_chain(caplog):
    X, y = _problem()
    ctx = ModelContext(seed=0)
    long = REGISTRY.model("brr").build({"n_iter": 3000, "burn_in": 1000}, ctx)
    info = long.fit(X, y[:, None]).fit_info
    for key in ("ess_var_g", "ess_g_min", "ess_g_median", "geweke_z_var_g"):
        assert np.isfinite(info[key])
    assert info["n_tracked"] == len(y) and info["ess_g_median"] > MIN_ESS
    short = REGISTRY.model("bayesb").build({"n_iter": 60, "burn_in": 0, "thin": 1}, ctx)
    # the CLI stops the "gpbench" logger propagating to the root (where caplog listens) once
    # any test ran it, so listen on the plugin's logger itself
    logger = logging.getLogger("gpbench.bayes")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="gpbench.bayes"):
            info = short.fit(X, y[:, None]).fit_info
    finally:
        logger.removeHandler(caplog.handler)
    assert info["warnings"] and "bayesb" in caplog.text
