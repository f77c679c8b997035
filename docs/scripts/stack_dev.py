"""The stack against its base models on yeast development traits (never Lactate/Lactose).

Runs stack and its default base models (gblup, lasso, gbm, bayesb) through gpbench's own
protocol on outer folds 0..N_FOLDS-1 of fold seed 1 for the traits given (default: three of the
development traits of docs/notes/dev-traits.md), two units at a time, and prints mean test R² per
model and trait, and the stack minus its best member per trait.

    python docs/scripts/stack_dev.py [TRAIT,TRAIT,...]
"""
import os
import sys
from pathlib import Path

from gpbench.boards.leaderboard import load_run, records_frame
from gpbench.plugins import load_registry
from gpbench.running.plan import RunConfig, execute, plan_run

TRAITS = ["YPD.37C", "Congo_red", "Neomycin"]
MODELS = ["gblup", "lasso", "gbm", "bayesb", "stack"]
N_FOLDS = 2


def main() -> None:
    traits = sys.argv[1].split(",") if len(sys.argv) > 1 else TRAITS
    out = Path(os.environ.get("STACK_DEV_OUT", "runs/stack-dev"))
    data_dir = Path(os.environ.get("GPBENCH_DATA_DIR", "../shared/data/yeast"))
    cfg = RunConfig(models=MODELS, dataset="yeast", traits=traits, k=5, seed=1, out=out,
                    data_dir=data_dir, jobs=2, n_threads=1)
    plan = plan_run(cfg, load_registry())
    plan.units = [u for u in plan.units if u.fold < N_FOLDS]
    execute(plan, stream=open(out.parent / "stack-dev.log", "a"))
    _, recs = load_run(out)
    table = records_frame(recs).groupby(["trait", "model"])["r2"].mean().unstack()
    print(table.round(4).to_string())
    members = table[[m for m in MODELS if m != "stack"]]
    print("stack - best member:", (table["stack"] - members.max(axis=1)).round(4).to_dict())
    print("mean over traits:", table.mean().round(4).to_dict())


if __name__ == "__main__":
    main()
