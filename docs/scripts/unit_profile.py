"""Run one unit of the runner in this process (one fold, one trait, one model), optionally under
cProfile, and save its test predictions, to profile a model and to check that a code change
keeps predictions bit-identical.

    PYTHONPATH=benchmark:plugins nice -n 19 python docs/scripts/unit_profile.py \
        --dataset soynam --trait protein --models brr,xgboost --fold 0 \
        --save /tmp/before.npz [--profile 15]

The unit is the one ``gpbench run --dataset D --envs T --folds 5 --seed 0 --threads 1`` plans
(same fold file, same marker QC, same seed, one thread), run by ``run_unit`` as a worker
runs it, into a temporary directory
that nothing else reads. ``--compare OLD.npz`` prints, per model, whether the predictions equal
those saved by an earlier ``--save`` (and the largest absolute difference). Use development
traits (a dataset's non-default traits, yeast's named development traits).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np

from gpbench.plugins import load_registry
from gpbench.running.plan import RunConfig, plan_run
from gpbench.running.runner import run_unit
from gpbench.running.threads import limit_threads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--trait", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="print the N most expensive functions (cumulative time)")
    ap.add_argument("--save", type=Path, default=None, help="write the predictions (npz)")
    ap.add_argument("--compare", type=Path, default=None, help="compare with a saved npz")
    ap.add_argument("--show-info", action="store_true", help="print the record's fit_info")
    args = ap.parse_args()
    models = args.models.split(",")
    registry = load_registry()
    saved: dict[str, np.ndarray] = {}
    old = dict(np.load(args.compare)) if args.compare else {}
    with tempfile.TemporaryDirectory() as tmp:
        config = RunConfig(models=models, dataset=args.dataset, traits=[args.trait],
                           out=Path(tmp) / "run", data_dir=args.data_dir, n_threads=1, jobs=1)
        plan = plan_run(config, registry)
        for unit in plan.units:
            if unit.fold != args.fold:
                continue
            limit_threads(unit.n_threads)  # as a worker process does before each unit
            profiler = cProfile.Profile() if args.profile else None
            t0, c0 = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            record = run_unit(unit)
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if record["status"] != "ok":
                raise SystemExit(f"{unit.model}: {record['error']}\n{record['traceback']}")
            pred = np.asarray(record["predictions"][args.trait]["y_pred"])
            saved[unit.model] = pred
            r2 = record["metrics"][args.trait].get("r2", float("nan"))
            t = record["timing"]
            line = (f"{args.dataset} {args.trait} fold {args.fold} {unit.model:8s} r2={r2:.4f} "
                    f"wall_s={wall:.1f} cpu_s={cpu:.1f} fit_s={t.get('fit_s', 0):.1f} "
                    f"predict_s={t.get('predict_s', 0):.2f} "
                    f"preprocess_s={t.get('preprocess_s', 0):.2f}")
            if unit.model in old:
                a = old[unit.model]
                same = a.shape == pred.shape and np.array_equal(a, pred)
                diff = float(np.max(np.abs(a - pred))) if a.shape == pred.shape else np.inf
                line += f" identical={same} max_abs_diff={diff:.3g}"
            print(line, flush=True)
            if args.show_info:
                print({k: v for k, v in record["fit_info"].items() if k != "preprocess"})
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
            if args.save:  # after every unit: a long run stopped early keeps what it did
                np.savez(args.save, **saved)


if __name__ == "__main__":
    main()
