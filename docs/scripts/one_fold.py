"""One outer fold of one yeast trait for a few models, through the runner's ``fit_predict``.

    PYTHONPATH=benchmark:plugins python docs/scripts/one_fold.py YPD ridge,bayesb [--fold 0]
        [--option n_iter=9000 --option burn_in=3000]

Fold ``--fold`` of the committed 5-fold, seed-0 plan (``datasets/folds``), training on the other
folds' measured strains. ``--option`` values go to every model except ridge/gblup (JSON-parsed).
Prints test R², PCC, fit time and the model's fit_info. For development traits only: do not
choose defaults on Lactate or Lactose.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[2]))


def main() -> None:
    import gpbench_bayes
    import gpbench_linear
    import gpbench_yeast
    from gpbench import DataConfig, ModelContext
    from gpbench.plugins import load_registry
    from gpbench.running.protocol import make_folds
    from gpbench.running.runner import fit_predict
    from tests.conftest import yeast_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trait")
    parser.add_argument("models")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--option", action="append", default=[])
    args = parser.parse_args()
    opts = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.option)}

    cache = Path(tempfile.gettempdir()) / "gpbench-one-fold-cache"
    ds = gpbench_yeast.load(DataConfig(cache, yeast_data_dir()))
    reg = load_registry([("linear", gpbench_linear), ("bayes", gpbench_bayes)],
                        load_entrypoints=False)
    Y = ds.traits[[args.trait]].to_numpy()
    test = make_folds(ds.sample_ids, 5, seed=0).test_mask(0, args.fold)
    measured = ~np.isnan(Y[:, 0])
    fit_rows, test_rows = ~test & measured, test & measured
    ctx = ModelContext(seed=0, markers=ds.markers, n_threads=1, device="cpu")
    y = Y[test_rows, 0]
    for name in args.models.split(","):
        o = {} if name in ("ridge", "gblup") else opts
        cpu = time.process_time()
        pred, info, t = fit_predict(reg.model(name), o, ctx, ds.genotypes, Y, fit_rows, None,
                                    test_rows, name)
        cpu = time.process_time() - cpu
        r2 = 1 - np.sum((y - pred[:, 0]) ** 2) / np.sum((y - y.mean()) ** 2)
        pcc = np.corrcoef(y, pred[:, 0])[0, 1]
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in info.items()
                 if not isinstance(v, list)}
        print(f"{args.trait} fold {args.fold} {name:8s} R2={r2:.4f} PCC={pcc:.4f} "
              f"fit_s={t['fit_s']:.1f} cpu_s={cpu:.1f} n_train={int(fit_rows.sum())} "
              f"n_test={int(test_rows.sum())} {shown}", flush=True)


if __name__ == "__main__":
    main()
