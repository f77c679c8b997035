"""What the design alone explains, with and without the host's design step (lab note
docs/notes/design-effects.md).

For each outer fold (5 folds, seed 0: the folds of `gpbench run --folds 5`), fits a model that
sees no marker, only the design, on the training fold and scores it on the test fold:
- mice: sex alone (OLS on GENDER) on the phenotype; with covariates on, this is what a model
  that learns nothing from markers scores, since the host adds the sex part back;
- barley: which trials a line was in (OLS on trial-membership indicators), on the plain line
  means (the v1 targets) and on the trial-adjusted targets of the design step.
And prints the per-fold R2 of the `gpbench run` directories given with --runs.

    PYTHONPATH=benchmark:plugins GPBENCH_CACHE=/tmp/cache-design nice -n 19 \\
        python docs/scripts/design_effects.py --data-dir /work/shared/data \\
        --runs /tmp/design-runs/*/
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataConfig
from gpbench.plugins import load_registry
from gpbench.running.design import covariate_effects, covariate_matrix, fit_design
from gpbench.running.plan import default_cache_dir
from gpbench.running.protocol import make_folds


def r2(y: np.ndarray, p: np.ndarray) -> float:
    return float(1 - ((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def ols_r2(Z: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """R2 on ``test`` of OLS of ``y`` on ``Z`` fitted on ``train`` (rows with y measured)."""
    fit, score = train & ~np.isnan(y), test & ~np.isnan(y)
    beta = covariate_effects(Z, y, fit)
    return r2(y[score], beta[0] + Z[score] @ beta[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--runs", type=Path, nargs="*", default=[])
    args = ap.parse_args()
    registry = load_registry()
    config = DataConfig(default_cache_dir(), args.data_dir)

    mice = registry.dataset("mice").load(config)
    folds = make_folds(mice.sample_ids, 5, 0)
    y = mice.traits["Obesity.EndNormalBW"].to_numpy()
    rows = []
    for f in range(5):
        test = folds.test_mask(0, f)
        Z, _ = covariate_matrix(mice.covariates, ~test)
        rows.append(ols_r2(Z, y, ~test, test))
    print(f"mice Obesity.EndNormalBW, sex alone: R2 per fold {np.round(rows, 3).tolist()}, "
          f"mean {np.mean(rows):.3f}")

    barley = registry.dataset("barley").load(config)
    folds = make_folds(barley.sample_ids, 5, 0)
    rec = barley.trial_records.query("trait == 'grainyield'")
    member = (pd.crosstab(rec["sample"], rec["trial"]).reindex(barley.sample_ids).fillna(0)
              > 0).to_numpy(dtype=float)
    plain = barley.traits["grainyield"].to_numpy()
    out: dict[str, list[float]] = {"plain means": [], "trial-adjusted": []}
    for f in range(5):
        test = folds.test_mask(0, f)
        adjusted = fit_design(plain[:, None], ["grainyield"], barley.sample_ids, ~test,
                              trial_records=barley.trial_records).target[:, 0]
        out["plain means"].append(ols_r2(member, plain, ~test, test))
        out["trial-adjusted"].append(ols_r2(member, adjusted, ~test, test))
    for name, values in out.items():
        print(f"barley grainyield, trials a line was in, on {name}: R2 per fold "
              f"{np.round(values, 3).tolist()}, mean {np.mean(values):.3f}")

    for run in args.runs:
        frame = pd.read_parquet(run / "results.parquet")
        recs = [json.loads(r) for r in frame["record"].dropna()]
        for trait in sorted({t for r in recs for t in r.get("metrics", {})}):
            per = sorted((r["fold"], r["metrics"][trait]["r2"]) for r in recs
                         if trait in r.get("metrics", {}))
            values = [v for _, v in per]
            print(f"{run.name}: {recs[0]['model']} {trait} R2 per fold "
                  f"{np.round(values, 3).tolist()}, mean {np.mean(values):.3f}")


if __name__ == "__main__":
    main()
