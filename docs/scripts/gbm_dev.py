"""GBM defaults comparison on yeast development traits (never Lactate/Lactose).

Runs each candidate configuration through gpbench's own protocol (same outer folds, fold seed 1,
host inner split) on the first N_FOLDS outer folds of each development trait and prints the
mean test R² per configuration and trait.
"""
import os
import sys
import time
from pathlib import Path

from gpbench.boards.leaderboard import load_run, records_frame
from gpbench.plugins import load_registry
from gpbench.running.plan import RunConfig, execute, plan_run

DEV = ["YPD.37C", "Zeocin", "Congo_red", "Neomycin", "Caffeine", "Diamide", "Cycloheximide",
       "Copper", "x6.Azauracil", "Galactose"]
N_FOLDS = 3
PLAIN = dict(learning_rate=0.02, num_leaves=8, min_data_in_leaf=20, feature_fraction=0.2,
             bagging_fraction=0.8, bagging_freq=1, lambda_l2=0.0, num_boost_round=3000,
             early_stopping_rounds=200, ld_thin=0.0, refit_scale=0.0, max_markers=0)
CONFIGS = {
    "current": {},
    "current_norefit": dict(refit_scale=0.0),
    "current_nothin": dict(ld_thin=0.0),
    "plain": PLAIN,
    "plain_refit": {**PLAIN, "refit_scale": 1.25},
    "plain_thin": {**PLAIN, "ld_thin": 0.005},
    "plain_lr05": {**PLAIN, "learning_rate": 0.05, "early_stopping_rounds": 100},
    "plain_thin_refit": {**PLAIN, "ld_thin": 0.005, "refit_scale": 1.25},
    "plain_lr05_refit": {**PLAIN, "learning_rate": 0.05, "early_stopping_rounds": 100,
                         "refit_scale": 1.25},
    "plain_lr03_refit": {**PLAIN, "learning_rate": 0.03, "early_stopping_rounds": 150,
                         "refit_scale": 1.25},
    # the defaults (= plain_thin_refit) with a cap on the markers left after thinning
    "cap5000": {"max_markers": 5000},
    "cap10000": {"max_markers": 10000},
}


def main() -> None:
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else list(CONFIGS)
    reg = load_registry()
    out = Path(os.environ.get("GBM_DEV_OUT", "runs/gbm-dev"))
    data_dir = Path(os.environ.get("GPBENCH_DATA_DIR", "../shared/data/yeast"))
    for name in names:
        cfg = RunConfig(models=["gbm"], dataset="yeast", traits=DEV, k=5, seed=1,
                        out=out / name, data_dir=data_dir,
                        model_options={"gbm": CONFIGS[name]}, n_threads=2)
        plan = plan_run(cfg, reg)
        plan.units = [u for u in plan.units if u.fold < N_FOLDS]
        t0 = time.time()
        execute(plan, stream=open(out.parent / f"gbm-{name}.log", "a"))
        print(name, "done", round(time.time() - t0), "s", flush=True)
    for name in CONFIGS:
        if not (out / name).exists():
            continue
        run, recs = load_run(out / name)
        df = records_frame(recs)
        fit = [r["timing"]["fit_s"] for r in recs if r.get("status") == "ok"]
        per = df.groupby("trait")["r2"].mean()
        print(f"{name:18s} mean R2 {per.mean():.4f}  fit {sum(fit)/len(fit):.1f}s  "
              + " ".join(f"{t[:8]}={v:.3f}" for t, v in per.items()))


if __name__ == "__main__":
    main()
