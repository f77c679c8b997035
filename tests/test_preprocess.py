"""Marker QC and imputation: fitted on training rows only, for every dosage coding."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gpbench import ModelContext, ModelSpec
from gpbench.api.errors import DataError
from gpbench.data.preprocess import FoldPreprocessor
from gpbench.running.fitting import fit_predict
from gpbench.storage.records import ResultStore
from tests.helpers import run


def _coded(lo: float, hi: float, p_rare: float, n: int = 400, seed: int = 0) -> np.ndarray:
    """Three markers in the coding lo..hi: common (p=0.5), rare (p_rare), constant."""
    rng = np.random.default_rng(seed)
    levels = np.linspace(lo, hi, 3) if hi - lo == 2 else np.array([lo, hi], float)
    common = rng.choice(levels, size=n)
    rare = np.full(n, lo)
    rare[: int(round(p_rare * n))] = hi  # allele frequency p_rare (hi is the full dosage)
    return np.c_[common, rare, np.full(n, levels[1 if len(levels) == 3 else 0])]


@pytest.mark.parametrize("lo,hi", [(0, 1), (0, 2), (-1, 1), (0, 4)])
def test_maf_filter_works_in_every_coding(lo, hi):
    X = _coded(lo, hi, p_rare=0.005)
    X[0, 0], X[1, 0] = lo, hi  # the matrix spans the full dosage range
    pre = FoldPreprocessor.fit(X, maf=0.01)
    assert (pre.lo, pre.hi) == (lo, hi)
    assert pre.keep.tolist() == [True, False, False]  # rare and constant markers dropped
    kept = FoldPreprocessor.fit(_coded(lo, hi, p_rare=0.05), maf=0.01)
    assert kept.keep.tolist() == [True, True, False]


def test_call_rate_all_missing_and_imputation():
    X = np.array([[0, 1, np.nan, 0, 1],
                  [1, np.nan, np.nan, 1, 1],
                  [1, np.nan, np.nan, 0, 1],
                  [0, 0, np.nan, np.nan, 1]], dtype=np.float32)
    pre = FoldPreprocessor.fit(X, min_call_rate=0.6)
    # marker 1: call rate 0.5 < 0.6; marker 2: no call; marker 4: constant
    assert pre.keep.tolist() == [True, False, False, True, False]
    assert pre.means[0] == pytest.approx(0.5) and pre.means[3] == pytest.approx(1 / 3)
    out = pre.transform(X)
    assert out.shape == (4, 2) and out.dtype == np.float32 and np.isfinite(out).all()
    assert out[3, 1] == pytest.approx(1 / 3)
    assert np.isnan(X[3, 3])  # the input is never modified


def test_transform_passes_clean_data_through_without_a_copy():
    X = np.random.default_rng(0).integers(0, 2, size=(50, 30)).astype(np.int8)
    pre = FoldPreprocessor.fit(X, maf=0.01, min_call_rate=0.5)
    assert pre.keep.all() and pre.transform(X) is X
    Xf = X.astype(np.float32)
    assert FoldPreprocessor.fit(Xf).transform(Xf) is Xf
    Xn = Xf.copy()
    Xn[0, 0] = np.nan  # a missing call in rows to transform is imputed even so
    out = pre.transform(Xn)
    assert out is not Xn and out[0, 0] == pytest.approx(pre.means[0])


def test_to_dict_round_trips_through_json():
    X = np.array([[0, np.nan, 2, 1], [1, np.nan, 0, 1], [2, np.nan, 1, 1]])
    pre = FoldPreprocessor.fit(X, maf=0.05)
    back = FoldPreprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert back.keep.tolist() == pre.keep.tolist()
    np.testing.assert_array_equal(back.means, pre.means)  # NaN mean of the empty marker too
    Z = np.array([[np.nan, 1.0, np.nan, 1.0]])
    np.testing.assert_array_equal(back.transform(Z), pre.transform(Z))


def test_nothing_left_or_bad_thresholds_are_clear_errors():
    with pytest.raises(DataError, match="no marker passes QC"):
        FoldPreprocessor.fit(np.ones((5, 3)))
    with pytest.raises(DataError, match="--maf"):
        FoldPreprocessor.fit(np.eye(3), maf=0.7)


class _Capture:
    """A model that keeps what it was given."""

    last: dict = {}

    def __init__(self, options, context):
        self.context = context

    def fit(self, X, Y, valid=None):
        _Capture.last = {"X": X, "valid": valid, "markers": self.context.markers}

    def predict(self, X):
        _Capture.last["X_pred"] = X
        return np.zeros(len(X))


def test_test_rows_never_feed_the_filters_or_the_means():
    """Extreme values and NaN patterns only in the rows to predict change nothing fitted."""
    rng = np.random.default_rng(3)
    n, p = 40, 6
    X = rng.integers(0, 2, size=(n, p)).astype(np.float32)
    test = np.zeros(n, bool)
    test[30:] = True
    valid = np.zeros(n, bool)
    valid[24:30] = True
    fit = ~test & ~valid
    X[~test, 1] = 1.0  # constant in training, varies in the test rows
    X[test, 1] = rng.integers(0, 2, size=test.sum())
    X[~test, 2] = np.nan  # never called in training, called in the test rows
    X[test, 2] = 1.0
    X[test, 3] = 1000.0  # extreme test values must not move the training mean
    X[4, 3] = np.nan  # ... that fills this training row's missing call
    X[test, 4] = np.nan  # missing only in the test rows
    X[:2, 5] = np.nan  # missing in training: imputed with the training mean
    train_mean = {j: float(np.nanmean(X[~test, j])) for j in (0, 3, 4, 5)}
    markers = pd.DataFrame({"chrom": ["c1"] * p, "pos": np.arange(p)},
                           index=[f"m{j}" for j in range(p)])
    spec = ModelSpec("capture", _Capture, uses_validation=True)
    pred, info, _ = fit_predict(spec, {}, ModelContext(markers=markers), X,
                                rng.normal(size=(n, 1)), fit, valid, test, "capture",
                                maf=0.01, min_call_rate=0.5)
    got = _Capture.last
    assert list(got["markers"].index) == ["m0", "m3", "m4", "m5"]
    assert info["preprocess"]["markers_dropped"] == 2
    assert got["X"].shape == (fit.sum(), 4) and np.isfinite(got["X"]).all()
    assert np.isfinite(got["valid"][0]).all() and np.isfinite(got["X_pred"]).all()
    # test column 4 was all NaN: filled with the mean of the training rows, not of the test
    assert got["X_pred"][:, 2] == pytest.approx(np.full(test.sum(), train_mean[4]))
    assert got["X"][:2, 3] == pytest.approx([train_mean[5]] * 2)
    assert 0.0 < train_mean[3] < 1.0 and got["X"][4, 1] == pytest.approx(train_mean[3])
    assert got["X_pred"][:, 1] == pytest.approx(np.full(test.sum(), 1000.0))  # kept as given
    assert pred.shape == (test.sum(), 1)


def test_a_run_fits_the_qc_on_training_rows_only(registry, tmp_path, monkeypatch):
    """Spy on the preprocessor in a real run: column 0 of `indexed` is the sample number."""
    import gpbench.running.fitting
    from gpbench.running.executors import InlineExecutor
    from gpbench.running.protocol import FoldPlan

    seen: list[set[int]] = []
    real_fit = FoldPreprocessor.fit

    def spy_fit(X_train, maf=0.0, min_call_rate=0.0):
        seen.append(set(X_train[:, 0].astype(int).tolist()))
        return real_fit(X_train, maf, min_call_rate)

    monkeypatch.setattr(gpbench.running.fitting.FoldPreprocessor, "fit", staticmethod(spy_fit))
    summary = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                  executor=InlineExecutor())
    assert not summary.failed and len(seen) == 10
    folds = FoldPlan.load(next((summary.run_dir / "folds").glob("*.csv")), 5, 0)
    tests = [set(np.flatnonzero(folds.test_mask(0, f))) for f in range(5)]
    for rows in seen:
        assert sum(not rows & t for t in tests) == 1  # disjoint from exactly its test fold


BUILTIN = ("gpbench_sim", "gpbench_linear", "gpbench_metrics", "gpbench_gbm",
           "gpbench_transformer")
TINY_TRANSFORMER = {"profile": "fast", "window": 8, "embed_dim": 8, "n_heads": 2,
                    "ff_dim": 16, "batch_size": 16, "max_epochs": 3, "patience": 3}


def test_missing_genotypes_run_end_to_end_with_every_builtin_model(tmp_path):
    from gpbench.running.executors import InlineExecutor
    from gpbench.running.plan import RunConfig, execute, plan_run
    from gpbench.running.units import Environment

    env = Environment(extra_plugins=BUILTIN, load_entrypoints=False)
    registry = env.get_registry()
    models = registry.names("model")
    assert {"ridge", "gblup", "lasso", "elasticnet", "mean", "gbm", "transformer",
            "transformer-mt"} <= set(models)
    config = RunConfig(
        models=models, dataset="sim", traits=["trait1", "trait2"], k=2,
        out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1,
        dataset_options={"n_strains": "80", "n_markers": "60", "missing_geno": "0.1"},
        model_options={"transformer": TINY_TRANSFORMER, "transformer-mt": TINY_TRANSFORMER,
                       "gbm": {"num_boost_round": 40, "early_stopping_rounds": 10}})
    plan = plan_run(config, registry)
    assert np.isnan(plan.dataset.genotypes).mean() == pytest.approx(0.1, abs=0.02)
    summary = execute(plan, executor=InlineExecutor(), env=env)
    assert not summary.failed, [f["error"] for f in summary.failed]
    records = ResultStore(summary.run_dir).records()
    assert {r["model"] for r in records} == set(models)
    for r in records:
        for m in r["metrics"].values():
            assert np.isfinite(m["r2"])
