"""Stack v1 against v2 (docs/notes/stack-oof.md): run models on a few units of the seed-0 plan.

    python docs/scripts/stack_oof.py run OUT DATASET TRAIT,TRAIT FOLD,FOLD MODEL,MODEL
    python docs/scripts/stack_oof.py report V1_DIR[,V1_DIR...] V2_DIR[,V2_DIR...] [MEMBER_DIRS]

``run`` plans DATASET with gpbench's own protocol (5 folds, fold seed 0, one unit at a time,
one thread, default options) and runs MODELS on the outer folds FOLDS of TRAITS only; the code
is whatever ``PYTHONPATH`` points at (the main checkout for v1, the branch for v2). The data
directory is ``GPBENCH_DATA_DIR`` (default ``../shared/data``). ``report`` reads the records:
test R² per unit of the v1 stack, the v2 stack and each member (from the v2 directories), and
unit-seconds of each stack against the sum of its members' on the same units. With
``MEMBER_DIRS`` (comma-separated), the members' records come from those directories (only
the four members are read there) and the v2 stack's from ``V2_DIRS``. A unit found in several
directories counts once, from the last of them (e.g. a rerun after a cold first unit).

With ``STACK_OOF_CPU=1`` the units run in this process (threads capped at 1) and their
recorded seconds are this process's CPU seconds (``time.process_time``), not wall-clock
seconds, so that a busy shared machine does not distort the cost comparison.
``STACK_OOF_OPTIONS`` (JSON, e.g. ``{"stack": {"cross_folds": 2}}``) sets model options.
"""
import json
import os
import sys
from pathlib import Path

import pandas as pd

from gpbench.boards.leaderboard import load_run, records_frame
from gpbench.plugins import load_registry
from gpbench.running.plan import RunConfig, execute, plan_run

MEMBERS = ["gblup", "lasso", "gbm", "bayesb"]


def run(out: str, dataset: str, traits: str, folds: str, models: str) -> None:
    data_dir = Path(os.environ.get("GPBENCH_DATA_DIR", "../shared/data"))
    keep = {int(f) for f in folds.split(",")}
    cfg = RunConfig(models=models.split(","), dataset=dataset, traits=traits.split(","), k=5,
                    seed=0, out=Path(out), data_dir=data_dir, jobs=1, n_threads=1,
                    model_options=json.loads(os.environ.get("STACK_OOF_OPTIONS", "{}")))
    plan = plan_run(cfg, load_registry())
    plan.units = [u for u in plan.units if u.fold in keep]
    executor = None
    if os.environ.get("STACK_OOF_CPU") == "1":
        import time

        from gpbench.running.executors import InlineExecutor
        from gpbench.running.threads import limit_threads

        limit_threads(1)
        time.perf_counter = time.process_time  # unit timings in CPU seconds of this process
        executor = InlineExecutor()
    execute(plan, executor=executor, stream=sys.stderr)


def frame(dirs: str) -> pd.DataFrame:
    """model, trait, fold, r2 and unit-seconds of every ok record in the run directories."""
    rows = []
    for d in dirs.split(","):
        _, recs = load_run(Path(d))
        seconds = {(r["model"], r["fold"], tuple(r["traits"])): sum(
            v for v in (r.get("timing") or {}).values() if isinstance(v, (int, float)))
            for r in recs if r.get("status") == "ok"}
        f = records_frame(recs)
        f["dataset"] = Path(d).name
        f["unit_s"] = [seconds[(m, fo, (t,))] for m, fo, t in zip(f.model, f.fold, f.trait,
                                                                  strict=True)]
        rows.append(f[["dataset", "trait", "fold", "model", "r2", "unit_s"]])
    return pd.concat(rows)


def report(v1_dirs: str, v2_dirs: str, member_dirs: str = "") -> None:
    v1 = frame(v1_dirs).query("model == 'stack'").assign(model="stack_v1")
    v2 = frame(v2_dirs).replace({"model": {"stack": "stack_v2"}})
    if member_dirs:
        v2 = pd.concat([v2.query("model == 'stack_v2'"),
                        frame(member_dirs).query("model in @MEMBERS")])
    keys = ["dataset", "trait", "fold"]
    both = pd.concat([v1, v2]).drop_duplicates([*keys, "model"], keep="last")
    r2 = both.pivot_table(index=keys, columns="model", values="r2")
    sec = both.pivot_table(index=keys, columns="model", values="unit_s")
    members = sec[MEMBERS].sum(axis=1)
    r2["v2-v1"] = r2["stack_v2"] - r2["stack_v1"]
    r2["v1 x members"] = sec["stack_v1"] / members
    r2["v2 x members"] = sec["stack_v2"] / members
    cols = MEMBERS + ["stack_v1", "stack_v2", "v2-v1", "v1 x members", "v2 x members"]
    print(r2[cols].round(3).to_markdown())
    print("\nmean R²:", r2[cols[:7]].mean().round(4).to_dict())
    tot = sec[MEMBERS + ["stack_v1", "stack_v2"]].sum()
    print("unit-seconds:", tot.round(1).to_dict())
    print(f"stack/members over all units: v1 {tot['stack_v1'] / tot[MEMBERS].sum():.2f}x, "
          f"v2 {tot['stack_v2'] / tot[MEMBERS].sum():.2f}x")
    per_ds = sec.groupby(level="dataset").sum()
    print("per dataset v2 x members:",
          (per_ds["stack_v2"] / per_ds[MEMBERS].sum(axis=1)).round(2).to_dict())


if __name__ == "__main__":
    {"run": run, "report": report}[sys.argv[1]](*sys.argv[2:])
