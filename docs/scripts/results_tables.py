"""Rewrite the result tables of docs/results.md and README.md from the committed records:
yeast's board and the cross boards of leaderboard/collection (v1) and leaderboard/v2.

    PYTHONPATH=benchmark:plugins python docs/scripts/results_tables.py [--check]

Each table sits between ``<!-- begin NAME table ... -->`` and ``<!-- end NAME table -->``;
only those lines change. ``--check`` writes nothing and exits 1 when a table is stale.
tests/test_committed_results.py checks the same tables cell by cell against the records.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
PAGES = {ROOT / "docs" / "results.md": ("yeast", "collection", "v2"),
         ROOT / "README.md": ("collection", "v2")}
# the cross boards behind the tables of that name: every run directory under the folder
BOARDS = {"collection": ROOT / "leaderboard" / "collection", "v2": ROOT / "leaderboard" / "v2"}
LABELS = {"transformer": "transformer (fast)", "transformer-mt": "transformer-mt (fast)",
          "mean": "mean (null model)"}


def yeast_table() -> list[str]:
    """Mean ± sd of R² per headline trait and mean fit seconds, best mean over both first."""
    from gpbench.boards.leaderboard import load_run, records_frame

    _, records = load_run(ROOT / "leaderboard" / "yeast")
    df = records_frame(records)
    r2 = df.groupby(["model", "trait"]).r2.agg(["mean", "std"])
    fit_s = df.groupby("model").fit_s.mean()
    order = r2["mean"].unstack()[["Lactate", "Lactose"]].mean(axis=1).sort_values(
        ascending=False, kind="stable")
    rows = ["| model | Lactate R² | Lactose R² | mean fit time (1 thread) |", "|---|---|---|---|"]
    for m in order.index:
        cells = [f"{r2.loc[(m, t), 'mean']:.3f} ± {r2.loc[(m, t), 'std']:.3f}"
                 for t in ("Lactate", "Lactose")]
        rows.append(f"| {LABELS.get(m, m)} | {' | '.join(cells)} | {fit_s[m]:.1f} s |")
    return rows


def cross_table(folder: Path) -> list[str]:
    """The summary of the cross board of ``folder``'s run directories: mean rank, wins, mean R²
    and PCC, in the board's order."""
    import math

    from gpbench.boards.crossboard import load_cross_board
    from gpbench.boards.leaderboard import declared_null_models, declared_reference

    runs = sorted(p for p in folder.iterdir() if (p / "run.json").exists())
    # as `gpbench leaderboard` writes it: the declared null model shown but not ranked ("–")
    summary = load_cross_board(runs, reference=declared_reference(),
                               null_models=declared_null_models()).summary
    rows = ["| model | mean rank | wins | mean R² | mean PCC |", "|---|---|---|---|---|"]
    for m, s in summary.iterrows():
        label = LABELS["mean"] if m == "mean" else m
        ranked = not math.isnan(s.mean_rank)
        rank, wins = (f"{s.mean_rank:.2f}", f"{int(s.wins)}") if ranked else ("–", "–")
        rows.append(f"| {label} | {rank} | {wins} | {s.r2_mean:.3f} | {s.pcc_mean:.3f} |")
    return rows


def replace_table(text: str, name: str, rows: list[str], page: Path) -> str:
    """``text`` with the lines between the ``name`` table's markers replaced by ``rows``."""
    pattern = re.compile(rf"(<!-- begin {name} table[^\n]*-->\n)(.*?)(<!-- end {name} table -->)",
                         re.S)
    if not pattern.search(text):
        raise SystemExit(f"{page}: no '<!-- begin {name} table' ... '<!-- end {name} table -->'"
                         " markers; put them back around the table")
    return pattern.sub(lambda m: m.group(1) + "\n".join(rows) + "\n" + m.group(3), text)


def main(argv: list[str]) -> int:
    tables = {"yeast": yeast_table(), **{name: cross_table(folder)
                                          for name, folder in BOARDS.items()}}
    stale = False
    for page, names in PAGES.items():
        text = fresh = page.read_text()
        for name in names:
            fresh = replace_table(fresh, name, tables[name], page)
        if fresh == text:
            continue
        if "--check" in argv:
            print(f"{page}: tables differ from the records; run {__file__}", file=sys.stderr)
            stale = True
        else:
            page.write_text(fresh)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
