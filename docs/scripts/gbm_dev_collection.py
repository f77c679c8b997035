"""GBM defaults comparison on the dataset collection (development splits, not the leaderboard's).

Each candidate configuration of ``gbm_dev.CONFIGS`` runs through gpbench's own protocol on the
default traits of the smaller collection datasets, with **fold seed 1** (the committed
leaderboards use seed 0) and outer folds 0-2 only. Prints mean test R² per configuration and
dataset, and the mean over datasets (each dataset weighted equally).

    python docs/scripts/gbm_dev_collection.py current,plain_lr05_refit [DATASET,DATASET,...]
"""
import os
import sys
import time
from pathlib import Path

from gbm_dev import CONFIGS, N_FOLDS

from gpbench.boards.leaderboard import load_run, records_frame
from gpbench.plugins import load_registry
from gpbench.running.plan import RunConfig, execute, plan_run

# The collection minus its four largest runs (mice, maize-hybrids, soynam) and yeast, whose
# development traits are covered by gbm_dev.py.
DATASETS = ["wheat", "rice", "apple", "apricot", "pine", "potato", "salmon", "barley",
            "maize-drops"]


def main() -> None:
    names = sys.argv[1].split(",")
    datasets = sys.argv[2].split(",") if len(sys.argv) > 2 else DATASETS
    reg = load_registry()
    out = Path(os.environ.get("GBM_DEV_OUT", "runs/gbm-dev-collection"))
    data_dir = Path(os.environ.get("GPBENCH_DATA_DIR", "../shared/data"))
    for name in names:
        t0 = time.time()
        for ds in datasets:
            cfg = RunConfig(models=["gbm"], dataset=ds, traits=None, k=5, seed=1,
                            out=out / name / ds, data_dir=data_dir,
                            model_options={"gbm": CONFIGS[name]}, n_threads=2)
            plan = plan_run(cfg, reg)
            plan.units = [u for u in plan.units if u.fold < N_FOLDS]
            execute(plan, stream=open(out / f"gbm-{name}.log", "a"))
        print(name, "done", round(time.time() - t0), "s", flush=True)
    for name in sorted(p.name for p in out.iterdir() if p.is_dir()):
        per_ds, fits = {}, []
        for ds in datasets:
            if not (out / name / ds / "run.json").exists():
                continue
            _, recs = load_run(out / name / ds)
            df = records_frame(recs)
            per_ds[ds] = df.groupby("trait")["r2"].mean().mean()
            fits += [r["timing"]["fit_s"] for r in recs if r.get("status") == "ok"]
        if not per_ds:
            continue
        mean = sum(per_ds.values()) / len(per_ds)
        fit = sum(fits) / len(fits)
        print(f"{name:18s} datasets {len(per_ds)} mean R2 {mean:.4f}  fit {fit:.1f}s  "
              + " ".join(f"{d}={v:.3f}" for d, v in per_ds.items()))


if __name__ == "__main__":
    main()
