"""--cv group:COLUMN: whole groups dealt into folds, recorded in the fold file, keys and boards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpbench.api.errors import DataError
from gpbench.api.types import Dataset
from gpbench.running.plan import RunConfig, execute, plan_run
from gpbench.running.protocol import (
    FoldPlan,
    cv_scheme,
    group_labels,
    make_folds,
    make_group_folds,
)
from gpbench.running.runconfig import reproduce_command
from gpbench.running.units import config_hash, record_key
from tests.conftest import TEST_ENV


@pytest.fixture
def multi_registry():
    from gpbench.running.units import Environment

    env = Environment(extra_plugins=(*TEST_ENV.extra_plugins, "tests.plugins.multi"),
                      load_entrypoints=False)
    return env.get_registry()


def _labels(sizes: list[int]) -> pd.Series:
    labels = [f"g{i}" for i, n in enumerate(sizes) for _ in range(n)]
    rng = np.random.default_rng(3)
    order = rng.permutation(len(labels))
    return pd.Series([labels[i] for i in order], index=[f"s{i:03d}" for i in range(len(labels))])


def test_groups_are_never_split_and_folds_are_balanced():
    labels = _labels([3, 5, 8, 8, 9, 10, 12, 14, 15, 20, 21, 30])
    plan = make_group_folds(labels, k=4, seed=1, repeats=3, scheme="group:family")
    assert plan.repeats == 3 and plan.scheme == "group:family"
    for r in range(3):
        fold = plan.assignment[f"repeat{r}"]
        assert (fold.groupby(labels.to_numpy()).nunique() == 1).all()  # one fold per group
        sizes = fold.value_counts()
        assert len(sizes) == 4 and sizes.max() - sizes.min() <= 30  # within one largest group
    assert not plan.assignment["repeat0"].equals(plan.assignment["repeat1"])
    again = make_group_folds(labels, k=4, seed=1, repeats=3, scheme="group:family")
    assert again.sha256 == plan.sha256  # seeded: the same folds every time
    assert make_group_folds(labels, k=4, seed=2, scheme="group:family").sha256 != plan.sha256


def test_grouped_fold_file_names_the_scheme_and_round_trips(tmp_path):
    labels = _labels([4, 4, 5, 6, 7])
    grouped = make_group_folds(labels, k=3, seed=0, scheme="group:family")
    random = make_folds(list(labels.index), k=3, seed=0)
    assert grouped.sha256 != random.sha256
    assert grouped.to_csv_bytes().splitlines()[0] == b"sample,repeat0,group:family"
    assert random.to_csv_bytes().splitlines()[0] == b"sample,repeat0"  # as before grouping
    path = tmp_path / "folds.csv"
    sha = grouped.save(path)
    back = FoldPlan.load(path, 3, 0)
    assert back.sha256 == sha and back.scheme == "group:family" and back.repeats == 1
    assert np.array_equal(back.test_mask(0, 1), grouped.test_mask(0, 1))
    random.save(path)
    assert FoldPlan.load(path, 3, 0).scheme == "random"


def test_group_errors_are_one_line_and_say_what_to_do():
    ds = Dataset("d", np.zeros((6, 2)), pd.DataFrame({"t": range(6)},
                                                     index=[f"s{i}" for i in range(6)]),
                 pd.DataFrame({"chrom": [None, None], "pos": [np.nan, np.nan]}), "1", "c",
                 groups=pd.DataFrame({"family": ["a", "a", "b", "b", None, "c"]},
                                     index=[f"s{i}" for i in range(6)]))
    with pytest.raises(DataError, match=r"no grouping 'famly'. Did you mean 'family'\?"):
        group_labels(ds, "group:famly")
    with pytest.raises(DataError, match=r"1 samples .* have no 'family' label"):
        group_labels(ds, "group:family")
    with pytest.raises(DataError, match="offers none"):
        group_labels(Dataset("e", ds.genotypes, ds.traits, ds.markers, "1", "c"), "group:x")
    with pytest.raises(DataError, match="2 groups cannot fill 3 folds; use --folds 2"):
        make_group_folds(pd.Series(["a", "a", "b"], index=["x", "y", "z"]), k=3,
                         scheme="group:family")
    with pytest.raises(DataError, match="--cv takes 'random' or 'group:COLUMN'"):
        cv_scheme("family")
    assert cv_scheme(" Group:cage ") == "group:cage" and cv_scheme("RANDOM") == "random"


def test_a_grouped_run_keeps_families_apart_and_names_the_scheme(multi_registry, tmp_path):
    config = RunConfig(models=["ridge"], dataset="sim-fam", traits=["trait1"],
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1, k=4,
                       cv="group:family")
    plan = plan_run(config, multi_registry)
    assert plan.fold_file.name == "sim-fam-k4-seed0-rep1-group-family.csv"
    family = plan.dataset.groups["family"].to_numpy()
    for fold in range(4):
        test = plan.folds.test_mask(0, fold)
        assert not set(family[test]) & set(family[~test])
    assert plan.run_config["cv"] == "group:family"
    assert "--cv group:family" in reproduce_command(plan.run_config)
    assert all(u.cv == "group:family" and u.config()["cv"] == "group:family"
               for u in plan.units)
    summary = execute(plan, env=TEST_ENV)
    board = summary.leaderboard.read_text()
    assert board.startswith("# Leaderboard: leave-family-out")
    assert "4-fold CV leave-family-out" in board
    from gpbench.storage.records import ResultStore

    records = list(ResultStore(tmp_path / "run").records())
    assert records and all(r["cv"] == "group:family" for r in records)
    # a stored record's key, rebuilt by today's code, is the key it was stored under
    assert all(config_hash(record_key(r, multi_registry)) == r["config_hash"] for r in records)

    from gpbench.boards.crossboard import cross_board, render_cross
    from gpbench.boards.leaderboard import load_run

    run, recs = load_run(tmp_path / "run")
    text = render_cross(cross_board([(tmp_path / "run", run, recs)]))
    assert "4-fold leave-family-out" in text


def test_random_cv_keeps_its_keys_and_run_config(multi_registry, tmp_path):
    config = RunConfig(models=["ridge"], dataset="sim-fam", traits=["trait1"],
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1, k=4)
    plan = plan_run(config, multi_registry)
    unit = plan.units[0]
    assert unit.cv == "random" and "cv" not in unit.config()  # keys as before --cv existed
    assert "cv" not in plan.run_config
    assert plan.fold_file.name == "sim-fam-k4-seed0-rep1.csv"
    assert "--cv" not in reproduce_command(plan.run_config)
    grouped = plan_run(RunConfig(models=["ridge"], dataset="sim-fam", traits=["trait1"],
                                 out=tmp_path / "g", cache_dir=tmp_path / "cache",
                                 n_threads=1, k=4, cv="group:family"), multi_registry)
    assert grouped.units[0].config_hash != unit.config_hash


def test_a_dataset_without_the_grouping_is_refused_before_any_unit(multi_registry, tmp_path):
    config = RunConfig(models=["ridge"], dataset="sim-a", traits=["trait1"],
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1,
                       cv="group:family")
    with pytest.raises(DataError, match="dataset 'sim-a' has no grouping 'family'"):
        plan_run(config, multi_registry)
    assert not (tmp_path / "run").exists()


def test_own_files_offer_their_text_and_ignored_columns_as_groupings(tmp_path):
    from gpbench import DataConfig
    from gpbench_files import load
    from gpbench_files.writers import write_matrix, write_phenotypes
    from tests.own_data import cross

    ids, dos, markers, traits = cross(n=40, p=30)
    geno = write_matrix(tmp_path / "geno.csv", ids, dos, markers)
    pheno = traits.copy()
    pheno["family"] = [f"fam{i % 6}" for i in range(40)]  # text: not a trait
    pheno["block"] = [i % 3 for i in range(40)]  # numeric: a grouping once ignored
    path = write_phenotypes(tmp_path / "pheno.csv", pheno)
    ds = load(DataConfig(tmp_path / "cache", options={"geno": str(geno), "pheno": str(path),
                                                      "ignore_columns": "block"}))
    assert set(ds.trait_names) == set(traits.columns)
    assert list(ds.groups.columns) == ["family", "block"]
    assert ds.groups.loc["ind007"].tolist() == ["fam1", "1"]
    plan = make_group_folds(group_labels(ds, "group:family"), k=3, scheme="group:family")
    fam = ds.groups["family"].to_numpy()
    for fold in range(3):
        test = plan.test_mask(0, fold)
        assert not set(fam[test]) & set(fam[~test])
