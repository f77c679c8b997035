"""The stack against its base models on run directories (e.g. the committed collection run).

For every dataset x trait where a run directory holds the stack and all of its base models on
the same outer folds, prints the stack's mean test R², its best member's (the member with the
highest mean test R² on that task: chosen after seeing the test folds, so the comparison
favours the member) and the member the stack's own inner CV ranks first on each fold (what a
user would pick without an ensemble). Then counts tasks won and runs a Wilcoxon signed-rank
test of the per-task differences, and the same over per-dataset mean differences (traits of one
dataset are not independent; their table is printed too). Tasks without every fold of the
stack and its members are skipped and listed.

    python docs/scripts/stack_collection.py leaderboard/collection/*/ [--model stack]
"""
import argparse
from pathlib import Path

import pandas as pd
from scipy.stats import wilcoxon

from gpbench.boards.leaderboard import load_run, records_frame


def _inner_choice(records: list[dict], model: str) -> pd.DataFrame:
    """Per stack unit: the base model with the highest inner out-of-fold R²."""
    rows = []
    for rec in records:
        if rec.get("model") != model or rec.get("status", "ok") != "ok":
            continue
        oof = (rec.get("fit_info") or {}).get("oof_r2") or {}
        if oof:
            for trait in rec["traits"]:
                rows.append({"trait": trait, "repeat": rec["repeat"], "fold": rec["fold"],
                             "inner_best": max(oof, key=oof.get)})
    return pd.DataFrame(rows, columns=["trait", "repeat", "fold", "inner_best"])


def compare_run(run_dir: Path, model: str) -> tuple[list[dict], list[str]]:
    """One row per complete task of ``run_dir``; the tasks skipped, with why."""
    run, records = load_run(run_dir)
    stack_recs = [r for r in records if r.get("model") == model]
    if not stack_recs:
        return [], []
    base = str(stack_recs[0]["used_options"]["base"]).split(",")
    df = records_frame(records)
    df = df[df.model.isin([model, *base])]
    choice = _inner_choice(records, model)
    dataset = (run.get("dataset") or {}).get("name") or run_dir.name
    rows, skipped = [], []
    for trait, t in df.groupby("trait"):
        folds = t.pivot_table(index=["repeat", "fold"], columns="model", values="r2")
        missing = [m for m in [model, *base] if m not in folds]
        if missing or folds.isna().any().any():
            skipped.append(f"{dataset}/{trait}: incomplete ({', '.join(missing) or 'folds'})")
            continue
        means = folds.mean()
        best = means[base].idxmax()
        picked = choice[choice.trait == trait].set_index(["repeat", "fold"])["inner_best"]
        inner = [folds.loc[key, m] for key, m in picked.items()]
        rows.append({"dataset": dataset, "trait": trait, "stack": means[model],
                     "best_member": best, "best_r2": means[best],
                     "inner_pick_r2": sum(inner) / len(inner) if inner else float("nan"),
                     "folds": len(folds)})
    return rows, skipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dirs", nargs="+", type=Path)
    ap.add_argument("--model", default="stack", help="the ensemble's model name")
    args = ap.parse_args()
    rows, skipped = [], []
    for run_dir in args.run_dirs:
        r, s = compare_run(run_dir, args.model)
        rows += r
        skipped += s
    if not rows:
        raise SystemExit(f"no complete task with {args.model} and its base models in these runs")
    table = pd.DataFrame(rows)
    table["minus_best"] = table["stack"] - table["best_r2"]
    table["minus_inner_pick"] = table["stack"] - table["inner_pick_r2"]
    print(table.round(4).to_markdown(index=False))
    # traits of one dataset are not independent: the same tests on per-dataset means too
    by_dataset = table.groupby("dataset")[["minus_best", "minus_inner_pick"]].mean()
    print("\n" + by_dataset.assign(tasks=table.groupby("dataset").size())
          .round(4).to_markdown())
    for col, what in [("minus_best", "its best member (chosen on the test folds)"),
                      ("minus_inner_pick", "the member its inner CV ranks first")]:
        for d, unit in [(table[col].dropna(), "tasks"), (by_dataset[col].dropna(), "datasets")]:
            p = wilcoxon(d).pvalue if len(d) > 1 and (d != 0).any() else float("nan")
            print(f"\n{args.model} vs {what}: higher on {(d > 0).sum()} of {len(d)} {unit}, "
                  f"mean difference {d.mean():+.4f} R², median {d.median():+.4f}, "
                  f"Wilcoxon signed-rank p = {p:.3g}")
    if skipped:
        print("\nskipped: " + "; ".join(skipped))


if __name__ == "__main__":
    main()
