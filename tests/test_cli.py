"""The command line as a user meets it."""

from __future__ import annotations

import pytest

from gpbench.cli import main
from gpbench.storage.records import ResultStore
from tests.helpers import unpack


def test_unknown_model_says_did_you_mean(capsys):
    assert main(["run", "--models", "laso", "--dataset", "sim"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'laso'" in err and "Did you mean 'lasso'" in err
    assert "ridge" in err  # the list of valid names


def test_unknown_trait_and_dataset(capsys, tmp_path):
    assert main(["run", "--models", "ridge", "--dataset", "sim", "--envs", "trait9",
                 "--out", str(tmp_path)]) == 2
    assert "unknown trait 'trait9'" in capsys.readouterr().err
    assert main(["run", "--models", "ridge", "--dataset", "yaest"]) == 2
    assert "Did you mean 'yeast'" in capsys.readouterr().err


def test_empty_trait_list_is_an_error(capsys, tmp_path):
    assert main(["run", "--models", "ridge", "--dataset", "sim", "--envs", ",",
                 "--out", str(tmp_path)]) == 2
    assert "trait list is empty" in capsys.readouterr().err


def test_run_then_leaderboard_from_stored_results(capsys, tmp_path):
    out = tmp_path / "run"
    args = ["run", "--models", "ridge,gblup", "--dataset", "sim", "--envs", "Trait1",
            "--dataset-option", "n_strains=120", "--dataset-option", "n_markers=300",
            "--folds", "3", "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "## trait1" in printed and "ridge" in printed and "gblup" in printed
    assert (out / "report" / "report.md").exists()
    (out / "leaderboard.md").unlink()
    assert main(["leaderboard", str(out)]) == 0
    assert main(["report", str(out), "-o", str(tmp_path / "rep")]) == 0
    assert list((tmp_path / "rep").glob("scatter_*.png"))
    assert "## trait1" in (out / "leaderboard.md").read_text()
    assert main(args) == 0
    assert "resuming: 6 of 6 units already done" in capsys.readouterr().err


def test_status_counts_done_failed_and_missing_units_without_running(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--models", "ridge,gblup", "--dataset", "sim", "--envs", "Trait1",
                 "--dataset-option", "n_strains=60", "--dataset-option", "n_markers=100",
                 "--folds", "3", "--out", str(out), "--cache-dir", str(tmp_path / "c"),
                 "--no-report"]) == 0
    capsys.readouterr()
    assert main(["status", str(out), "--check"]) == 0
    table = capsys.readouterr().out
    assert [line.split()[:5] for line in table.splitlines()[2:4]] == [
        ["sim", "ridge", "3", "0", "0"], ["sim", "gblup", "3", "0", "0"]]
    assert main(["status", str(out), "--costs"]) == 0
    costs = capsys.readouterr().out.splitlines()
    assert costs[0].split() == ["unit-s", "sim", "total", "%"]
    assert sorted(line.split()[0] for line in costs[2:]) == ["all", "gblup", "ridge"]

    unpack(out)  # the records as a run writes them before it packs them
    gblup = sorted((out / "results").glob("gblup--*.json"))
    gblup[0].unlink()  # a unit not run yet
    gblup[1].write_text("{")  # a record cut off mid-write
    (out / "results" / "gblup--Trait1--r0f9--000000000000.json").write_text(
        gblup[2].read_text().replace(gblup[2].stem, "gblup--Trait1--r0f9--000000000000"))
    records_before = sorted(p.name for p in (out / "results").iterdir())
    assert main(["status", str(out), str(out)]) == 0  # no --check: informational
    text = capsys.readouterr().out
    assert ["sim", "gblup", "1", "0", "2"] in [line.split()[:5] for line in text.splitlines()]
    assert "gblup: complete in 0 of 2 run directories; units left: sim (2), sim (2)" in text
    assert "1 result file(s) belong to no unit listed in run.json" in text
    assert f"unreadable record {gblup[1].name}" in text
    assert main(["status", str(out), "--check"]) == 1
    assert sorted(p.name for p in (out / "results").iterdir()) == records_before  # read only

    assert main(["status", str(tmp_path / "c")]) == 2
    assert "has no run.json listing its units" in capsys.readouterr().err
    assert main(["status", str(out), str(tmp_path / "c")]) == 0  # e.g. runs/*/ with cross/
    assert "skipped: " in capsys.readouterr().err


def test_records_copied_from_another_run_directory_are_not_rerun(capsys, tmp_path):
    def args(out, models):
        return ["run", "--models", models, "--dataset", "sim", "--envs", "Trait1",
                "--dataset-option", "n_strains=60", "--dataset-option", "n_markers=100",
                "--folds", "2", "--out", str(out), "--cache-dir", str(tmp_path / "c"),
                "--no-report"]

    assert main(args(tmp_path / "elsewhere", "ridge")) == 0  # another machine's run
    assert main(args(tmp_path / "here", "gblup")) == 0
    copied = tmp_path / "here" / "results" / "elsewhere.parquet"  # its pack, as a journal file
    copied.parent.mkdir(exist_ok=True)
    copied.write_bytes((tmp_path / "elsewhere" / "results.parquet").read_bytes())
    capsys.readouterr()
    assert main(args(tmp_path / "here", "gblup,ridge")) == 0
    assert "resuming: 4 of 4 units already done" in capsys.readouterr().err
    board = (tmp_path / "here" / "leaderboard.md").read_text()
    assert "ridge" in board and "gblup" in board


def test_failing_units_make_the_exit_code_non_zero(capsys, tmp_path):
    args = ["run", "--models", "lasso", "--dataset", "sim", "--envs", "trait1",
            "--dataset-option", "n_strains=60", "--dataset-option", "n_markers=100",
            # a value of the right type (a wrong type is refused before any unit) that the
            # model cannot fit with
            "--model-option", "lasso.n_alphas=0", "--folds", "2", "--out", str(tmp_path)]
    assert main(args) == 1
    assert "unit(s) failed" in capsys.readouterr().err


def test_list_shows_each_models_options_with_defaults(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "lasso: n_alphas=100" in out and "l1_ratio=1.0" in out
    assert "ridge: (none)" in out and "no search space" in out


def test_tune_metric_option_reaches_the_records(capsys, tmp_path):

    args = ["run", "--models", "elasticnet", "--dataset", "sim", "--envs", "trait1",
            "--dataset-option", "n_strains=150", "--dataset-option", "n_markers=60",
            "--folds", "2", "--tune", "2", "--tune-metric", "pcc", "--no-report",
            "--out", str(tmp_path / "run")]
    assert main(args) == 0
    recs = ResultStore(tmp_path / "run").records()
    assert recs and all(r["tuning"]["metric"] == "pcc" for r in recs)
    assert "--tune-metric pcc" in (tmp_path / "run" / "leaderboard.md").read_text()
    args[args.index("pcc")] = "r2"
    assert main(args) == 2
    assert "tune" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["list", "plugins"])
def test_listing_commands(capsys, command):
    assert main([command]) == 0
    out = capsys.readouterr().out
    assert "lasso" in out


def test_help_for_every_command(capsys):
    for command in ("run", "list", "plugins", "leaderboard", "report"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
    assert "--models" in capsys.readouterr().out


def test_ci_runs_the_readme_test_command_verbatim():
    from pathlib import Path

    root = Path(__file__).parents[1]
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    command = 'pip install -e ".[cpu,test]" && python -m pytest'
    assert command in readme and command in ci


def test_a_second_configuration_into_the_same_directory_is_refused(capsys, tmp_path):
    base = ["run", "--models", "ridge", "--dataset", "sim", "--envs", "trait1",
            "--dataset-option", "n_strains=60", "--dataset-option", "n_markers=40",
            "--no-report", "--out", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "c")]
    assert main([*base, "--folds", "2"]) == 0
    capsys.readouterr()
    assert main([*base, "--folds", "3"]) == 2
    err = capsys.readouterr().err
    assert "k: 2 -> 3" in err and "--out" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "folds" / "sim-k3-seed0-rep1.csv").exists()
    assert main([*base, "--folds", "2", "--models", "gblup"]) == 0  # adding a model is fine
    board = (tmp_path / "run" / "leaderboard.md").read_text()
    assert "--models ridge,gblup" in board
