"""Re-check gbm's defaults on development traits only (issue #29 item 7).

The collection half of docs/notes/gbm-dev.md chose gbm's defaults on the traits the board scores
(each dataset's default traits). This script compares the same candidates on each dataset's
**non-default** traits (never a trait a committed board scores), fold seed 1, outer fold 0 only,
and prints test R² per configuration, dataset and trait, the mean per dataset and over datasets.

    GBM_DEV_OUT=/tmp/gbm-recheck python docs/scripts/gbm_dev_recheck.py defaults,old
    GBM_DEV_OUT=/tmp/gbm-recheck python docs/scripts/gbm_dev_recheck.py nocap rice,maize-drops
"""
import os
import sys
import time
from pathlib import Path

from gpbench.boards.leaderboard import load_run, records_frame
from gpbench.plugins import load_registry
from gpbench.running.plan import RunConfig, execute, plan_run

# Non-default traits of the collection datasets that have any (barley, salmon, pine, wheat and
# maize-hybrids score every trait they have); three each, none a site copy of a scored trait.
DEV_TRAITS = {
    "apple": ["GRE_HB", "JUI_HB", "FIN_HB"],
    "potato": ["tuber_eye_depth", "tuber_size", "malic_acid"],
    "apricot": ["Hue.g", "Glucose", "Citric.A."],
    "rice": ["Na.K.Shoot.LSMEAN", "Shoot.BM.Control.LSMEAN", "Tiller_No_Control_Comb"],
    "maize-drops": ["grain.number", "seed.size", "ear.height"],
    "mice": ["Biochem.HDL", "Biochem.Glucose", "Biochem.Tot.Cholesterol"],
}
OLD_TREES = dict(learning_rate=0.05, num_leaves=15, min_data_in_leaf=10, lambda_l2=1.0,
                 num_boost_round=2000, early_stopping_rounds=100)
CONFIGS = {
    "defaults": {},  # today's defaults (plain_thin_refit + max_markers 5000)
    "old": OLD_TREES,  # the previous tree settings with today's thinning, cap and refit
    "nocap": {"max_markers": 0},  # today's defaults without the marker cap
}
FOLDS = (0,)


def main() -> None:
    names = sys.argv[1].split(",")
    datasets = sys.argv[2].split(",") if len(sys.argv) > 2 else list(DEV_TRAITS)
    reg = load_registry()
    out = Path(os.environ.get("GBM_DEV_OUT", "runs/gbm-dev-recheck"))
    data_dir = Path(os.environ.get("GPBENCH_DATA_DIR", "../shared/data"))
    threads = int(os.environ.get("GBM_DEV_THREADS", "1"))
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        for ds in datasets:
            t0 = time.time()
            cfg = RunConfig(models=["gbm"], dataset=ds, traits=DEV_TRAITS[ds], k=5, seed=1,
                            out=out / name / ds, data_dir=data_dir,
                            model_options={"gbm": CONFIGS[name]}, n_threads=threads)
            plan = plan_run(cfg, reg)
            plan.units = [u for u in plan.units if u.fold in FOLDS]
            execute(plan, stream=open(out / f"gbm-{name}.log", "a"))
            print(name, ds, "done", round(time.time() - t0), "s", flush=True)
    for name in sorted(p.name for p in out.iterdir() if p.is_dir()):
        per_ds = {}
        for ds in DEV_TRAITS:
            if not (out / name / ds / "run.json").exists():
                continue
            _, recs = load_run(out / name / ds)
            df = records_frame(recs)
            per_trait = df.groupby("trait")["r2"].mean()
            fits = [r["timing"]["fit_s"] for r in recs if r.get("status") == "ok"]
            per_ds[ds] = per_trait.mean()
            fit = sum(fits) / len(fits)
            print(f"{name:9s} {ds:12s} mean {per_trait.mean():.4f} fit {fit:6.1f}s "
                  + " ".join(f"{t}={v:.4f}" for t, v in per_trait.items()))
        if per_ds:
            print(f"{name:9s} datasets {len(per_ds)} mean over datasets "
                  f"{sum(per_ds.values()) / len(per_ds):.4f}")


if __name__ == "__main__":
    main()
