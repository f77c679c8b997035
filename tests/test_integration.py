"""End to end on the real yeast data (skipped when the files are not available)."""

from __future__ import annotations

import pytest

from gpbench.cli import main
from gpbench.storage.records import ResultStore

pytestmark = pytest.mark.integration


def test_cli_run_on_yeast_resumes_and_scores_sensibly(tmp_path, yeast_dir, capsys):
    out = tmp_path / "run"
    args = ["run", "--models", "ridge,gblup", "--envs", "lactate,Lactose",
            "--data-dir", str(yeast_dir), "--out", str(out),
            "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    board = (out / "leaderboard.md").read_text()
    assert "## Lactate" in board and "## Lactose" in board
    assert "Published figures for Lactate (not run here" in board
    assert "variance-component estimate, not a prediction" in board  # protocol shown
    records = ResultStore(out).records()
    assert len(records) == 2 * 2 * 5 and all(r["status"] == "ok" for r in records)
    for trait in ("Lactate", "Lactose"):
        r2 = [r["metrics"][trait]["r2"] for r in records if trait in r["metrics"]]
        # additive kernel models explain a good part of these highly heritable traits
        assert sum(r2) / len(r2) > 0.4
    n_test = sum(r["metrics"]["Lactate"]["n_test"] for r in records
                 if r["model"] == "ridge" and "Lactate" in r["metrics"])
    assert n_test == 973  # every measured strain is tested exactly once
    capsys.readouterr()
    assert main(args) == 0
    assert "resuming: 20 of 20 units already done" in capsys.readouterr().err


def test_committed_fold_file_is_what_gpbench_makes(tmp_path, yeast_dir):
    """datasets/folds/ holds the folds of the committed leaderboard; the code must agree."""
    from pathlib import Path

    import gpbench_yeast
    from gpbench import DataConfig
    from gpbench.running.protocol import make_folds

    saved = Path(__file__).parents[1] / "datasets" / "folds" / "yeast-k5-seed0-rep1.csv"
    ds = gpbench_yeast.load(DataConfig(tmp_path / "cache", yeast_dir))
    assert make_folds(ds.sample_ids, 5, seed=0).to_csv_bytes() == saved.read_bytes()
