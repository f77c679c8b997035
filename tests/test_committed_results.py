"""The README's result tables are what gpbench computes from the committed run records.

No figure in the README's results sections is typed by hand: each row must equal the summary
recomputed here from `leaderboard/yeast/results` and `leaderboard/collection/*/results`, and
the committed cross board's tables must equal a fresh computation from the same records.
"""
from pathlib import Path

import pandas as pd
import pytest

from gpbench.crossboard import load_cross_board
from gpbench.leaderboard import load_run, records_frame

ROOT = Path(__file__).parents[1]
COLLECTION = ROOT / "leaderboard" / "collection"


def _readme_table(section: str) -> list[list[str]]:
    """Cells of the first markdown table after the heading ``section`` in the README."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {section}\n")
    lines = text[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:  # skip header and rule
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def _model(cell: str) -> str:
    return cell.split(" (")[0]


@pytest.fixture(scope="module")
def collection_board():
    runs = sorted(p for p in COLLECTION.iterdir() if (p / "run.json").exists())
    assert len(runs) == 13, "leaderboard/collection should hold one run directory per dataset"
    return load_cross_board(runs)


def test_committed_cross_board_tables_are_recomputed_from_records(collection_board):
    saved = pd.read_csv(COLLECTION / "cross" / "tables" / "summary.csv", index_col=0)
    fresh = collection_board.summary
    assert list(saved.index) == list(fresh.index)
    for col in ("mean_rank", "wins", "r2_mean", "pcc_mean", "tasks"):
        assert saved[col].to_numpy() == pytest.approx(fresh[col].to_numpy(), abs=1e-9), col


def test_readme_collection_table_is_the_cross_board(collection_board):
    rows = _readme_table("Results across the collection")
    summary = collection_board.summary
    assert [_model(r[0]) for r in rows] == list(summary.index)
    for cells in rows:
        s = summary.loc[_model(cells[0])]
        assert cells[1:5] == [f"{s.mean_rank:.2f}", f"{int(s.wins)}", f"{s.r2_mean:.3f}",
                              f"{s.pcc_mean:.3f}"], cells[0]


def test_readme_yeast_table_is_the_committed_run():
    _, records = load_run(ROOT / "leaderboard" / "yeast")
    df = records_frame(records)
    r2 = df.groupby(["model", "trait"]).r2.agg(["mean", "std"])
    fit_s = df.groupby("model").fit_s.mean()
    rows = _readme_table("Results on the yeast data")
    assert sorted(_model(r[0]) for r in rows) == sorted(df.model.unique())
    for cells in rows:
        m = _model(cells[0])
        want = [f"{r2.loc[(m, t), 'mean']:.3f} ± {r2.loc[(m, t), 'std']:.3f}"
                for t in ("Lactate", "Lactose")]
        assert cells[1:3] == want, m
        assert cells[3] == f"{fit_s[m]:.1f} s", m
