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
