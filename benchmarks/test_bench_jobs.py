"""``--jobs 2`` vs ``--jobs 1`` wall time on the real yeast data (lasso + gbm, 2 traits).

Each run goes through the command line, as a user runs it: worker processes, thread limits
(each worker gets cores // jobs BLAS/OpenMP threads) and all. The speed-up is stored in the
benchmark's ``extra_info`` and printed. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

MODELS, TRAITS = "lasso,gbm", "Lactate,Lactose"  # the speed check, not a model choice


def _run(yeast_dir, out, jobs: int) -> tuple[float, subprocess.CompletedProcess]:
    cmd = [sys.executable, "-m", "gpbench", "run", "--models", MODELS, "--envs", TRAITS,
           "--data-dir", str(yeast_dir), "--out", str(out), "--jobs", str(jobs), "--no-report"]
    # only the plugins this run needs, so that other installed plugins cannot interfere
    env = {**os.environ, "GPBENCH_PLUGINS": "yeast,linear,gbm,metrics"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - t0, proc


def test_jobs_2_vs_jobs_1(benchmark, yeast_dir, tmp_path):
    cores = os.cpu_count() or 1
    if cores < 2:
        pytest.skip("needs at least 2 CPU cores")
    one, proc = _run(yeast_dir, tmp_path / "jobs1", 1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = {}

    def two():
        result["wall"], result["proc"] = _run(yeast_dir, tmp_path / "jobs2", 2)

    benchmark.pedantic(two, rounds=1, iterations=1)
    assert result["proc"].returncode == 0, result["proc"].stderr[-3000:]
    info = {"cores": cores, "jobs1_s": round(one, 1), "jobs2_s": round(result["wall"], 1),
            "speedup": round(one / result["wall"], 2), "models": MODELS, "traits": TRAITS}
    benchmark.extra_info.update(info)
    assert one / result["wall"] > 1.2, info  # two workers on two cores beat one
    print(f"\n--jobs 1: {one:.1f} s, --jobs 2: {result['wall']:.1f} s, speed-up "
          f"{one / result['wall']:.2f}x on {cores} cores ({MODELS} on {TRAITS}, 5 folds)")
