"""The protocol as seen by models: what they are shown, resume, failures, NaN handling."""

import json

import numpy as np
import pytest

from gpbench import DataConfig
from gpbench.protocol import FoldPlan
from gpbench.results import ResultStore
from tests.helpers import run
from tests.plugins import spy


def _test_samples(summary, repeat=0):
    plan = next((summary.run_dir / "folds").glob("*.csv"))
    folds = FoldPlan.load(plan, 5, 0)
    return {f: set(np.flatnonzero(folds.test_mask(repeat, f))) for f in range(5)}


@pytest.mark.parametrize("model", ["spy", "spy-val", "spy-mt"])
def test_test_fold_never_reaches_fit_or_validation(registry, tmp_path, model):
    summary = run(registry, tmp_path, [model], traits=["A", "B"])
    assert not summary.failed
    tests = _test_samples(summary)
    records = ResultStore(summary.run_dir).records()
    assert len(spy.SEEN) == len(records) > 0
    for event in spy.SEEN:
        fold = next(f for f, s in tests.items() if set(event["predict"]) == s)
        assert not set(event["fit"]) & tests[fold]
        assert not set(event["valid"]) & tests[fold]
        assert set(event["fit"]).isdisjoint(event["valid"])


def test_tuning_never_sees_the_test_fold(registry, tmp_path):
    from gpbench.runner import TuneConfig

    summary = run(registry, tmp_path, ["spy-val"], traits=["A"], tune=TuneConfig(4))
    assert not summary.failed
    tests = _test_samples(summary)
    final_events = [e for e in spy.SEEN if "predict" in e and set(e["predict"]) in
                    tests.values()]
    assert len(final_events) == 5
    assert len(spy.SEEN) == 5 * (4 + 1)  # 4 trials + 1 refit per fold
    test_union = set().union(*tests.values())
    for event in spy.SEEN:
        if event in final_events:
            continue
        fold_tests = [s for s in tests.values() if not (set(event["fit"]) | set(
            event["valid"]) | set(event["predict"])) & s]
        assert fold_tests, "a tuning trial saw samples of every test fold"
    rec = ResultStore(summary.run_dir).records()[0]
    assert rec["tuning"]["n_complete"] == 4 and "alpha" in rec["tuning"]["best_params"]
    assert test_union


def test_every_model_gets_identical_folds(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "ridge", "spy-mt"], traits=["A", "B"])
    records = ResultStore(summary.run_dir).records()
    assert len({r["fold_sha256"] for r in records}) == 1
    by_key: dict = {}
    for r in records:
        for trait, p in r["predictions"].items():
            by_key.setdefault((trait, r["fold"]), set()).add(tuple(sorted(p["sample"])))
    assert all(len(v) == 1 for v in by_key.values())


def test_nan_handling(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "spy-mt"], traits=["A", "B"])
    single = [e for e in spy.SEEN if e["n_traits"] == 1]
    multi = [e for e in spy.SEEN if e["n_traits"] == 2]
    assert single and multi
    assert all(e["fit_nan"] == 0 for e in single)  # single-trait: unmeasured strains dropped
    assert any(e["fit_nan"] > 0 for e in multi)  # multi-trait: NaN kept for masking
    ds = registry.dataset("indexed").load(DataConfig(tmp_path))
    for rec in ResultStore(summary.run_dir).records():
        for trait, p in rec["predictions"].items():
            assert not np.isnan(p["y_true"]).any()
            idx = [int(s[1:]) for s in p["sample"]]
            assert ds.traits[trait].iloc[idx].notna().all()


def test_resume_skips_finished_units(registry, tmp_path):
    first = run(registry, tmp_path, ["spy"], traits=["A"])
    assert first.done == 5 and first.skipped == 0
    spy.SEEN.clear()
    second = run(registry, tmp_path, ["spy"], traits=["A"])
    assert second.done == 0 and second.skipped == 5 and spy.SEEN == []
    # a changed option is a different unit: it runs
    third = run(registry, tmp_path, ["spy"], traits=["A"], model_options={"spy": {"alpha": 1}})
    assert third.done == 5


def test_failure_is_isolated_and_recorded(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                  model_options={"spy-val": {"fail": True}})
    assert summary.done == 5 and len(summary.failed) == 5
    failed = summary.failed[0]
    assert "boom on purpose" in failed["error"] and "Traceback" in failed["traceback"]
    board = summary.leaderboard.read_text()
    assert "Failed units" in board and "spy-val" in board
    # failed units are retried on the next run
    again = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"])
    assert again.skipped == 5 and again.done == 5


@pytest.mark.parametrize("bad,message", [("shape", "shape"), ("nan", "NaN")])
def test_bad_predictions_fail_with_a_clear_message(registry, tmp_path, bad, message):
    summary = run(registry, tmp_path, ["spy"], traits=["A"],
                  model_options={"spy": {"bad": bad}})
    assert len(summary.failed) == 5
    assert message in summary.failed[0]["error"] and "'spy'" in summary.failed[0]["error"]


def test_record_schema(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy"], traits=["A"])
    rec = json.loads(next((summary.run_dir / "results").glob("*.json")).read_text())
    for key in ("schema", "unit_id", "config_hash", "fold_sha256", "metrics", "predictions",
                "timing", "versions", "dataset_checksum", "status"):
        assert key in rec
    assert set(rec["metrics"]["A"]) >= {"r2", "pcc", "mse", "n_test", "n_train"}
    assert (summary.run_dir / "run.json").exists()


def test_unknown_model_option_is_rejected_before_running(registry, tmp_path):
    from gpbench.errors import GpbenchError

    with pytest.raises(GpbenchError, match="no option"):
        run(registry, tmp_path, ["spy"], traits=["A"], model_options={"spy": {"nope": 1}})


def test_run_directory_lock_refuses_a_second_writer(tmp_path):
    from gpbench.results import RunLockedError

    store = ResultStore(tmp_path)
    with store.lock():
        with pytest.raises(RunLockedError, match="another gpbench run"):
            with ResultStore(tmp_path).lock():
                pass


def test_tuning_trials_shared_by_several_processes(registry, tmp_path):
    from gpbench.runner import TuneConfig

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    summary = run(registry, tmp_path, ["ridge"], dataset="sim", traits=["trait1"],
                  dataset_options={"n_strains": "80", "n_markers": "100"}, k=2,
                  model_options={}, tune=TuneConfig(4, storage, jobs=2))
    assert not summary.failed
    import optuna

    names = optuna.get_all_study_names(storage)
    assert len(names) == 2  # one study per unit (2 folds)
    for name in names:
        study = optuna.load_study(study_name=name, storage=storage)
        assert len(study.trials) == 4
