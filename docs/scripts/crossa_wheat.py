"""Crossa et al. 2010 (Table 3) against gpbench on the same published wheat folds.

Reads a finished ``gpbench run --dataset wheat --folds published`` directory and prints, per
environment, gpbench's Pearson r (mean over the 10 folds, as the leaderboard shows it, and
pooled over all out-of-fold predictions) beside the published marker-only figures, with the
difference and whether it is within +-0.03.

    python docs/scripts/crossa_wheat.py leaderboard/wheat-published
"""
import sys
from pathlib import Path

import numpy as np

from gpbench.boards.leaderboard import listed_records, load_run

# gpbench model -> the Crossa 2010 reference row it is compared with (marker-only columns)
PAIRS = {"bl": "Bayesian LASSO (markers, M-BL)", "rkhs": "RKHS (markers, M-RKHS)",
         "gblup": "BLUP (markers)"}


def main(run_dir: str) -> None:
    run, records = load_run(Path(run_dir))
    records, _ = listed_records(run, records)
    refs = {(r["what"], r["trait"]): float(r["value"]) for r in run.get("references", [])}
    print("| model | env | r (mean of folds) | r (pooled) | Crossa 2010 r | diff (mean) | "
          "within 0.03 |")
    print("|---|---|---|---|---|---|---|")
    for model, what in PAIRS.items():
        for env in ("E1", "E2", "E3", "E4"):
            recs = [r for r in records if r["model"] == model and r["traits"] == [env]
                    and r.get("status") == "ok"]
            if len(recs) != 10 or (what, env) not in refs:
                continue
            per_fold = [r["metrics"][env]["pcc"] for r in recs]
            pred = np.concatenate([r["predictions"][env]["y_pred"] for r in recs])
            true = np.concatenate([r["predictions"][env]["y_true"] for r in recs])
            pooled = float(np.corrcoef(pred, true)[0, 1])
            mean, ref = float(np.mean(per_fold)), refs[(what, env)]
            print(f"| {model} | {env} | {mean:.3f} | {pooled:.3f} | {ref:.3f} | "
                  f"{mean - ref:+.3f} | {'yes' if abs(mean - ref) <= 0.03 else 'no'} |")


if __name__ == "__main__":
    main(sys.argv[1])
