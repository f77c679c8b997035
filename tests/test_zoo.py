"""The zoo models (rkhs, svr, rf, xgboost, stack) on small simulated data: shapes, seeds,
that they learn, and their correctness properties."""

from __future__ import annotations

import numpy as np
import pytest

import gpbench_linear
import gpbench_zoo
from gpbench import ModelContext, ModelSpec
from gpbench.plugins import load_registry
from gpbench_linear.models import KernelRidge
from gpbench_zoo.rkhs import RKHS, weight_candidates
from gpbench_zoo.stack import Stack, nnls_weights

REG = load_registry([("linear", gpbench_linear), ("zoo", gpbench_zoo)], load_entrypoints=False)
FAST = {"rf": {"n_estimators": 60, "max_features": 0.1},
        "xgboost": {"learning_rate": 0.1, "num_boost_round": 300, "early_stopping_rounds": 30},
        "stack": {"base": "gblup,svr", "inner_folds": 3},
        "rkhs": {}, "svr": {}}


def _qtl_data(n: int = 240, p: int = 400, h2: float = 0.8, seed: int = 0):
    """Binary markers in LD blocks, a few large-effect QTL plus noise (heritability h2)."""
    rng = np.random.default_rng(seed)
    X = np.repeat(rng.integers(0, 2, size=(n, p // 8)), 8, axis=1)
    X = np.where(rng.random(X.shape) < 0.03, 1 - X, X).astype(np.int8)
    beta = np.zeros(p)
    beta[rng.choice(p, 8, replace=False)] = rng.normal(0, 1, 8)
    g = X @ beta
    y = g + rng.normal(0, np.sqrt(g.var() * (1 - h2) / h2), n)
    return X, y[:, None]


@pytest.fixture(scope="module")
def data():
    X, Y = _qtl_data()
    return (X[60:], Y[60:]), (X[:60], Y[:60])


def _r2(y, p):
    return 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


def _fit(name, train, seed=0, **opts):
    spec = REG.model(name)
    ctx = ModelContext(seed=seed, n_threads=1, get_model=REG.model)
    X, Y = train
    valid = None
    if spec.uses_validation:
        X, Y, valid = X[40:], Y[40:], (X[:40], Y[:40])
    return spec.build({**FAST[name], **opts}, ctx).fit(X, Y, valid=valid)


@pytest.mark.parametrize("name", ["rkhs", "svr", "rf", "xgboost", "stack"])
def test_fits_predicts_learns_and_is_deterministic(data, name):
    train, (Xt, Yt) = data
    spec = REG.model(name)
    assert spec.search_space is not None and not spec.multi_trait
    pred = _fit(name, train).predict(Xt)
    assert pred.shape == (len(Xt), 1) and np.all(np.isfinite(pred))
    assert _r2(Yt[:, 0], pred[:, 0]) > 0.3  # the mean scores ~0
    again = _fit(name, train).predict(Xt)
    assert np.array_equal(pred, again)


@pytest.mark.parametrize("name", ["rf", "xgboost"])
def test_seed_changes_randomised_models(data, name):
    train, (Xt, _) = data
    assert not np.array_equal(_fit(name, train, seed=0).predict(Xt),
                              _fit(name, train, seed=1).predict(Xt))


def test_search_spaces_give_declared_options():
    import optuna

    for name in ("rkhs", "svr", "rf", "xgboost", "stack"):
        spec = REG.model(name)
        spec.check_options(spec.search_space(optuna.create_study().ask()))


def test_rkhs_kernel_is_psd_and_weights_on_simplex(data):
    (X, Y), _ = data
    model = RKHS({}, ModelContext()).fit(X, Y)
    K = model.kernel(X)
    assert np.allclose(K, K.T, atol=1e-10)
    assert np.linalg.eigvalsh(K).min() > -1e-8 * np.abs(K).max()
    assert np.isclose(sum(model.fit_info["weights"]), 1.0)
    for combine, count in (("grid", 15), ("best", 3), ("mean", 1)):
        cands = weight_candidates(3, combine, 4)
        assert len(cands) == count and all(np.isclose(c.sum(), 1) and c.min() >= 0
                                           for c in cands)


def test_rkhs_grid_likelihood_at_least_the_best_single_kernel(data):
    (X, Y), _ = data
    grid = RKHS({"combine": "grid"}, ModelContext()).fit(X, Y).fit_info["reml_loglik"]
    best = RKHS({"combine": "best"}, ModelContext()).fit(X, Y).fit_info["reml_loglik"]
    assert grid >= best - 1e-9


def test_rkhs_best_is_the_single_kernel_with_the_highest_reml_likelihood(data):
    (X, Y), (Xt, _) = data
    model = RKHS({"combine": "best"}, ModelContext()).fit(X, Y)
    assert model.fit_info["n_candidates"] == 3
    singles = [RKHS({"bandwidths": h}, ModelContext()).fit(X, Y) for h in (0.2, 1, 5)]
    liks = [m.fit_info["reml_loglik"] for m in singles]
    chosen = int(np.argmax(liks))
    assert model.fit_info["weights"] == [float(i == chosen) for i in range(3)]
    assert model.fit_info["reml_loglik"] == max(liks)
    # the median and the chosen kernel are the single-kernel fit's own: same predictions
    assert np.array_equal(model.predict(Xt), singles[chosen].predict(Xt))


def test_rkhs_with_huge_bandwidth_is_gblup(data):
    (X, Y), (Xt, _) = data
    rkhs = RKHS({"bandwidths": "10000"}, ModelContext()).fit(X, Y).predict(Xt)[:, 0]
    gblup = KernelRidge({}, ModelContext(), "reml").fit(X, Y).predict(Xt)[:, 0]
    assert np.corrcoef(rkhs, gblup)[0, 1] > 0.999
    assert np.abs(rkhs - gblup).max() < 0.02 * gblup.std()


def test_rkhs_rejects_bad_bandwidths():
    with pytest.raises(ValueError, match="bandwidths"):
        RKHS({"bandwidths": "0,1"}, ModelContext())


def test_xgboost_early_stops_on_the_validation_split(data):
    (X, Y), _ = data
    opts = {"learning_rate": 0.3, "num_boost_round": 2000, "early_stopping_rounds": 20,
            "refit_scale": 0.0}
    model = _fit("xgboost", (X, Y), **opts)
    info = model.fit_info
    assert info["valid_source"] == "host" and info["n_valid"] == 40
    assert info["stopped_at"] == info["best_iteration"] + 20 < 2000
    rmse = info["valid_rmse"]
    assert rmse[info["best_iteration"] - 1] == min(rmse)
    # the validation rows steer the stop: pure-noise validation targets stop it elsewhere
    rng = np.random.default_rng(3)
    noisy = _fit("xgboost", (np.r_[X[:40], X[40:]], np.r_[rng.normal(size=(40, 1)), Y[40:]]),
                 **opts)
    assert noisy.fit_info["best_iteration"] != info["best_iteration"]


def test_xgboost_without_valid_holds_out_its_own_rows(data):
    (X, Y), _ = data
    spec = REG.model("xgboost")
    model = spec.build(FAST["xgboost"], ModelContext(seed=0)).fit(X, Y, valid=None)
    assert model.fit_info["valid_source"] == "own split"
    assert model.fit_info["n_valid"] == round(0.2 * len(Y))


# ------------------------------------------------------------------ stack


class _Noise:
    """Predicts seeded noise, whatever it was fitted on."""

    def __init__(self, options, context):
        self.rng = np.random.default_rng(context.seed + 99)

    def fit(self, X, Y, valid=None):
        self.sd = float(np.std(Y))
        return self

    def predict(self, X):
        return self.rng.normal(0, self.sd, (len(X), 1))


def _toy_registry():
    specs = {"good": ModelSpec("good", lambda o, c: KernelRidge(o, c, "reml")),
             "noise": ModelSpec("noise", _Noise)}
    return specs.__getitem__  # a missing name raises KeyError, like the host's registry


def test_stack_puts_the_weight_on_the_good_model(data):
    train, (Xt, Yt) = data
    ctx = ModelContext(seed=0, get_model=_toy_registry())
    model = Stack({"base": "good,noise,missing", "inner_folds": 4}, ctx).fit(*train)
    w = model.fit_info["weights"]
    assert all(v >= 0 for v in w.values())
    assert w["noise"] <= 0.05 * w["good"] and 0.7 < w["good"] < 1.3
    assert model.fit_info["skipped"] == ["missing: not registered"]
    assert _r2(Yt[:, 0], model.predict(Xt)[:, 0]) > 0.3


def test_nnls_weights_are_non_negative():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100)
    P = np.c_[y + rng.normal(0, 0.3, 100), -y, rng.normal(size=100)]
    w, b = nnls_weights(P, y + 5.0)
    assert np.all(w >= 0) and w[1] == 0 and w[0] > 0.5
    assert abs(b - (5.0 + y.mean() - P.mean(0) @ w)) < 1e-9


def test_stack_errors_without_usable_models():
    from gpbench.api.errors import GpbenchError

    with pytest.raises(GpbenchError, match="none of the base models"):
        Stack({"base": "nope"}, ModelContext(get_model=_toy_registry()))
    with pytest.raises(GpbenchError, match="get_model"):
        Stack({}, ModelContext())


@pytest.mark.parametrize("tune", [False, True])
def test_stack_never_sees_the_outer_test_fold(tmp_path, tune):
    from gpbench.running.executors import InlineExecutor
    from gpbench.running.plan import RunConfig, execute, plan_run
    from gpbench.running.protocol import FoldPlan
    from gpbench.running.units import Environment, TuneConfig
    from gpbench.storage.records import ResultStore
    from tests.plugins import spy

    env = Environment(extra_plugins=("gpbench_linear", "gpbench_metrics", "gpbench_zoo",
                                     "tests.plugins.spy"), load_entrypoints=False)
    spy.SEEN.clear()
    config = RunConfig(models=["stack"], dataset="indexed", traits=["A"], out=tmp_path / "run",
                       cache_dir=tmp_path / "cache", n_threads=1,
                       model_options={"stack": {"base": "spy,spy-val,nosuch",
                                                "inner_folds": 3}},
                       tune=TuneConfig(1) if tune else None, maf=0.0)
    # in-process, so that the spy's record of what it saw is readable here
    summary = execute(plan_run(config, env.get_registry()), executor=InlineExecutor(), env=env)
    assert not summary.failed
    folds = FoldPlan.load(next((summary.run_dir / "folds").glob("*.csv")), 5, 0)
    tests = [set(np.flatnonzero(folds.test_mask(0, f))) for f in range(5)]
    # per stack fit: k inner folds x 2 base models + a refit of each base model with weight > 0;
    # 5 outer folds, and with tuning one more stack fit (the trial, whose search space draws k
    # from 3, 5, 10; the final fit then uses the trial's k) per fold
    if tune:
        assert 5 * 2 * (3 * 2 + 1) <= len(spy.SEEN) <= 5 * 2 * (10 * 2 + 2)
    else:
        assert 5 * (3 * 2 + 1) <= len(spy.SEEN) <= 5 * (3 * 2 + 2)
    for event in spy.SEEN:
        shown = set(event["fit"]) | set(event["valid"])
        # the rows a base model was fitted on miss exactly one outer test fold: its own
        own = [f for f, t in enumerate(tests) if not shown & t]
        assert len(own) == 1
        # out-of-fold predictions inside the training fold, or the final test-fold predictions
        predicted = set(event["predict"])
        assert predicted.isdisjoint(tests[own[0]]) or predicted == tests[own[0]]
    for record in ResultStore(summary.run_dir).records():
        info = record["fit_info"]
        assert info["skipped"] == ["nosuch: not registered"]
        assert set(info["weights"]) == {"spy", "spy-val"}
        assert all(w >= 0 for w in info["weights"].values())
        assert ("tuning" in record) == tune


def test_zoo_models_run_through_the_host_on_sim(tmp_path):
    from gpbench.running.plan import RunConfig, execute, plan_run
    from gpbench.running.units import Environment
    from gpbench.storage.records import ResultStore

    env = Environment(extra_plugins=("gpbench_sim", "gpbench_linear", "gpbench_metrics",
                                     "gpbench_zoo"), load_entrypoints=False)
    models = ["rkhs", "svr", "rf", "xgboost", "stack"]
    config = RunConfig(models=models, dataset="sim", traits=["trait1"], k=2,
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1,
                       dataset_options={"n_strains": "150", "n_markers": "300"},
                       model_options=FAST)
    summary = execute(plan_run(config, env.get_registry()), env=env)
    assert not summary.failed
    records = ResultStore(summary.run_dir).records()
    assert sorted({r["model"] for r in records}) == sorted(models) and len(records) == 10
    for r in records:
        assert np.isfinite(r["metrics"]["trait1"]["r2"])
    stack = [r for r in records if r["model"] == "stack"]
    assert all(set(r["fit_info"]["weights"]) == {"gblup", "svr"} for r in stack)
