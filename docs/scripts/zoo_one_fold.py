"""Accuracy and fit time of models on one outer fold of one yeast trait (a quick comparison).

    PYTHONPATH=benchmark:plugins python docs/scripts/zoo_one_fold.py --trait YPD \
        --models ridge,gblup,rkhs,svr,rf,xgboost,stack

The fold is fold 0 of the host's 5-fold plan with seed 0 (``make_folds``); models that use
validation get the host's inner split of the training fold; 2 threads. One fold is a noisy
estimate (a test fold of ~200 strains); use ``gpbench run`` for the full protocol. Never used to
choose defaults on Lactate or Lactose.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path

import numpy as np

from gpbench import DataConfig
from gpbench.api.types import ModelContext
from gpbench.plugins import load_registry
from gpbench.running.protocol import inner_validation_mask, make_folds
from gpbench.running.runner import fit_predict

PLUGINS = ("gpbench_yeast", "gpbench_linear", "gpbench_gbm", "gpbench_metrics", "gpbench_zoo")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trait", default="YPD")
    ap.add_argument("--models", default="ridge,gblup,rkhs,svr,rf,xgboost,stack")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--option", action="append", default=[], metavar="MODEL.KEY=VALUE")
    args = ap.parse_args()
    if args.trait.lower() in ("lactate", "lactose"):
        raise SystemExit("Lactate/Lactose are the headline traits; compare on another trait")
    reg = load_registry([(p, importlib.import_module(p)) for p in PLUGINS],
                        load_entrypoints=False)
    data_dir = Path(os.environ.get("GPBENCH_DATA_DIR", "../shared/data/yeast"))
    cache = Path(os.environ.get("GPBENCH_CACHE", Path.home() / ".cache" / "gpbench"))
    ds = reg.dataset("yeast").load(DataConfig(cache, data_dir))
    options: dict[str, dict] = {}
    for item in args.option:
        key, value = item.split("=", 1)
        model, opt = key.split(".", 1)
        try:
            options.setdefault(model, {})[opt] = json.loads(value)
        except ValueError:
            options.setdefault(model, {})[opt] = value
    Y = ds.traits[[args.trait]].to_numpy(np.float64)
    ids = np.asarray(ds.sample_ids)
    test = make_folds(ds.sample_ids, 5, seed=0).test_mask(0, args.fold)
    train = ~test
    inner = np.zeros(len(ids), bool)
    inner[train] = inner_validation_mask(ids[train], 0, 0, args.fold)
    measured = ~np.isnan(Y[:, 0])
    y_test = Y[test & measured, 0]
    print(f"trait {args.trait}, fold {args.fold}: {int((train & measured).sum())} training, "
          f"{len(y_test)} test strains, {ds.genotypes.shape[1]} markers, {args.threads} threads")
    print("| model | R² | PCC | fit s | notes |\n|---|---|---|---|---|")
    for name in args.models.split(","):
        spec = reg.model(name)
        fit_rows = train & measured & (~inner if spec.uses_validation else True)
        valid_rows = (train & measured & inner) if spec.uses_validation else None
        ctx = ModelContext(seed=0, markers=ds.markers, n_threads=args.threads, device="cpu",
                           get_model=reg.model)
        pred, info, timing = fit_predict(spec, options.get(name, {}), ctx, ds.genotypes, Y,
                                         fit_rows, valid_rows, test & measured, name)
        p = pred[:, 0]
        r2 = 1 - np.sum((y_test - p) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
        pcc = float(np.corrcoef(y_test, p)[0, 1])
        notes = {k: info[k] for k in ("weights", "delta", "h2_estimate", "best_iteration",
                                      "n_support", "skipped") if k in info}
        print(f"| {name} | {r2:.3f} | {pcc:.3f} | {timing['fit_s']:.1f} | {notes} |",
              flush=True)


if __name__ == "__main__":
    main()
