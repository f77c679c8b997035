"""Learning curves (``--train-fraction``): nested subsets of each training fold, the same for
every model and trait, the test fold unchanged, keys unchanged at 1.0, and the boards."""

from __future__ import annotations

import numpy as np
import pytest

from gpbench.api.errors import GpbenchError
from gpbench.running.executors import InlineExecutor
from gpbench.running.plan import RunConfig, execute, plan_run
from gpbench.running.protocol import FoldPlan, inner_validation_mask, training_subset_mask
from gpbench.running.runconfig import reproduce_command
from gpbench.running.units import config_hash, record_key
from gpbench.storage.records import ResultStore
from tests.conftest import TEST_ENV
from tests.helpers import run
from tests.plugins import spy

FRACTIONS = (0.3, 0.6, 1.0)


def test_subsets_are_nested_sized_and_independent_of_order():
    ids = [f"s{i}" for i in range(200)]
    masks = {f: training_subset_mask(ids, 0, 0, 1, f) for f in (0.1, 0.25, 0.5, 0.9, 1.0)}
    chosen = {f: {i for i, m in zip(ids, mask, strict=True) if m} for f, mask in masks.items()}
    for f, got in chosen.items():
        assert len(got) == round(f * len(ids))
    sizes = sorted(chosen)
    for small, large in zip(sizes, sizes[1:], strict=False):
        assert chosen[small] < chosen[large]
    shuffled = list(np.random.default_rng(3).permutation(ids))
    again = training_subset_mask(shuffled, 0, 0, 1, 0.25)
    assert {i for i, m in zip(shuffled, again, strict=True) if m} == chosen[0.25]
    # another fold or seed draws another subset; the inner split is not the subset
    assert chosen[0.25] != {i for i, m in zip(ids, training_subset_mask(ids, 0, 0, 2, 0.25),
                                               strict=True) if m}
    inner = inner_validation_mask(ids, 0, 0, 1, 0.25)
    assert 0 < (masks[0.25] & inner).sum() < masks[0.25].sum()


def _plan(registry, tmp_path, models, **kwargs):
    config = RunConfig(models=models, dataset="indexed", traits=["A", "B"], k=5,
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1, maf=0.0,
                       dataset_options={"n": "200"}, **kwargs)
    return plan_run(config, registry)


def test_units_see_nested_subsets_of_their_training_fold_only(registry, tmp_path):
    plan = _plan(registry, tmp_path, ["spy", "spy-val"], train_fractions=FRACTIONS)
    summary = execute(plan, executor=InlineExecutor(), env=TEST_ENV)
    assert not summary.failed
    assert len(spy.SEEN) == len(plan.units) == 2 * 2 * 5 * len(FRACTIONS)
    folds = FoldPlan.load(plan.fold_file, 5, 0)
    ids = np.asarray(plan.dataset.sample_ids)
    number = {s: i for i, s in enumerate(ids)}
    seen: dict[tuple, set[int]] = {}
    for unit, event in zip(plan.units, spy.SEEN, strict=True):  # inline: in plan order
        test = folds.test_mask(unit.repeat, unit.fold)
        train_ids = ids[~test]
        subset = {number[s] for s in train_ids[training_subset_mask(
            train_ids, unit.seed, unit.repeat, unit.fold, unit.train_fraction)]}
        measured = set(np.flatnonzero(plan.dataset.traits[unit.traits[0]].notna().to_numpy()))
        shown = set(event["fit"]) | set(event["valid"])
        # fit and validation rows are exactly the measured samples of the subset
        assert shown == subset & measured
        assert set(event["predict"]) == set(np.flatnonzero(test))  # the test fold unchanged
        assert not shown & set(event["predict"])
        if unit.model == "spy-val":
            assert event["valid"], "the inner validation comes out of the subset"
        seen[(unit.model, unit.traits, unit.fold, unit.train_fraction)] = subset
    for (model, traits, fold, fraction), subset in seen.items():
        # the same subset for the other model and the other trait; inside the larger shares
        assert subset == seen[("spy", ("A",), fold, fraction)]
        for larger in FRACTIONS:
            if larger > fraction:
                assert subset < seen[(model, traits, fold, larger)]


def test_key_unchanged_at_full_size_and_recorded(registry, tmp_path):
    plain = _plan(registry, tmp_path / "a", ["spy"])
    curve = _plan(registry, tmp_path / "b", ["spy"], train_fractions=(0.5, 1.0))
    full = [u for u in curve.units if u.train_fraction == 1.0]
    assert [u.config_hash for u in full] == [u.config_hash for u in plain.units]
    assert all("train_fraction" not in u.config() for u in plain.units)
    half = [u for u in curve.units if u.train_fraction == 0.5]
    assert all(u.config()["train_fraction"] == 0.5 for u in half)
    assert not {u.unit_id for u in half} & {u.unit_id for u in full}
    assert "train_fractions" not in plain.run_config
    assert "--train-fraction 0.5,1" in reproduce_command(curve.run_config)
    execute(curve, executor=InlineExecutor(), env=TEST_ENV)
    records = ResultStore(curve.store.run_dir).records()
    assert sorted({r["train_fraction"] for r in records}) == [0.5, 1.0]
    for rec in records:  # gpbench status --check: stored keys are current
        assert rec["config_hash"] == config_hash(record_key(rec, registry))


@pytest.mark.parametrize("fractions", [(0.0, 1.0), (1.5,), (0.5, 0.5), ()])
def test_bad_fractions_are_refused_before_any_work(registry, tmp_path, fractions):
    with pytest.raises(GpbenchError, match="--train-fraction"):
        _plan(registry, tmp_path, ["spy"], train_fractions=fractions)


def test_cli_refuses_a_fraction_that_is_not_a_number(capsys):
    from gpbench.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--models", "ridge", "--dataset", "sim", "--train-fraction", "0.1,x"])
    assert "comma-separated list of numbers" in capsys.readouterr().err


def test_sim_learning_curve_end_to_end(registry, tmp_path):
    from gpbench.boards.curves import curve_frame
    from gpbench.boards.report import write_report

    summary = run(registry, tmp_path, ["ridge", "gblup"], dataset="sim", traits=["trait1"],
                  k=3, train_fractions=(0.25, 1.0),
                  dataset_options={"n_strains": "150", "n_markers": "120", "n_qtl": "10",
                                   "missing": "0"})
    assert not summary.failed
    records = ResultStore(summary.run_dir).records()
    assert len(records) == 2 * 3 * 2
    df = curve_frame(records)
    n_train = df.groupby("fraction")["n_train"].mean()
    assert n_train[0.25] == pytest.approx(0.25 * n_train[1.0], abs=1)
    # the simulation knows the truth: records store it for the test samples, boards score it
    assert np.isfinite(df["r_g"]).all() and (df["r_g"] > df["r2"]).mean() > 0.5
    board = summary.leaderboard.read_text()
    assert "## Learning curves (accuracy against training size)" in board
    assert "## Against the true genetic values" in board
    # the ranked table counts each fold once: the full-size units only
    assert "| 3 " in board.split("## trait1")[1].split("\n\n")[1]
    assert (summary.run_dir / "tables" / "curves.csv").exists()
    report = write_report(summary.run_dir)
    text = report.read_text()
    assert "### Accuracy against training size" in text
    assert (report.parent / "training_size_trait1_r2.png").exists()
    assert (report.parent / "training_size_trait1_r_g.png").exists()
