"""Bayesian alphabet (brr, bayesa, bayesb, bayesc, bl): correctness of the Gibbs samplers on
small simulated data, determinism, priors as BGLR sets them, and a run through the harness."""

from __future__ import annotations

import numpy as np
import pytest

import gpbench_bayes
from gpbench import ModelContext
from gpbench.api.errors import GpbenchError
from gpbench.plugins import load_registry

KINDS = ("brr", "bayesa", "bayesb", "bayesc", "bl")
REGISTRY = load_registry([("bayes", gpbench_bayes)], load_entrypoints=False)


def _model(kind: str, seed: int = 0, **opts):
    return REGISTRY.model(kind).build(opts, ModelContext(seed=seed))


def _r2(y, p):
    return 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


@pytest.fixture(scope="module")
def qtl():
    """Binary markers in LD blocks, 8 QTL, heritability 0.7; 160 training, 80 test rows."""
    rng = np.random.default_rng(4)
    n, p = 240, 400
    X = np.repeat(rng.integers(0, 2, size=(n, p // 4)), 4, axis=1)
    X = np.where(rng.random(X.shape) < 0.05, 1 - X, X).astype(np.int8)
    beta = np.zeros(p)
    beta[rng.choice(p, 8, replace=False)] = rng.normal(0, 1, 8)
    g = X @ beta
    y = 3.0 + g + rng.normal(0, np.sqrt(g.var() * 0.3 / 0.7), n)
    return X[:160], y[:160], X[160:], y[160:]


@pytest.fixture(scope="module")
def small():
    """A small ridge-type problem (n 60, p 30) for comparisons with closed forms."""
    rng = np.random.default_rng(7)
    X = rng.integers(0, 2, size=(60, 30)).astype(np.int8)
    y = X @ rng.normal(0, 0.5, 30) + rng.normal(0, 1.0, 60)
    return X, y


def _ridge(X, y, lam, Xnew):
    """Closed-form ridge with an unpenalised intercept (centred markers), at penalty lam."""
    Xf = X.astype(float)
    xm = Xf.mean(0)
    Xc = Xf - xm
    b = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ (y - y.mean()))
    return (Xnew - xm) @ b + y.mean()


def test_brr_with_fixed_variances_is_the_ridge_solution(small):
    X, y = small
    var_e, var_b = 1.0, 0.1
    model = _model("brr", var_e=var_e, var_b=var_b, n_iter=20000, burn_in=500, thin=1)
    pred = model.fit(X, y[:, None]).predict(X)[:, 0]
    ref = _ridge(X, y, var_e / var_b, X)
    assert model.fit_info["var_e"] == var_e and model.fit_info["var_b"] == var_b
    # Monte-Carlo error of a posterior mean from ~20k correlated draws: a few % of the spread
    assert np.max(np.abs(pred - ref)) < 0.05 * np.std(ref)
    # and clearly not the ridge solution at another penalty
    off = _ridge(X, y, 4 * var_e / var_b, X)
    assert np.max(np.abs(off - ref)) > 0.2 * np.std(ref)


def test_brr_posterior_mean_is_ridge_at_the_posterior_variance_ratio(small):
    X, y = small
    model = _model("brr", n_iter=20000, burn_in=1000, thin=2).fit(X, y[:, None])
    pred = model.predict(X)[:, 0]
    ratio = model.fit_info["ratio_var_e_var_b"]
    ref = _ridge(X, y, ratio, X)
    # the variances are random, so the match is close but not exact
    assert np.sqrt(np.mean((pred - ref) ** 2)) < 0.1 * np.std(ref)
    assert np.corrcoef(pred, ref)[0, 1] > 0.99


def test_bayesc_with_prob_in_fixed_at_one_matches_brr(small):
    X, y = small
    long = {"n_iter": 20000, "burn_in": 1000, "thin": 2}
    brr = _model("brr", seed=1, **long).fit(X, y[:, None])
    bc = _model("bayesc", seed=2, prob_in=1.0, fix_prob_in=True, **long).fit(X, y[:, None])
    assert bc.fit_info["prob_in"] == 1.0
    scale = np.std(brr.coef)
    assert np.max(np.abs(bc.coef - brr.coef)) < 0.1 * scale
    assert abs(bc.intercept - brr.intercept) < 0.05 * np.std(y)
    assert bc.fit_info["var_e"] == pytest.approx(brr.fit_info["var_e"], rel=0.05)
    assert bc.fit_info["var_b"] == pytest.approx(brr.fit_info["var_b"], rel=0.1)
    # a real spike (prob_in 0.1) shrinks differently: the comparison above can fail
    sparse = _model("bayesc", seed=2, prob_in=0.1, fix_prob_in=True, **long).fit(X, y[:, None])
    assert np.max(np.abs(sparse.coef - brr.coef)) > 0.2 * scale


@pytest.mark.parametrize("kind", KINDS)
def test_seeded_and_deterministic(qtl, kind):
    Xtr, ytr, Xte, _ = qtl
    fast = {"n_iter": 300, "burn_in": 100}
    a = _model(kind, seed=3, **fast).fit(Xtr, ytr[:, None]).predict(Xte)
    b = _model(kind, seed=3, **fast).fit(Xtr, ytr[:, None]).predict(Xte)
    c = _model(kind, seed=4, **fast).fit(Xtr, ytr[:, None]).predict(Xte)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # the seed option overrides the host's seed
    e = REGISTRY.model(kind).build({**fast, "seed": 3}, ModelContext(seed=99))
    assert np.array_equal(a, e.fit(Xtr, ytr[:, None]).predict(Xte))


@pytest.mark.parametrize("kind", KINDS)
def test_beats_the_mean_on_simulated_qtl(qtl, kind):
    Xtr, ytr, Xte, yte = qtl
    model = _model(kind, seed=0, n_iter=1500, burn_in=500)
    pred = model.fit(Xtr, ytr[:, None]).predict(Xte)
    assert pred.shape == (len(Xte), 1)
    assert _r2(yte, pred[:, 0]) > 0.25  # the mean scores <= 0
    assert model.fit_info["n_samples"] == 200  # (1500 - 500) / thin 5


def test_sparse_priors_find_the_qtl_better_than_brr(qtl):
    Xtr, ytr, Xte, yte = qtl
    scores = {k: _r2(yte, _model(k, n_iter=2000, burn_in=500).fit(Xtr, ytr[:, None])
                     .predict(Xte)[:, 0]) for k in ("brr", "bayesb")}
    assert scores["bayesb"] > scores["brr"]


def test_float_genotypes_give_the_int8_chain(qtl):
    Xtr, ytr, Xte, _ = qtl
    opts = {"n_iter": 200, "burn_in": 50}
    a = _model("bayesb", **opts).fit(Xtr, ytr[:, None]).predict(Xte)
    # float64 with integer values takes the int8 path: identical
    b = _model("bayesb", **opts).fit(Xtr.astype(float), ytr[:, None]).predict(Xte)
    assert np.array_equal(a, b)
    # non-integer dosages (shifted by a constant, which centring removes) take the float32 path
    c = _model("brr", **opts).fit(Xtr + 0.25, ytr[:, None]).predict(Xte + 0.25)
    ref = _model("brr", **opts).fit(Xtr, ytr[:, None]).predict(Xte)
    assert np.allclose(c, ref, atol=1e-3 * np.std(ref))


def test_constant_markers_are_left_out(qtl):
    Xtr, ytr, Xte, _ = qtl
    X = np.concatenate([Xtr, np.ones((len(Xtr), 3), np.int8)], axis=1)
    Xn = np.concatenate([Xte, np.zeros((len(Xte), 3), np.int8)], axis=1)
    model = _model("bl", n_iter=200, burn_in=50).fit(X, ytr[:, None])
    assert model.fit_info["n_markers_used"] == Xtr.shape[1]
    ref = _model("bl", n_iter=200, burn_in=50).fit(Xtr, ytr[:, None]).predict(Xte)
    assert np.array_equal(model.predict(Xn), ref)


def test_priors_set_as_bglr_does(small):
    X, y = small
    model = _model("bayesb", n_iter=20, burn_in=10, thin=1, r2=0.4, df0=6.0, prob_in=0.25)
    model.fit(X, y[:, None])
    msx = float(np.sum(X.astype(float).var(axis=0)))
    assert model.fit_info["MSx"] == pytest.approx(msx)
    # S0 = var(y) R2 / MSx (df0 + 2) / probIn   (setLT.BayesBandC)
    assert model.fit_info["S0"] == pytest.approx(np.var(y, ddof=1) * 0.4 / msx * 8 / 0.25)
    brr = _model("brr", n_iter=20, burn_in=10, thin=1).fit(X, y[:, None])
    assert brr.fit_info["S0"] == pytest.approx(np.var(y, ddof=1) * 0.5 / msx * 7)


@pytest.mark.parametrize("bad", [{"r2": 1.0}, {"n_iter": 100, "burn_in": 100},
                                 {"thin": 0}, {"df0": 0}, {"prob_in": 0.0},
                                 {"lambda_shape": 1.0}])
def test_bad_options_are_one_line_errors(bad):
    kind = "bayesb" if "prob_in" in bad else "bl" if "lambda_shape" in bad else "brr"
    with pytest.raises(GpbenchError, match=kind):
        _model(kind, **bad)


def test_registered_with_options_and_search_spaces():
    import optuna

    for kind in KINDS:
        spec = REGISTRY.model(kind)
        assert spec.search_space is not None and spec.factory.__doc__
        assert {"n_iter", "burn_in", "thin", "r2", "df0", "seed"} <= set(spec.options)
        trial = optuna.trial.FixedTrial({"r2": 0.3, "df0": 4.0, "prob_in": 0.05,
                                         "lambda_shape": 1.5})
        suggested = spec.search_space(trial)
        spec.check_options(suggested)
        assert suggested["r2"] == 0.3
    assert "prob_in" in REGISTRY.model("bayesb").search_space(trial)


def test_every_model_runs_through_the_harness_on_sim(tmp_path):
    from gpbench.running.plan import RunConfig, execute, plan_run
    from gpbench.running.units import Environment

    env = Environment(extra_plugins=("gpbench_sim", "gpbench_metrics", "gpbench_bayes"),
                      load_entrypoints=False)
    fast = {"n_iter": 300, "burn_in": 100}
    config = RunConfig(models=list(KINDS), dataset="sim", traits=["trait1"], k=2,
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1,
                       dataset_options={"n_strains": "120", "n_markers": "200"},
                       model_options={k: fast for k in KINDS})
    plan = plan_run(config, env.get_registry())
    summary = execute(plan, env=env)
    assert not summary.failed and summary.done == 2 * len(KINDS)
    text = summary.leaderboard.read_text()
    for kind in KINDS:
        assert kind in text


def test_save_and_load_give_the_same_predictions(qtl, tmp_path):
    from gpbench_bayes.models import load

    Xtr, ytr, Xte, _ = qtl
    model = _model("bayesc", n_iter=200, burn_in=50).fit(Xtr, ytr[:, None])
    model.save(tmp_path / "m")
    again = load(tmp_path / "m", ModelContext())
    assert again.kind == "bayesc" and again.fit_info == model.fit_info
    assert np.array_equal(again.predict(Xte), model.predict(Xte))
