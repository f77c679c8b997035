"""Design effects inside a fold (gpbench.running.design): covariates and trial adjustment are
estimated on training rows only, test rows never shape them, and the v1 keys survive."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpbench import DataConfig
from gpbench.api.errors import DataError
from gpbench.running.design import (
    compact_trials,
    covariate_matrix,
    design_key,
    fit_design,
    read_covariates,
    trial_targets,
)
from gpbench.running.executors import InlineExecutor
from gpbench.running.plan import RunConfig, execute, plan_run
from gpbench.running.protocol import FoldPlan
from gpbench.running.units import Environment
from gpbench.storage.records import ResultStore
from tests.plugins import design_spy

ENV = Environment(extra_plugins=("gpbench_linear", "gpbench_metrics", "tests.plugins.design_spy"),
                  load_entrypoints=False)


def _records(n: int = 30, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, dict[str, float]]:
    rng = np.random.default_rng(seed)
    genetic = rng.normal(size=n)
    effect = {"a": 3.0, "b": -1.0, "c": -2.0}
    rows = [(f"s{i}", t, "Y", genetic[i] + effect[t])
            for i in range(n) for t in rng.choice(list(effect), size=2, replace=False)]
    return pd.DataFrame(rows, columns=["sample", "trial", "trait", "value"]), genetic, effect


def test_trial_effects_recovered_without_noise():
    records, genetic, effect = _records()
    ids = [f"s{i}" for i in range(30)]
    train = np.arange(30) % 5 != 0
    target, effects, info = trial_targets(records, ids, train)
    # effects sum to zero; targets are the genetic values plus the mean trial effect
    assert effects == pytest.approx({t: v for t, v in effect.items()}, abs=1e-9)
    assert target == pytest.approx(genetic, abs=1e-9)  # effects here already sum to zero
    assert info["test_records"] == 12 and info["test_records_dropped"] == 0


def test_test_records_never_shape_trial_effects():
    records, _, _ = _records(seed=1)
    ids = [f"s{i}" for i in range(30)]
    train = np.arange(30) % 3 != 0
    before, effects, _ = trial_targets(records, ids, train)
    changed = records.copy()
    test_ids = [s for s, t in zip(ids, train, strict=True) if not t]
    changed.loc[changed["sample"].isin(test_ids), "value"] *= -7.0
    after, effects_after, _ = trial_targets(changed, ids, train)
    assert effects_after == effects
    assert np.array_equal(after[train], before[train])
    assert not np.allclose(after[~train], before[~train])  # the test targets did change


def test_a_trial_without_training_records_drops_its_test_records():
    records = pd.DataFrame({"sample": ["s0", "s0", "s1", "s1", "s2", "s2"],
                            "trial": ["a", "b", "a", "b", "a", "z"], "trait": "Y",
                            "value": [1.0, 2.0, 3.0, 5.0, 4.0, 9.0]})
    target, effects, info = trial_targets(records, ["s0", "s1", "s2"],
                                          np.array([True, True, False]))
    assert "z" not in effects and info["test_records_dropped"] == 1
    assert target[2] == pytest.approx(4.0 - effects["a"])
    only_z = records[~((records["sample"] == "s2") & (records["trial"] == "a"))]
    target, _, info = trial_targets(only_z, ["s0", "s1", "s2"], np.array([True, True, False]))
    assert np.isnan(target[2]) and info["test_samples_without_target"] == 1


def test_an_unseen_set_takes_its_environments_mean_effect():
    """Trials named environment/set are nested: a test record in a set without training
    records (a leave-family-out fold) takes the mean training effect of the environment's sets,
    is counted as nested and not dropped; test values never shape that effect."""
    records = pd.DataFrame({
        "sample": ["s0", "s0", "s1", "s1", "s2", "s2", "s3", "s3"],
        "trial": ["E1/a", "E2/a", "E1/b", "E2/b", "E1/a", "E2/b", "E1/z", "E3/z"],
        "trait": "Y", "value": [1.0, 2.0, 3.0, 5.0, 4.0, 9.0, 6.0, 7.0]})
    ids, train = ["s0", "s1", "s2", "s3"], np.array([True, True, True, False])
    target, effects, info = trial_targets(records, ids, train)
    e1 = (effects["E1/a"] + effects["E1/b"]) / 2
    assert "E1/z" not in effects and info["test_records_nested"] == 1
    # E3 has no estimated trial at any level: that record is still dropped
    assert info["test_records_dropped"] == 1
    assert target[3] == pytest.approx(6.0 - e1)
    changed = records.assign(value=np.where(records["sample"] == "s3", -50.0, records["value"]))
    again, effects_again, _ = trial_targets(changed, ids, train)
    assert effects_again == effects and again[3] == pytest.approx(-50.0 - e1)


def test_records_of_non_samples_train_the_trial_effects():
    records = pd.DataFrame({"sample": ["s0", "s0", "check", "check", "s1"],
                            "trial": ["a", "b", "a", "c", "c"], "trait": "Y",
                            "value": [1.0, 3.0, 5.0, 9.0, 2.0]})
    target, effects, info = trial_targets(records, ["s0", "s1"], np.array([True, False]))
    assert set(effects) == {"a", "b", "c"} and info["test_records_dropped"] == 0
    assert np.isfinite(target).all()


def test_covariates_are_estimated_on_training_rows_and_added_back():
    n = 40
    sex = np.where(np.arange(n) % 2 == 0, "F", "M")
    rng = np.random.default_rng(2)
    y = np.where(sex == "M", 4.0, 0.0) + rng.normal(size=n) * 0.1
    cov = pd.DataFrame({"sex": sex.astype(object)}, index=[f"s{i}" for i in range(n)])
    train = np.arange(n) < 30
    fit = fit_design(y[:, None], ["W"], list(cov.index), train, covariates=cov)
    assert fit.summary["covariates"]["W"]["effects"]["sex=M"] == pytest.approx(4.0, abs=0.2)
    assert np.array_equal(fit.target[:, 0], y)  # the metric compares the phenotype
    assert np.allclose(fit.fit + fit.fixed, fit.target)
    y2 = y.copy()
    y2[~train] += 100.0
    cov2 = cov.copy()
    cov2.iloc[30:, 0] = "M"
    fit2 = fit_design(y2[:, None], ["W"], list(cov.index), train, covariates=cov2)
    assert fit2.summary == fit.summary
    assert np.array_equal(fit2.fit[train], fit.fit[train])


def test_unseen_or_missing_levels_take_the_average_effect():
    cov = pd.DataFrame({"g": ["a", "b", "a", "b", "c", None], "x": [1.0, 2.0, 3.0, np.nan,
                                                                      5.0, np.nan]})
    train = np.array([True, True, True, True, False, False])
    Z, names = covariate_matrix(cov, train)
    assert names == ["g=b", "x"]
    assert Z[4, 0] == Z[5, 0] == 0.5  # share of "b" among training rows
    assert Z[3, 1] == Z[5, 1] == 2.0  # training mean of x


def test_read_covariates_file_and_columns(tmp_path):
    path = tmp_path / "pheno.csv"
    path.write_text("id,W,sex,batch\ns1,1.5,F,x\ns0,2.0,M,y\nzz,3,F,x\n")
    table = read_covariates(str(path) + ":sex", ["s0", "s1", "s2"])
    assert list(table.columns) == ["sex"] and table["sex"].tolist()[:2] == ["M", "F"]
    assert pd.isna(table.loc["s2", "sex"])
    with pytest.raises(DataError, match="no column 'age'"):
        read_covariates(str(path) + ":age", ["s0"])
    with pytest.raises(DataError, match="none of its ids"):
        read_covariates(path, ["q"])


def test_design_key_is_empty_without_design_effects():
    records, _, _ = _records()
    assert design_key(None, None, ["Y"]) == {}
    assert design_key(None, records, ["other"]) == {}
    assert design_key(None, records, ["Y"])["trials"]


# ------------------------------------------------------------------ end to end (spy tests)


def _run(tmp_path: Path, name: str, **kwargs) -> Path:
    config = RunConfig(models=["target-spy"], dataset="design", out=tmp_path / name,
                       cache_dir=tmp_path / "cache", n_threads=1, maf=0.0, **kwargs)
    summary = execute(plan_run(config, ENV.get_registry()), executor=InlineExecutor(), env=ENV)
    assert not summary.failed, summary.failed[0]["error"]
    return summary.run_dir


def _by_fold(run_dir: Path) -> dict[tuple[str, int], dict]:
    return {(r["traits"][0], r["fold"]): r for r in ResultStore(run_dir).records()}


def test_test_rows_never_shape_the_design_estimates(tmp_path):
    design_spy.FITTED.clear()
    plain = _run(tmp_path, "plain", traits=["W", "Y"])
    fitted_plain = list(design_spy.FITTED)
    folds = FoldPlan.load(next((plain / "folds").glob("*.csv")), 5, 0)
    test0 = np.flatnonzero(folds.test_mask(0, 0))
    design_spy.FITTED.clear()
    perturbed = _run(tmp_path, "perturbed", traits=["W", "Y"],
                     dataset_options={"perturb": ",".join(map(str, test0))})
    a, b = _by_fold(plain), _by_fold(perturbed)
    for trait in ("W", "Y"):
        # fold 0: its test rows were changed, yet the estimates and training targets are not
        assert a[trait, 0]["design_fit"] == b[trait, 0]["design_fit"]
        assert a[trait, 0]["metrics"][trait]["n_train"] == b[trait, 0]["metrics"][trait]["n_train"]
        assert (a[trait, 0]["predictions"][trait]["y_true"]
                != b[trait, 0]["predictions"][trait]["y_true"])  # the test targets did change
        # another fold trains on the changed rows: its estimates move (the spy can fail)
        assert a[trait, 1]["design_fit"] != b[trait, 1]["design_fit"]
    seen_a = [e for e in fitted_plain if not set(e["fit"]) & set(test0)]
    seen_b = [e for e in design_spy.FITTED if not set(e["fit"]) & set(test0)]
    assert len(seen_a) == len(seen_b) == 2  # fold 0 of W and of Y
    assert [e["Y"] for e in seen_a] == [e["Y"] for e in seen_b]
    for event in design_spy.FITTED:  # and the test fold never reaches fit
        assert not set(event["fit"]) & set(event["predict"])
    rec = a["Y", 0]
    assert rec["design"]["trials"] and rec["design"]["covariates"] == ["sex"]
    trials = rec["design_fit"]["trials"]["Y"]
    assert "effects" not in trials and len(trials["effects_sha256"]) == 64  # stored compact
    assert trials["effects_max"] > 5  # a large trial effect
    assert "design effects" in (plain / "leaderboard.md").read_text()


def test_design_none_keeps_the_v1_key_and_scores_plain_targets(tmp_path):
    on = _by_fold(_run(tmp_path, "on", traits=["Y"]))
    off_dir = _run(tmp_path, "off", traits=["Y"], covariates="none", trials="none")
    off = _by_fold(off_dir)
    assert "design" not in off["Y", 0] and "design_fit" not in off["Y", 0]
    assert on["Y", 0]["unit_id"] != off["Y", 0]["unit_id"]
    run = json.loads((off_dir / "run.json").read_text())
    assert "design" not in run["run_config"]
    assert "--covariates none --trials none" in run_command_of(off_dir)
    # without design effects the unit's key is exactly the one it had before they existed
    from gpbench.running.units import KEY_FIELDS, PROTOCOL_VERSION, config_hash

    v1 = {"protocol_version": PROTOCOL_VERSION, **{f: off["Y", 0][f] for f in KEY_FIELDS}}
    assert config_hash(v1) == off["Y", 0]["config_hash"]
    # plain means are scored without design effects, trial-adjusted targets with them
    ds = design_spy.design_dataset(type("C", (), {"options": {}})())
    sample = off["Y", 0]["predictions"]["Y"]["sample"][0]
    assert off["Y", 0]["predictions"]["Y"]["y_true"][0] == ds.traits.loc[sample, "Y"]
    assert on["Y", 0]["predictions"]["Y"]["y_true"][0] != ds.traits.loc[sample, "Y"]


def run_command_of(run_dir: Path) -> str:
    from gpbench.running.runconfig import read_run, run_command

    return run_command(read_run(run_dir))


def test_a_covariate_file_replaces_the_declared_covariates(tmp_path):
    path = tmp_path / "cov.csv"
    path.write_text("sample,batch\n" + "".join(f"s{i},{i % 3}\n" for i in range(60)))
    rec = _by_fold(_run(tmp_path, "file", traits=["W"], covariates=str(path)))["W", 0]
    assert rec["design"]["covariates"] == ["batch"]
    assert list(rec["design_fit"]["covariates"]["W"]["effects"]) == ["batch"]


def test_parsed_cache_keeps_covariates_and_trial_records():
    from gpbench.data.datasource import Parsed, _from_arrays, _to_arrays

    ds = design_spy.design_dataset(type("C", (), {"options": {}})())
    parsed = Parsed(ds.genotypes, ds.traits, ds.markers,
                    covariates=pd.DataFrame({"sex": ds.covariates["sex"],
                                             "age": np.arange(60.0)}),
                    trial_records=ds.trial_records)
    back = _from_arrays(_to_arrays(parsed))
    assert back.covariates["sex"].tolist() == parsed.covariates["sex"].tolist()
    assert np.array_equal(back.covariates["age"], parsed.covariates["age"])
    pd.testing.assert_frame_equal(back.trial_records, parsed.trial_records)


def test_trial_effects_sum_to_zero_within_each_connected_group():
    # trials a, b share individuals; c, d share others; no individual links the two groups
    records = pd.DataFrame({"sample": ["s0", "s0", "s1", "s1", "s2", "s2", "s3", "s3"],
                            "trial": ["a", "b", "a", "b", "c", "d", "c", "d"], "trait": "Y",
                            "value": [1.0, 3.0, 2.0, 4.5, 10.0, 4.0, 12.0, 7.0]})
    _, effects, _ = trial_targets(records, ["s0", "s1", "s2", "s3"], np.ones(4, bool))
    assert effects["a"] + effects["b"] == pytest.approx(0, abs=1e-12)
    assert effects["c"] + effects["d"] == pytest.approx(0, abs=1e-12)
    assert effects["b"] - effects["a"] == pytest.approx(2.25)  # the mean within-line gap


@pytest.mark.parametrize("design", ["on", "off"])
def test_verify_replans_a_run_with_the_design_it_was_made_with(tmp_path, design):
    from gpbench.running.verify import verify_run

    off = {"covariates": "none", "trials": "none"} if design == "off" else {}
    run_dir = _run(tmp_path, design, traits=["Y"], **off)
    result = verify_run(run_dir, sample=None, cache_dir=tmp_path / "cache",
                        executor=InlineExecutor(), env=ENV)
    assert result.candidates == 5 and len(result.checks) == 5
    assert all(c.max_abs_diff == 0 for c in result.checks)


def test_own_files_take_covariates_from_a_column_of_the_phenotype_file(tmp_path, monkeypatch):
    from gpbench.cli import main
    from gpbench_files.writers import write_matrix, write_phenotypes
    from tests.own_data import cross, with_checkout_plugins

    with_checkout_plugins(monkeypatch, tmp_path / "dist")
    ids, dos, markers, traits = cross(40, 30, seed=2)
    traits = traits.iloc[:, :1].copy()
    sex = np.where(np.arange(40) % 2 == 0, "F", "M")
    traits.iloc[:, 0] += np.where(sex == "M", 10.0, 0.0)
    traits["sex"] = sex
    geno = write_matrix(tmp_path / "g.tsv", ids, dos, markers, sep="\t")
    pheno = write_phenotypes(tmp_path / "p.csv", traits, id_name="line")
    out = tmp_path / "run"
    assert main(["run", "--geno", str(geno), "--pheno", str(pheno), "--id-column", "line",
                 "--ignore-columns", "sex", "--covariates", f"{pheno}:sex", "--models",
                 "ridge", "--folds", "2", "--out", str(out), "--no-report"]) == 0
    records = ResultStore(out).records()
    assert len(records) == 2 and all(r["design"]["covariates"] == ["sex"] for r in records)
    effect = records[0]["design_fit"]["covariates"][traits.columns[0]]["effects"]["sex=M"]
    assert 8 < effect < 12
    assert f"--covariates {pheno}:sex" in run_command_of(out)


def test_declared_covariates_are_aligned_by_sample_id():
    from gpbench.running.design import design_inputs

    ds = design_spy.design_dataset(type("C", (), {"options": {}})())
    shuffled = ds.covariates.iloc[::-1]
    cov, _ = design_inputs(type("D", (), {"covariates": shuffled, "sample_ids": ds.sample_ids,
                                          "trial_records": None})())
    assert cov["sex"].tolist() == ds.covariates["sex"].tolist()


def test_records_store_trial_effects_as_digest_and_migrate_compacts_old_records(tmp_path):
    """A record holds each trait's trial effects as their sha256 and range; ``gpbench migrate``
    turns a record that stored them in full (gpbench before 2026-12-07) into exactly what a
    run stores today, the same digest from the same estimates."""
    from gpbench.plugins import load_registry
    from gpbench.running.migrate import migrate

    run_dir = _run(tmp_path, "run", traits=["Y"])
    store = ResultStore(run_dir)
    today = {r["unit_id"]: r for r in store.records()}
    # the same estimates, stored in full as old records did
    data = design_spy.design_dataset(DataConfig(cache_dir=tmp_path / "cache"))
    plan = FoldPlan.load(next((run_dir / "folds").glob("*.csv")), 5, 0)
    assert list(plan.assignment.index) == list(data.traits.index)
    for uid, rec in today.items():
        train = ~plan.test_mask(rec["repeat"], rec["fold"])
        full = fit_design(data.traits[["Y"]].to_numpy(), ["Y"], list(data.traits.index), train,
                          trial_records=data.trial_records).summary["trials"]["Y"]
        assert compact_trials(full) == rec["design_fit"]["trials"]["Y"], uid
        old = {**rec, "design_fit": {**rec["design_fit"], "trials": {"Y": full}}}
        store.write(old)
    assert all("effects" in r["design_fit"]["trials"]["Y"] for r in store.records())
    migrate(run_dir, load_registry())
    assert {r["unit_id"]: r for r in ResultStore(run_dir).records()} == today


def test_migrate_rekeys_first_scheme_records_that_dropped_no_test_record(tmp_path):
    """Records of the first trial scheme (which dropped what the second fills from the
    environment) that dropped nothing hold the second's numbers: ``gpbench migrate`` gives
    them exactly today's keys and records, and run.json today's design."""
    from gpbench.plugins import load_registry
    from gpbench.running.design import TRIALS_SCHEME, TRIALS_SCHEME_V1
    from gpbench.running.migrate import _own_key, migrate
    from gpbench.running.units import config_hash, unit_id

    run_dir = _run(tmp_path, "run", traits=["Y"])
    store = ResultStore(run_dir)
    today = {r["unit_id"]: r for r in store.records()}
    run = json.loads((run_dir / "run.json").read_text())
    assert run["run_config"]["design"]["trials"] == TRIALS_SCHEME
    old_ids = {}
    for uid, rec in today.items():
        info = {k: v for k, v in rec["design_fit"]["trials"]["Y"].items()
                if k != "test_records_nested"}
        old = {**rec, "design": {**rec["design"], "trials": TRIALS_SCHEME_V1},
               "design_fit": {**rec["design_fit"], "trials": {"Y": info}}}
        old["config_hash"] = config_hash(_own_key(old))
        old["unit_id"] = unit_id(old["model"], old["traits"], old["repeat"], old["fold"],
                                 old["config_hash"])
        old_ids[uid] = old["unit_id"]
        store.write(old)
    store.pack(keep=set(old_ids.values()))
    run["run_config"]["design"]["trials"] = TRIALS_SCHEME_V1
    run["units"] = [old_ids[u] for u in run["units"]]
    run["units_by_model"] = {m: [old_ids[u] for u in ids]
                             for m, ids in run["units_by_model"].items()}
    (run_dir / "run.json").write_text(json.dumps(run))
    assert set(ResultStore(run_dir).done_ids()) == set(old_ids.values())
    migrate(run_dir, load_registry())
    assert {r["unit_id"]: r for r in ResultStore(run_dir).records()} == today
    migrated = json.loads((run_dir / "run.json").read_text())
    assert migrated["run_config"]["design"]["trials"] == TRIALS_SCHEME
    assert sorted(migrated["units"]) == sorted(today)


def test_progress_line_says_when_trial_adjustment_drops_most_test_records():
    from gpbench.running.plan import _dropped_test_records

    def rec(dropped: int) -> dict:
        return {"design_fit": {"trials": {"yield": {"test_records": 100,
                                                    "test_records_dropped": dropped}}}}

    assert _dropped_test_records(rec(40)) == [] and _dropped_test_records({}) == []
    [(trait, note)] = _dropped_test_records(rec(93))
    assert trait == "yield" and "dropped 93 of 100 test records" in note
