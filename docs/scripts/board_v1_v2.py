"""Write the v1 -> v2 table of the collection board (issue #29): per dataset, trait and model,
mean test R² under the v1 protocol (`leaderboard/collection`, fold seed 0, one repeat) and
under the v2 protocol (`leaderboard/v2`: design effects in the fold, soynam version 2,
3 repeats), both on v1's folds (v2's repeat 0 is the same assignment, checked) and over v2's
three repeats.

    PYTHONPATH=benchmark:plugins python docs/scripts/board_v1_v2.py [--out leaderboard/v2]

Writes OUT/v1-v2.md and OUT/tables/v1-v2.csv. Every figure is derived from the stored
predictions of the two boards' records; a (model, trait) that only one board holds shows "–".
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).parents[2]


def _frame(run_dir: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The run's records as a frame, and each model's declared version(s) in its records."""
    from gpbench.boards.leaderboard import load_run, records_frame

    _, records = load_run(run_dir)
    versions: dict[str, set[str]] = {}
    for rec in records:
        versions.setdefault(rec["model"], set()).add(str(rec.get("model_version", "?")))
    return records_frame(records), {m: ",".join(sorted(v)) for m, v in versions.items()}


def _same_folds(v1: Path, v2: Path) -> bool:
    """Whether v2's repeat 0 deals every sample as v1's only repeat does."""
    f1 = pd.read_csv(next((v1 / "folds").glob("*.csv")), index_col="sample")
    f2 = pd.read_csv(next((v2 / "folds").glob("*.csv")), index_col="sample")
    common = f1.index.intersection(f2.index)
    return len(common) == len(f1) and bool((f1.loc[common, "repeat0"]
                                            == f2.loc[common, "repeat0"]).all())


def complete_runs(root: Path) -> list[Path]:
    """The run directories under ``root`` whose every listed unit has an ok record (a run still
    in progress is left out)."""
    from gpbench.boards.status import run_status

    return [p for p in sorted(root.iterdir()) if (p / "run.json").exists()
            and all(m.complete for m in run_status(p).models)]


def compare(v1_root: Path, v2_root: Path) -> pd.DataFrame:
    """One row per (dataset, trait, model) held by either board (complete v2 runs only)."""
    rows = []
    for v2 in complete_runs(v2_root):
        v1 = v1_root / v2.name
        if not (v1 / "run.json").exists():
            continue
        (d1, ver1), (d2, ver2) = _frame(v1), _frame(v2)
        same = _same_folds(v1, v2)
        r1 = d1.groupby(["trait", "model"]).r2.mean()
        r2_same = d2[d2["repeat"] == 0].groupby(["trait", "model"]).r2.mean() if same else None
        r2_all = d2.groupby(["trait", "model"]).r2.agg(["mean", "count"])
        for trait, model in sorted(set(r1.index) | set(r2_all.index)):
            key = (trait, model)
            rows.append({
                "dataset": v2.name, "trait": trait, "model": model,
                "v1_r2": r1.get(key, math.nan),
                "v2_r2_v1_folds": (r2_same.get(key, math.nan) if r2_same is not None
                                   else math.nan),
                "v2_r2": r2_all["mean"].get(key, math.nan),
                "v2_units": int(r2_all["count"].get(key, 0)),
                "v1_version": ver1.get(model, ""), "v2_version": ver2.get(model, ""),
            })
    df = pd.DataFrame(rows)
    df["delta_v1_folds"] = df.v2_r2_v1_folds - df.v1_r2
    return df


def _cell(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.3f}"


def markdown(df: pd.DataFrame) -> list[str]:
    """Per dataset: one row per model and trait, v1 | v2 on v1's folds | Δ | v2 (3 repeats)."""
    lines = ["# Board v1 -> v2, per task", "",
             "Mean test R² per (dataset, trait, model). **v1**: `leaderboard/collection` (fold "
             "seed 0, one 5-fold repeat, no design effects, soynam version 1). **v2, v1's folds**: "
             "`leaderboard/v2`, its repeat 0, which deals every sample exactly as v1 did, so the "
             "difference Δ is the protocol's (design effects in the fold, soynam's parent fill), "
             "not the folds'. **v2**: the mean over v2's 3 repeats x 5 folds. Written by "
             "`docs/scripts/board_v1_v2.py` from the stored predictions of both boards; – : "
             "not run on that board."]
    both = df[(df.v1_version != "") & (df.v2_version != "")]
    changed = sorted({f"{r.model} (version {r.v1_version} → {r.v2_version})"
                      for r in both.itertuples() if r.v1_version != r.v2_version})
    if changed:
        lines[-1] += (" Models whose declared version differs between the boards, so that "
                      "their Δ also holds the model's change: " + ", ".join(changed) + ".")
    lines.append("")
    for dataset, part in df.groupby("dataset", sort=True):
        lines += [f"## {dataset}", "",
                  "| trait | model | v1 | v2, v1's folds | Δ | v2 (all repeats) |",
                  "|---|---|---|---|---|---|"]
        for r in part.sort_values(["trait", "v1_r2"], ascending=[True, False]).itertuples():
            delta = "–" if math.isnan(r.delta_v1_folds) else f"{r.delta_v1_folds:+.3f}"
            model = (f"{r.model} (v{r.v1_version} → v{r.v2_version})"
                     if r.v1_version and r.v2_version and r.v1_version != r.v2_version
                     else r.model)
            lines.append(f"| {r.trait} | {model} | {_cell(r.v1_r2)} | "
                         f"{_cell(r.v2_r2_v1_folds)} | {delta} | {_cell(r.v2_r2)} |")
        lines.append("")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--v1", type=Path, default=ROOT / "leaderboard" / "collection")
    ap.add_argument("--out", type=Path, default=ROOT / "leaderboard" / "v2")
    args = ap.parse_args()
    df = compare(args.v1, args.out)
    (args.out / "tables").mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "tables" / "v1-v2.csv", index=False, float_format="%.6g")
    (args.out / "v1-v2.md").write_text("\n".join(markdown(df)) + "\n")
    print(f"wrote {args.out / 'v1-v2.md'} ({len(df)} rows)")


if __name__ == "__main__":
    main()
