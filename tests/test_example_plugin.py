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


def test_compare_your_model_with_a_board(knn_installed, tmp_path, capsys):
    """The tutorial of examples/gpbench-knn/README.md: `gpbench compare` runs only the new
    model on each of a board's run directories (its folds and protocol), reads every other
    unit from the board, and writes the board across datasets with it; the board is not
    touched."""
    from gpbench.storage.records import ResultStore

    board = tmp_path / "board"
    for name, n in (("small", 80), ("large", 120)):
        assert main(["run", "--models", "ridge,mean", "--dataset", "sim", "--envs", "trait1",
                     "--dataset-option", f"n_strains={n}", "--dataset-option",
                     "n_markers=200", "--folds", "3", "--out", str(board / name),
                     "--executor", "inline", "--no-report"]) == 0
    before = {p: p.read_bytes() for p in board.rglob("*") if p.is_file()}
    kept = {name: {r["unit_id"]: r for r in ResultStore(board / name).records()}
            for name in ("small", "large")}
    capsys.readouterr()
    out = tmp_path / "mine"
    assert main(["compare", "--models", "knn", "--board", str(board), "-o", str(out),
                 "--executor", "inline"]) == 0
    assert {p: p.read_bytes() for p in board.rglob("*") if p.is_file()} == before
    for name in ("small", "large"):
        records = {r["unit_id"]: r for r in ResultStore(out / name).records()}
        assert sum(r["model"] == "knn" for r in records.values()) == 3
        for uid, rec in kept[name].items():  # the board's units are read, not rerun
            assert records[uid]["predictions"] == rec["predictions"]
    cross = (out / "cross" / "leaderboard.md").read_text()
    assert "knn" in cross and "ridge" in cross
    assert main(["compare", "--models", "knn", "--board", str(board), "-o", str(out),
                 "--executor", "inline"]) == 2  # a used -o directory is refused
