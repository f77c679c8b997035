"""RKHS kernel averaging (``combine=grid``) against the single best kernel (``combine=best``) on
development traits: test R², chosen weights and fit seconds per outer fold.

    PYTHONPATH=benchmark:plugins python docs/scripts/rkhs_combine.py \
        --dataset yeast --traits YPD,Caffeine,Maltose --folds 0,1

Folds are those of the host's 5-fold plan with seed 0 (``make_folds``), marker QC and imputation
fitted on the training fold as in a run (``fit_predict``). Refuses the traits a committed board
scores (yeast Lactate/Lactose, a collection dataset's default traits).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from gpbench import DataConfig
from gpbench.api.types import ModelContext
from gpbench.plugins import load_registry
from gpbench.running.fitting import fit_predict
from gpbench.running.protocol import make_folds
from gpbench.running.threads import limit_threads

SCORED = {"yeast": {"Lactate", "Lactose"}}


def load_development(registry, dataset: str, traits_csv: str, data_dir: str):
    """The dataset ``dataset`` and the traits of ``traits_csv``, refused where one of them is
    scored by a committed board (defaults are compared on development traits only)."""
    spec_ds = registry.dataset(dataset)
    scored = SCORED.get(dataset, set(getattr(spec_ds, "default_traits", ()) or ()))
    traits = traits_csv.split(",")
    if scored & set(traits):
        raise SystemExit(f"{sorted(scored & set(traits))} are scored by a committed board; "
                         "compare on development traits")
    cache = Path(os.environ.get("GPBENCH_CACHE", Path.home() / ".cache" / "gpbench"))
    return spec_ds.load(DataConfig(cache, Path(data_dir) / dataset)), traits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="yeast")
    ap.add_argument("--traits", default="YPD,Caffeine,Maltose")
    ap.add_argument("--folds", default="0,1")
    ap.add_argument("--combines", default="grid,best")
    ap.add_argument("--data-dir", default=os.environ.get("GPBENCH_DATA_DIR", "../shared/data"))
    args = ap.parse_args()
    limit_threads(1)  # one core, as `gpbench run --threads 1`
    reg = load_registry()
    ds, traits = load_development(reg, args.dataset, args.traits, args.data_dir)
    spec = reg.model("rkhs")
    print("| trait | fold | combine | R² | weights | fit s | fit+predict CPU s |\n"
          "|---|---|---|---|---|---|---|")
    for trait in traits:
        Y = ds.traits[[trait]].to_numpy(np.float64)
        measured = ~np.isnan(Y[:, 0])
        for fold in map(int, args.folds.split(",")):
            test = make_folds(ds.sample_ids, 5, seed=0).test_mask(0, fold)
            y = Y[test & measured, 0]
            for combine in args.combines.split(","):
                ctx = ModelContext(seed=0, markers=ds.markers, n_threads=1, device="cpu")
                cpu = time.process_time()
                pred, info, timing = fit_predict(spec, {"combine": combine}, ctx, ds.genotypes,
                                                 Y, ~test & measured, None, test & measured,
                                                 "rkhs")
                cpu = time.process_time() - cpu
                r2 = 1 - np.sum((y - pred[:, 0]) ** 2) / np.sum((y - y.mean()) ** 2)
                print(f"| {trait} | {fold} | {combine} | {r2:.4f} | {info['weights']} | "
                      f"{timing['fit_s']:.1f} | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    main()
