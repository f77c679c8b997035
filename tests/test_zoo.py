"""The zoo models (rkhs, svr, rf, xgboost, stack) on small simulated data: shapes, seeds,
that they learn, and their correctness properties."""

from __future__ import annotations

import numpy as np
import pytest

import gpbench_linear
import gpbench_zoo
from gpbench import GpbenchError, ModelContext, ModelSpec
from gpbench.plugins import load_registry
from gpbench_linear.models import KernelRidge
from gpbench_zoo.rkhs import RKHS, edge_search, weight_candidates
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


@pytest.mark.parametrize("peak, chosen, fits", [
    ((0.7, 0.3, 0.0), (0.75, 0.25, 0.0), 5),   # stops at the first fall: (.5, .5) is worse
    ((0.1, 0.0, 0.9), (0.0, 0.0, 1.0), 4),     # the best single kernel: one step, then stop
    ((0.0, 0.4, 0.6), (0.0, 0.5, 0.5), 6),     # toward the second best, past the midpoint
])
def test_edge_search_walks_from_the_best_kernel_toward_the_second(peak, chosen, fits):
    seen = []

    def loglik(w):
        seen.append(w)
        return -float(np.sum((w - np.array(peak)) ** 2))

    w = edge_search(3, 4, loglik)
    assert np.allclose(w, chosen) and len(seen) == fits
    grid = weight_candidates(3, "grid", 4)
    assert all(any(np.array_equal(v, g) for g in grid) for v in seen)  # only grid points


def test_rkhs_edge_chooses_among_grid_points_with_fewer_fits(data):
    (X, Y), (Xt, _) = data
    grid = RKHS({"combine": "grid"}, ModelContext()).fit(X, Y)
    edge = RKHS({"combine": "edge"}, ModelContext()).fit(X, Y)
    assert 4 <= edge.fit_info["n_candidates"] <= 6
    assert edge.fit_info["reml_loglik"] <= grid.fit_info["reml_loglik"]
    if edge.fit_info["weights"] == grid.fit_info["weights"]:  # the same fit, bit for bit
        assert np.array_equal(edge.predict(Xt), grid.predict(Xt))


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
    for scheme in ("crossfit", "refit"):
        model = Stack({"base": "good,noise,missing", "inner_folds": 4, "scheme": scheme},
                      ctx).fit(*train)
        w = model.fit_info["weights"]
        assert all(v >= 0 for v in w.values())
        assert w["noise"] <= 0.05 * w["good"] and 0.7 < w["good"] < 1.3
        assert model.fit_info["skipped"] == ["missing: not registered"]
        assert _r2(Yt[:, 0], model.predict(Xt)[:, 0]) > 0.3


class _Recorder:
    """Ridge on columns 1: that records the sample numbers (column 0) of the rows it is fitted
    on (validation rows included) and of each ``predict`` call."""

    LOG: list[_Recorder] = []

    def __init__(self, options, context):
        self.zero = options.get("zero", False)

    def fit(self, X, Y, valid=None):
        rows = [X] + ([valid[0]] if valid else [])
        self.seen = {int(i) for R in rows for i in R[:, 0]}
        self.valid = valid is not None
        self.predicted: list[set[int]] = []
        A = np.c_[np.ones(len(X)), X[:, 1:]]
        self.coef = np.linalg.solve(A.T @ A + 10.0 * np.eye(A.shape[1]), A.T @ Y)
        _Recorder.LOG.append(self)
        return self

    def predict(self, X):
        self.predicted.append({int(i) for i in X[:, 0]})
        if self.zero:  # a useless member: its out-of-fold column is constant, so weight 0
            return np.zeros((len(X), 1))
        return np.c_[np.ones(len(X)), X[:, 1:]] @ self.coef


class _GoodOOF(KernelRidge):
    """GBLUP (with ``fit_oof``) on columns 1: (column 0 is the sample number)."""

    def __init__(self, options, context):
        super().__init__(options, context, "reml")

    def fit(self, X, Y, valid=None):
        return super().fit(X[:, 1:], Y)

    def fit_oof(self, X, Y, fold):
        self.oof_folds = len(np.unique(fold))
        return super().fit_oof(X[:, 1:], Y, fold)

    def predict(self, X):
        return super().predict(X[:, 1:])


def _recorder_registry():
    specs = {"good": ModelSpec("good", _GoodOOF),
             "rec": ModelSpec("rec", _Recorder),
             "rec-val": ModelSpec("rec-val", _Recorder, uses_validation=True),
             "zero": ModelSpec("zero", lambda o, c: _Recorder({"zero": True}, c))}
    return specs.__getitem__


@pytest.fixture(scope="module")
def indexed(data):
    """``data`` with the sample number as column 0 (train: 0..179, test: 1000..1059)."""
    (X, Y), (Xt, Yt) = data
    return ((np.c_[np.arange(len(X)), X].astype(np.float64), Y),
            (np.c_[1000 + np.arange(len(Xt)), Xt].astype(np.float64), Yt))


def test_stack_cross_fits_members_without_fit_oof_and_averages_their_fold_models(indexed):
    (X, Y), (Xt, _) = indexed
    _Recorder.LOG.clear()
    ctx = ModelContext(seed=0, get_model=_recorder_registry())
    model = Stack({"base": "good,rec,rec-val,zero", "inner_folds": 4, "scheme": "crossfit"},
                  ctx).fit(X, Y)
    info = model.fit_info
    assert info["scheme"] == "crossfit"
    assert info["oof_by"] == {"good": "fit_oof x 4", "rec": "cross-fit x 3",
                              "rec-val": "cross-fit x 3", "zero": "cross-fit x 3"}
    assert set(info["member_seconds"]) == {"good", "rec", "rec-val", "zero"}
    # 3 fold models per member without fit_oof and no refit on all rows
    assert len(_Recorder.LOG) == 3 * 3
    train = set(range(len(X)))
    for member in range(3):
        fold_models = _Recorder.LOG[3 * member: 3 * member + 3]
        held = [m.predicted[0] for m in fold_models]  # each fold model's first call: OOF
        assert set().union(*held) == train and sum(map(len, held)) == len(X)
        for m, rows in zip(fold_models, held, strict=True):
            assert rows.isdisjoint(m.seen)  # never fitted (nor validated) on what it predicts
            assert m.seen | rows == train  # fitted on the other folds (+ their valid. split)
            assert m.valid == (member == 1)
    # members with weight 0 (zero, and here rec-val beside the nearly equal rec) are dropped
    # with their fold models; the others are kept: the fit_oof fit, or 3 fold models
    w = model.weights
    assert w[3] == 0 and w[0] > 0 and w[1] > 0
    for j, models in enumerate(model.members):
        assert models is None if w[j] == 0 else len(models) == (1 if j == 0 else 3)
    # the fit_oof member's one fit is its final model: a plain fit's predictions, bit for bit
    plain = _GoodOOF({}, ModelContext(seed=0)).fit(X, Y)
    np.testing.assert_array_equal(model.members[0][0].predict(Xt), plain.predict(Xt))
    assert model.members[0][0].oof_folds == 4
    # a cross-fitted member predicts new rows by the mean of its fold models
    expect = model.intercept + w[0] * plain.predict(Xt)[:, 0]
    for j in (1, 2):
        if w[j] > 0:
            expect += w[j] * np.mean([f.predict(Xt)[:, 0] for f in model.members[j]], axis=0)
    np.testing.assert_allclose(model.predict(Xt)[:, 0], expect, rtol=1e-12, atol=1e-12)
    test_rows = {1000 + i for i in range(len(Xt))}
    assert all(test_rows in m.predicted for m in model.members[1])


def test_stack_refit_scheme_is_version_1(indexed):
    (X, Y), (Xt, _) = indexed
    _Recorder.LOG.clear()
    ctx = ModelContext(seed=0, get_model=_recorder_registry())
    model = Stack({"base": "good,rec,zero", "inner_folds": 4, "scheme": "refit"}, ctx).fit(X, Y)
    assert model.fit_info["oof_by"] == dict.fromkeys(["good", "rec", "zero"], "refit x 4")
    # 4 inner fits per member (fold by fold), then one refit on all rows of each member with
    # weight > 0 (rec; zero has weight 0 and is not refitted)
    assert len(_Recorder.LOG) == 2 * 4 + 1
    for m in _Recorder.LOG[:8]:
        assert m.predicted[0].isdisjoint(m.seen) and len(m.seen) == len(X) * 3 // 4
    final = _Recorder.LOG[8]
    assert final.seen == set(range(len(X))) and model.members[1] == [final]
    assert model.members[2] is None and model.weights[2] == 0
    with pytest.raises(GpbenchError, match="unknown scheme 'cv'"):
        Stack({"base": "good", "scheme": "cv"}, ctx)
    with pytest.raises(GpbenchError, match="cross_folds must be at least 2"):
        Stack({"base": "good", "cross_folds": 1}, ctx)


def test_nnls_weights_are_non_negative():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100)
    P = np.c_[y + rng.normal(0, 0.3, 100), -y, rng.normal(size=100)]
    w, b = nnls_weights(P, y + 5.0)
    assert np.all(w >= 0) and w[1] == 0 and w[0] > 0.5
    assert abs(b - (5.0 + y.mean() - P.mean(0) @ w)) < 1e-9


def test_stack_errors_without_usable_models():
    with pytest.raises(GpbenchError, match="none of the base models"):
        Stack({"base": "nope"}, ModelContext(get_model=_toy_registry()))
    with pytest.raises(GpbenchError, match="get_model"):
        Stack({}, ModelContext())


@pytest.mark.parametrize(("scheme", "tune"), [("refit", False), ("refit", True),
                                             ("crossfit", False), ("crossfit", True)])
def test_stack_never_sees_the_outer_test_fold(tmp_path, scheme, tune):
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
                       model_options={"stack": {"base": "spy,spy-val,spy-oof,nosuch",
                                                "inner_folds": 3, "scheme": scheme}},
                       tune=TuneConfig(1) if tune else None, maf=0.0)
    # in-process, so that the spy's record of what it saw is readable here
    summary = execute(plan_run(config, env.get_registry()), executor=InlineExecutor(), env=env)
    assert not summary.failed
    folds = FoldPlan.load(next((summary.run_dir / "folds").glob("*.csv")), 5, 0)
    tests = [set(np.flatnonzero(folds.test_mask(0, f))) for f in range(5)]
    records = list(ResultStore(summary.run_dir).records())
    kept = {r["fold"]: {m for m, w in r["fit_info"]["weights"].items() if w > 0}
            for r in records}
    oof_fits = [e for e in spy.SEEN if "oof_folds" in e]
    stack_fits = 5 * (2 if tune else 1)  # with tuning, a trial's stack fit per fold too
    if scheme == "crossfit":
        # per stack fit: spy-oof once (fit_oof on all rows) and 3 fold models (cross_folds)
        # of each of the other two, no refits (a trial's inner_folds: the folds of fit_oof)
        assert len(oof_fits) == stack_fits
        assert len(spy.SEEN) == stack_fits * (1 + 2 * 3)
        assert tune or all(e["oof_folds"] == 3 for e in oof_fits)
    else:
        # per stack fit: inner_folds (3; a trial draws 3, 5 or 10) fits of each of the 3
        # members, and a refit on all rows of each member with weight > 0
        assert not oof_fits
        if tune:
            assert stack_fits * 3 * 3 <= len(spy.SEEN) <= stack_fits * (10 * 3 + 3)
        else:
            assert len(spy.SEEN) == sum(3 * 3 + len(k) for k in kept.values())
    predicts_test = dict.fromkeys(range(5), 0)
    for event in spy.SEEN:
        shown = set(event["fit"]) | set(event["valid"])
        # a base model is built with its stack's seed, the outer fold's model seed (seed 0:
        # the fold's number); it never sees that fold's test rows
        own = tests[event["seed"] % 100]
        assert shown and not shown & own
        for called in event.get("predicts", []):
            predicted = set(called)
            if predicted == own:  # the outer test fold, by the final stack
                predicts_test[event["seed"]] += 1
            else:  # out-of-fold rows (or a trial's validation rows), never the fit's own
                assert predicted.isdisjoint(shown | own)
        if scheme == "crossfit" and "oof_folds" not in event and event.get("predicts"):
            # a fold model's first call predicts its held-out fold
            assert not set(event["predicts"][0]) & (shown | own)
    for record in records:
        info = record["fit_info"]
        # each member with weight > 0 predicts the test fold: its refit, fit_oof fit, or
        # each of its 3 fold models once
        n_kept, kept_oof = len(kept[record["fold"]]), "spy-oof" in kept[record["fold"]]
        if scheme == "crossfit":
            assert predicts_test[record["fold"]] == 3 * (n_kept - kept_oof) + kept_oof
            assert info["oof_by"] == {"spy": "cross-fit x 3", "spy-val": "cross-fit x 3",
                                      "spy-oof": f"fit_oof x {info['inner_folds']}"}
        else:
            assert predicts_test[record["fold"]] == n_kept
            assert set(info["oof_by"].values()) == {f"refit x {info['inner_folds']}"}
        assert info["scheme"] == scheme
        assert info["skipped"] == ["nosuch: not registered"]
        assert set(info["weights"]) == {"spy", "spy-val", "spy-oof"}
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


def test_a_stack_unit_is_rekeyed_when_a_member_version_changes(tmp_path):
    import dataclasses

    import gpbench_metrics
    import gpbench_sim
    from gpbench.running.plan import RunConfig, plan_run

    # a registry of its own (the host caches its registries), so its entries can be changed
    registry = load_registry([("sim", gpbench_sim), ("linear", gpbench_linear),
                              ("metrics", gpbench_metrics), ("zoo", gpbench_zoo)],
                             load_entrypoints=False)
    config = RunConfig(models=["stack"], dataset="sim", traits=["trait1"], k=2,
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1,
                       dataset_options={"n_strains": "60", "n_markers": "50"},
                       model_options={"stack": {"base": "gblup,svr"}})

    def unit_ids():
        return [u.unit_id for u in plan_run(config, registry).units]

    before = unit_ids()
    table = registry.entries["model"]
    table["svr"] = dataclasses.replace(
        table["svr"], spec=dataclasses.replace(table["svr"].spec, version="99"))
    after = unit_ids()
    assert len(before) == 2 and set(before).isdisjoint(after)
    table["rkhs"] = dataclasses.replace(  # not a member: the keys stay
        table["rkhs"], spec=dataclasses.replace(table["rkhs"].spec, version="99"))
    assert unit_ids() == after


def test_the_refit_scheme_keys_as_version_1_did():
    spec, ctx = REG.model("stack"), ModelContext()
    v1 = {"base": "gblup,lasso,gbm,bayesb", "inner_folds": 5, "valid_fraction": 0.2}
    assert spec.effective_options({}, ctx) == v1  # the keys of version-1 results stay
    assert spec.effective_options({"scheme": "refit", "cross_folds": 2}, ctx) == v1
    assert spec.effective_options({"scheme": "crossfit"}, ctx) == {
        **v1, "scheme": "crossfit", "cross_folds": 3}
