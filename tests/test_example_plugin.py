"""The example plugin in examples/gpbench-knn works through its real entry-point declaration,
exactly as after `pip install -e examples/gpbench-knn`."""

from __future__ import annotations

import importlib.metadata as md
import sys
import tomllib
from pathlib import Path

import pytest

from gpbench.cli import main

EXAMPLE = Path(__file__).parents[1] / "examples" / "gpbench-knn"


@pytest.fixture
def knn_installed(monkeypatch):
    if "gpbench-knn" in {d.metadata["Name"] for d in md.distributions()}:
        yield  # really installed: nothing to fake
        return
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    declared = meta["project"]["entry-points"]["gpbench"]
    monkeypatch.syspath_prepend(str(EXAMPLE))
    eps = list(md.entry_points(group="gpbench")) + [
        md.EntryPoint(name, value, "gpbench") for name, value in declared.items()]
    monkeypatch.setattr("gpbench.plugins._entry_points", lambda: eps)
    yield
    sys.modules.pop("gpbench_knn", None)


def test_example_plugin_is_listed(knn_installed, capsys):
    assert main(["plugins"]) == 0
    assert "knn" in capsys.readouterr().out


def test_example_plugin_runs_through_the_cli_on_sim(knn_installed, tmp_path, capsys):
    out = tmp_path / "run"
    # inline: the faked installation exists in this process only (a real one reaches workers)
    inline = ["--executor", "inline"]
    assert main(["run", "--models", "knn,ridge", "--dataset", "sim", "--envs", "trait1",
                 "--dataset-option", "n_strains=150", "--dataset-option", "n_markers=300",
                 "--folds", "3", "--out", str(out), *inline]) == 0
    board = (out / "leaderboard.md").read_text()
    assert "| knn" in board or "knn " in board
    assert main(["run", "--models", "knn", "--dataset", "sim", "--envs", "trait1",
                 "--dataset-option", "n_strains=150", "--dataset-option", "n_markers=300",
                 "--folds", "3", "--tune", "3", "--out", str(tmp_path / "tuned"), *inline]) == 0
    assert main(["leaderboard", str(tmp_path / "tuned"), "--params"]) == 0
    board = (tmp_path / "tuned" / "leaderboard.md").read_text()
    assert "## Tuned parameters" in board and "k=" in board
