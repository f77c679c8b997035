"""The whole main job, as a user runs it, and the local-vs-Dask overhead per unit."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from gpbench.api import RunConfig, execute, plan_run
from gpbench.executors import DaskExecutor, LocalExecutor
from gpbench.plugins import load_registry
from gpbench.runner import Environment


@pytest.mark.parametrize("models", ["lasso,gbm", "transformer", "transformer,lasso,gbm"])
def test_full_run(benchmark, yeast_dir, tmp_path, models):
    cmd = [sys.executable, "-m", "gpbench", "run", "--models", models, "--envs",
           "Lactate,Lactose", "--data-dir", str(yeast_dir), "--out", str(tmp_path / "run"),
           "--no-report"]

    def once():
        return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})

    proc = benchmark.pedantic(once, rounds=1, iterations=1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    benchmark.extra_info["wall_s"] = round(benchmark.stats.stats.mean, 1)
    print(proc.stdout)


def test_local_vs_dask_overhead_per_unit(benchmark, tmp_path):
    pytest.importorskip("distributed")
    reg = load_registry()

    def plan(out):
        return plan_run(RunConfig(models=["ridge"], dataset="sim", traits=["trait1", "trait2"],
                                  out=out, cache_dir=tmp_path / "c",
                                  dataset_options={"n_strains": "300", "n_markers": "3000"}),
                        reg)

    t0 = time.perf_counter()
    execute(plan(tmp_path / "local"), LocalExecutor(), Environment(registry=reg))
    local = time.perf_counter() - t0

    def dask():
        return execute(plan(tmp_path / f"dask{time.time_ns()}"), DaskExecutor(n_workers=2),
                       Environment())

    benchmark.pedantic(dask, rounds=1, iterations=1)
    units = 10
    overhead = (benchmark.stats.stats.mean - local) / units
    benchmark.extra_info.update({"local_s": round(local, 2),
                                 "dask_s": round(benchmark.stats.stats.mean, 2),
                                 "units": units, "overhead_per_unit_s": round(overhead, 3),
                                 "note": "dask time includes starting a 2-worker LocalCluster"})
