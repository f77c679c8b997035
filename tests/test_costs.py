"""``gpbench status --costs``: unit-seconds per model and run directory, with totals."""

from __future__ import annotations

from pathlib import Path

from gpbench.boards.status import ModelStatus, RunStatus, render_costs


def _run(name: str, seconds: dict[str, float]) -> RunStatus:
    return RunStatus(Path(name), [ModelStatus(name, m, 5, 5, 0, s) for m, s in seconds.items()])


def test_costs_table_sums_models_over_run_directories_most_expensive_first():
    table = render_costs([_run("wheat", {"gblup": 10.0, "rkhs": 30.0}),
                          _run("soynam", {"gblup": 1200.4, "rkhs": 2999.6, "mean": 0.2})])
    lines = [line.split() for line in table.splitlines()]
    assert lines[0] == ["unit-s", "wheat", "soynam", "total", "%"]
    assert lines[2:] == [["rkhs", "30", "3,000", "3,030", "71.4"],  # 3,029.6 of 4,240.2
                         ["gblup", "10", "1,200", "1,210", "28.5"],
                         ["mean", "0", "0", "0", "0.0"],
                         ["all", "40", "4,200", "4,240", "100.0"]]


def test_a_unit_records_cpu_seconds_and_its_cost_prefers_them(tmp_path):
    """Each record holds its process's CPU seconds beside the wall seconds of the same spans;
    a unit's cost is the CPU seconds where recorded (a shared machine's waits are not cost),
    else the wall seconds of records made before."""
    from gpbench.boards.status import _seconds
    from gpbench.cli import main
    from gpbench.storage.records import ResultStore, record_problem

    out = tmp_path / "run"
    assert main(["run", "--dataset", "sim", "--dataset-option", "n_strains=60",
                 "--dataset-option", "n_markers=80", "--models", "ridge", "--folds", "2",
                 "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-report",
                 "--executor", "inline"]) == 0
    records = list(ResultStore(out).records())
    assert records
    for rec in records:
        assert record_problem(rec) is None
        assert set(rec["cpu"]) == set(rec["timing"]) == {"preprocess_s", "fit_s", "predict_s"}
        assert all(v >= 0 for v in rec["cpu"].values())
        assert _seconds(rec) == sum(rec["cpu"].values())
    old = {k: v for k, v in records[0].items() if k != "cpu"}
    assert _seconds(old) == sum(old["timing"].values())
    assert record_problem({**records[0], "cpu": {"fit_s": "slow"}}) is not None


def test_status_prune_drops_only_the_records_of_unlisted_units(tmp_path, capsys):
    """`gpbench status --prune`: a record of a unit run.json no longer lists (an older
    version's, after a rerun) leaves the pack; every listed record stays, bit for bit."""
    from gpbench.boards.status import run_status
    from gpbench.cli import main
    from gpbench.storage.records import ResultStore

    out = tmp_path / "run"
    args = ["run", "--dataset", "sim", "--dataset-option", "n_strains=50",
            "--dataset-option", "n_markers=60", "--models", "ridge", "--folds", "2",
            "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-report",
            "--executor", "inline"]
    assert main(args) == 0
    store = ResultStore(out)
    listed = store.records()
    stray = {**listed[0], "unit_id": "ridge--trait1--r0f0--000000000000"}
    store.write(stray)
    store.pack()
    assert main(["leaderboard", str(out)]) == 0
    assert "belong to no unit listed" in (out / "leaderboard.md").read_text()
    assert run_status(out).stray == 1
    assert main(["status", str(out), "--prune"]) == 0
    assert "dropped 1 record" in capsys.readouterr().err
    assert run_status(out).stray == 0
    assert ResultStore(out).records() == listed
    # the board is rendered again: its footnote no longer counts the dropped record
    assert "belong to no unit listed" not in (out / "leaderboard.md").read_text()
