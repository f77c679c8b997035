"""The dataset and metric example plugins (examples/gpbench-toydata, examples/gpbench-spearman)
work through their real entry-point declarations, as after `pip install -e examples/...`; the
docs' "Writing plugins" pages show their code."""

from __future__ import annotations

import importlib.metadata as md
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from gpbench.boards.derive import registered_metrics
from gpbench.cli import main
from gpbench.storage.records import ResultStore

EXAMPLES = Path(__file__).parents[1] / "examples"


def _install(monkeypatch, folder: str, module: str) -> None:
    """Make the example's declared entry points visible, as an editable install would."""
    example = EXAMPLES / folder
    meta = tomllib.loads((example / "pyproject.toml").read_text())
    if meta["project"]["name"] in {d.metadata["Name"] for d in md.distributions()}:
        return  # really installed: nothing to fake
    declared = meta["project"]["entry-points"]["gpbench"]
    monkeypatch.syspath_prepend(str(example))
    monkeypatch.delitem(sys.modules, module, raising=False)
    eps = list(md.entry_points(group="gpbench")) + [
        md.EntryPoint(name, value, "gpbench") for name, value in declared.items()]
    monkeypatch.setattr("gpbench.plugins._entry_points", lambda: eps)


@pytest.fixture
def toydata(monkeypatch):
    _install(monkeypatch, "gpbench-toydata", "gpbench_toydata")


@pytest.fixture
def spearman(monkeypatch):
    _install(monkeypatch, "gpbench-spearman", "gpbench_spearman")
    registered_metrics.cache_clear()
    yield
    registered_metrics.cache_clear()


def test_dataset_example_lists_its_traits(toydata, capsys, tmp_path):
    assert main(["list", "--traits", "toy-lines", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "80" in out and "50" in out and "height" in out and "yield" in out


def test_dataset_example_runs_through_the_protocol(toydata, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--models", "ridge,mean", "--dataset", "toy-lines", "--folds", "3",
                 "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                 "--executor", "inline", "--no-report"]) == 0
    records = [r for r in ResultStore(out).records() if r["model"] == "ridge"]
    assert len(records) == 3 and {r["status"] for r in records} == {"ok"}
    # the default trait only; 76 lines are phenotyped, the 4 others are never scored
    assert {t for r in records for t in r["metrics"]} == {"height"}
    assert sum(r["metrics"]["height"]["n_test"] for r in records) == 76
    r2 = np.mean([r["metrics"]["height"]["r2"] for r in records])
    assert r2 > 0.3, r2  # the simulated trait is mostly genetic: ridge must find it


def test_metric_example_is_stored_and_derived_from_predictions(spearman, capsys, tmp_path):
    assert main(["list"]) == 0
    assert "spearman" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["run", "--models", "ridge", "--dataset", "sim", "--envs", "trait1",
                 "--dataset-option", "n_strains=90", "--dataset-option", "n_markers=120",
                 "--folds", "3", "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                 "--executor", "inline", "--no-report"]) == 0
    for rec in ResultStore(out).records():
        pred = rec["predictions"]["trait1"]
        want = spearmanr(pred["y_true"], pred["y_pred"]).statistic
        assert rec["metrics"]["trait1"]["spearman"] == pytest.approx(want, abs=1e-12)


def test_metric_example_can_drive_tuning(spearman, tmp_path):
    out = tmp_path / "tuned"
    assert main(["run", "--models", "elasticnet", "--dataset", "sim", "--envs", "trait1",
                 "--dataset-option", "n_strains=90", "--dataset-option", "n_markers=120",
                 "--folds", "2", "--tune", "2", "--tune-metric", "spearman", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache"), "--executor", "inline",
                 "--no-report"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert "spearman" in json.dumps(run)
