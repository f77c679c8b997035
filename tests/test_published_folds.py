"""--folds published: a dataset's own fold assignment, and what --dataset all selects."""

from __future__ import annotations

import json

import pytest

from gpbench.api.errors import DataError, GpbenchError
from gpbench.running.multirun import dataset_list
from gpbench.running.plan import RunConfig, plan_run
from gpbench.running.runconfig import reproduce_command
from tests.conftest import TEST_ENV


@pytest.fixture
def multi_registry():
    from gpbench.running.units import Environment

    env = Environment(extra_plugins=(*TEST_ENV.extra_plugins, "tests.plugins.multi"),
                      load_entrypoints=False)
    return env.get_registry()


def test_published_folds_are_the_datasets_own_assignment(multi_registry, tmp_path):
    config = RunConfig(models=["ridge"], dataset="sim-pub", traits=["trait1"],
                       out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1,
                       published_folds=True)
    plan = plan_run(config, multi_registry)
    assert plan.folds.k == 4 and len(plan.units) == 4
    column = plan.folds.assignment["repeat0"].tolist()
    assert column == [i % 4 for i in range(len(column))]  # labels 1..4 renumbered 0..3
    assert plan.fold_file.name == "sim-pub-published-k4.csv"
    run_config = plan.run_config
    assert run_config["published_folds"] is True
    assert "--folds published" in reproduce_command(run_config)


def test_published_folds_refused_where_a_dataset_has_none(multi_registry, tmp_path):
    config = RunConfig(models=["ridge"], dataset="sim-a", traits=["trait1"],
                       out=tmp_path / "run", cache_dir=tmp_path / "cache",
                       published_folds=True)
    with pytest.raises(DataError, match="publishes no fold assignment"):
        plan_run(config, multi_registry)
    with pytest.raises(GpbenchError, match="drop --repeats"):
        plan_run(RunConfig(models=["ridge"], dataset="sim-pub", out=tmp_path / "r2",
                           published_folds=True, repeats=2), multi_registry)


def test_cli_takes_folds_published(multi_registry, tmp_path, monkeypatch):
    from gpbench import cli

    monkeypatch.setattr("gpbench.plugins.load_registry", lambda *a, **k: multi_registry)
    out = tmp_path / "run"
    code = cli.main(["run", "--models", "ridge", "--dataset", "sim-pub", "--envs", "trait1",
                     "--folds", "published", "--out", str(out), "--no-report",
                     "--executor", "inline", "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    run = json.loads((out / "run.json").read_text())
    assert run["run_config"]["published_folds"] and run["run_config"]["k"] == 4
    assert "folds published with the dataset" in (out / "leaderboard.md").read_text()
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--models", "ridge", "--folds", "some"])


def test_all_selects_the_collection_only(multi_registry):
    names = multi_registry.names("dataset")
    collection = [n for n in names if multi_registry.dataset(n).in_collection]
    assert "sim" not in collection and "sim-pub" in collection and "yeast" in collection
    assert dataset_list("all", names, collection) == collection
    assert dataset_list("all,-yeast", names, collection) == [c for c in collection
                                                             if c != "yeast"]
