"""Executors: isolation, timeouts, crashed workers, Dask, and interrupted runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gpbench.executors import LocalExecutor
from gpbench.results import ResultStore
from tests.helpers import run


def _scores(run_dir):
    return {r["unit_id"]: {t: (m["r2"], m["pcc"]) for t, m in r["metrics"].items()}
            for r in ResultStore(run_dir).records() if r["status"] == "ok"}


def _assert_same_scores(run_a, run_b, n_units):
    a, b = _scores(run_a), _scores(run_b)
    assert a.keys() == b.keys() and len(a) == n_units
    for key in a:
        for trait in a[key]:
            assert a[key][trait] == pytest.approx(b[key][trait], abs=1e-9)


def test_isolated_processes_give_the_same_results(registry, tmp_path):
    inproc = run(registry, tmp_path / "a", ["spy", "ridge"], traits=["A", "B"])
    pooled = run(registry, tmp_path / "b", ["spy", "ridge"], traits=["A", "B"],
                 executor=LocalExecutor(jobs=2))
    _assert_same_scores(inproc.run_dir, pooled.run_dir, 20)


def test_unit_timeout_kills_only_the_slow_unit(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                  model_options={"spy-val": {"sleep": 60}},
                  executor=LocalExecutor(jobs=2, unit_timeout=4))
    assert summary.done == 5 and len(summary.failed) == 5
    assert all("UnitTimeout" in f["error"] for f in summary.failed)
    assert "Failed units" in summary.leaderboard.read_text()


def test_a_crashed_worker_becomes_a_failed_record(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                  model_options={"spy-val": {"crash": True}},
                  executor=LocalExecutor(jobs=2, unit_timeout=60))
    assert summary.done == 5 and len(summary.failed) == 5
    assert "killed by signal 9 (out of memory?)" in summary.failed[0]["error"]


def test_dask_local_cluster_matches_local(registry, tmp_path):
    pytest.importorskip("distributed")
    from gpbench.executors import DaskExecutor

    local = run(registry, tmp_path / "a", ["ridge", "spy-mt"], traits=["A", "B"])
    dask = run(registry, tmp_path / "b", ["ridge", "spy-mt"], traits=["A", "B"],
               executor=DaskExecutor(n_workers=2))
    _assert_same_scores(local.run_dir, dask.run_dir, 15)


def _cli(out, *extra):
    return [sys.executable, "-m", "gpbench", "run", "--models", "lasso", "--dataset", "sim",
            "--dataset-option", "n_strains=200", "--dataset-option", "n_markers=1500",
            "--envs", "trait1,trait2,trait3", "--out", str(out), *extra]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_resumes_to_the_same_results(tmp_path, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen(_cli(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "results").glob("*.json"))) < 2:
        time.sleep(0.2)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    done_before = len(list((out / "results").glob("*.json")))
    assert 2 <= done_before < 15, "the run should have been interrupted midway"
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and b"rerun the same command to resume" in err
    assert not list((out / "results").glob(".*.tmp"))  # no half-written record left
    resumed = subprocess.run(_cli(out), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {done_before} of 15 units already done" in resumed.stderr
    fresh = subprocess.run(_cli(tmp_path / "fresh"), capture_output=True, timeout=600)
    assert fresh.returncode == 0
    assert _scores(out) == _scores(tmp_path / "fresh")
