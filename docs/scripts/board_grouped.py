"""Write the random -> grouped table of board v2 (issue #29, item 4): per dataset, grouping,
trait and model, mean test R² and PCC under random 5-fold CV (`leaderboard/v2/DATASET`) and
under leave-group-out CV (`leaderboard/v2-grouped/*`: whole families, cages or parents dealt
into folds), both over their 3 repeats, same models, traits and design effects.

    PYTHONPATH=benchmark:plugins python docs/scripts/board_grouped.py [--grouped DIR] [--random DIR]

Writes GROUPED/random-grouped.md and GROUPED/tables/random-grouped.csv. Every figure is derived
from the stored predictions of both boards' records (complete runs only).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).parents[2]


def _frame(run_dir: Path) -> pd.DataFrame:
    from gpbench.boards.leaderboard import load_run, records_frame

    _, records = load_run(run_dir)
    return records_frame(records)


def grouped_runs(root: Path) -> list[Path]:
    """The complete run directories under ``root`` (any depth) whose CV is grouped."""
    from gpbench.boards.status import run_status

    runs = []
    for run_json in sorted(root.rglob("run.json")):
        run_dir = run_json.parent
        cv = json.loads(run_json.read_text())["config"].get("cv", "random")
        if cv != "random" and all(m.complete for m in run_status(run_dir).models):
            runs.append(run_dir)
    return runs


def compare(grouped_root: Path, random_root: Path) -> pd.DataFrame:
    """One row per (run, trait, model) that both the grouped run and its dataset's random run
    hold."""
    rows = []
    for run_dir in grouped_runs(grouped_root):
        config = json.loads((run_dir / "run.json").read_text())["config"]
        random_dir = random_root / config["dataset"]
        if not (random_dir / "run.json").exists():
            continue
        g = _frame(run_dir).groupby(["trait", "model"])[["r2", "pcc"]].mean()
        r = _frame(random_dir).groupby(["trait", "model"])[["r2", "pcc"]].mean()
        for trait, model in sorted(set(g.index) & set(r.index)):
            rows.append({"run": run_dir.name, "dataset": config["dataset"],
                         "cv": config["cv"], "trait": trait, "model": model,
                         "random_r2": r.loc[(trait, model), "r2"],
                         "grouped_r2": g.loc[(trait, model), "r2"],
                         "random_pcc": r.loc[(trait, model), "pcc"],
                         "grouped_pcc": g.loc[(trait, model), "pcc"]})
    df = pd.DataFrame(rows, columns=["run", "dataset", "cv", "trait", "model", "random_r2",
                                     "grouped_r2", "random_pcc", "grouped_pcc"])
    df["delta_r2"] = df.grouped_r2 - df.random_r2
    return df


def _cell(x: float, signed: bool = False) -> str:
    return "–" if math.isnan(x) else (f"{x:+.3f}" if signed else f"{x:.3f}")


def markdown(df: pd.DataFrame) -> list[str]:
    """Per grouped run: one row per trait and model, random | grouped | Δ for R² and PCC."""
    lines = ["# Board v2: random -> grouped CV, per task", "",
             "Mean test R² and PCC per (dataset, trait, model) over 3 repeats x 5 folds. "
             "**random**: `leaderboard/v2/DATASET` (individuals dealt into folds at random: new "
             "individuals of families, cages and parents seen in training). **grouped**: "
             "`leaderboard/v2-grouped/RUN` (`--cv group:COLUMN`: every member of a group in the "
             "same fold, so each test individual's group is absent from training). Same models, "
             "traits, design effects and fold seed. Written by `docs/scripts/board_grouped.py` "
             "from the stored predictions of both boards.", ""]
    for run, part in df.groupby("run", sort=True):
        cv = part.cv.iloc[0]
        lines += [f"## {run} (`--cv {cv}`)", "",
                  "| trait | model | R² random | R² grouped | Δ R² | PCC random | PCC grouped |",
                  "|---|---|---|---|---|---|---|"]
        for r in part.sort_values(["trait", "random_r2"], ascending=[True, False]).itertuples():
            lines.append(f"| {r.trait} | {r.model} | {_cell(r.random_r2)} | "
                         f"{_cell(r.grouped_r2)} | {_cell(r.delta_r2, signed=True)} | "
                         f"{_cell(r.random_pcc)} | {_cell(r.grouped_pcc)} |")
        lines.append("")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grouped", type=Path, default=ROOT / "leaderboard" / "v2-grouped")
    ap.add_argument("--random", type=Path, default=ROOT / "leaderboard" / "v2")
    args = ap.parse_args()
    df = compare(args.grouped, args.random)
    (args.grouped / "tables").mkdir(parents=True, exist_ok=True)
    df.to_csv(args.grouped / "tables" / "random-grouped.csv", index=False, float_format="%.6g")
    (args.grouped / "random-grouped.md").write_text("\n".join(markdown(df)) + "\n")
    print(f"wrote {args.grouped / 'random-grouped.md'} ({len(df)} rows)")


if __name__ == "__main__":
    main()
