"""Executors: isolation, timeouts, crashed workers, Dask, and interrupted runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gpbench.running.executors import LocalExecutor
from gpbench.storage.records import ResultStore
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


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()  # a zombie waits only to be reaped
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_timed_out_unit_takes_its_child_processes_with_it(registry, tmp_path):
    pid_file = tmp_path / "child.pid"
    summary = run(registry, tmp_path, ["probe"], traits=["A"], k=2,
                  model_options={"probe": {"child": str(pid_file)}},
                  executor=LocalExecutor(jobs=1, unit_timeout=4))
    assert len(summary.failed) == 2 and "UnitTimeout" in summary.failed[0]["error"]
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the unit's child process outlived the killed unit"


def test_a_crashed_worker_becomes_a_failed_record(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                  model_options={"spy-val": {"crash": True}},
                  executor=LocalExecutor(jobs=2, unit_timeout=60))
    assert summary.done == 5 and len(summary.failed) == 5
    assert "killed by signal 9 (out of memory?)" in summary.failed[0]["error"]


def _plan(registry, tmp_path, models, **kwargs):
    from gpbench.running.plan import RunConfig, plan_run

    config = RunConfig(models=models, dataset="indexed", traits=["A"], out=tmp_path / "run",
                       cache_dir=tmp_path / "cache", maf=0.0, **kwargs)
    return plan_run(config, registry)


def test_default_executor_runs_units_isolated_in_one_reused_worker(registry, tmp_path):
    from gpbench.running.plan import execute
    from tests.conftest import TEST_ENV

    summary = execute(_plan(registry, tmp_path, ["spy", "probe"]), env=TEST_ENV)
    assert summary.done == 10 and not summary.failed
    pids = {r["host"]["pid"] for r in ResultStore(summary.run_dir).records()}
    assert len(pids) == 1 and os.getpid() not in pids  # not in this process, not per unit


def test_a_segfaulting_plugin_is_a_failed_record_and_the_run_goes_on(registry, tmp_path):
    from gpbench.running.plan import execute
    from tests.conftest import TEST_ENV

    plan = _plan(registry, tmp_path, ["probe", "spy"], model_options={"probe": {"segv": True}})
    summary = execute(plan, env=TEST_ENV)  # the default executor, --jobs 1
    assert summary.done == 5 and len(summary.failed) == 5
    for f in summary.failed:
        assert f["model"] == "probe"
        assert "killed by signal 11 (SIGSEGV)" in f["error"]
        assert "plugin 'tests.plugins.probe'" in f["error"]
    assert "Failed units" in summary.leaderboard.read_text()


def test_unit_timeout_counts_from_the_units_start_not_the_workers(registry, tmp_path):
    """Loading the data takes 6 s in each worker; units take milliseconds: none times out."""
    summary = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                  dataset_options={"load_sleep": "6"},
                  executor=LocalExecutor(jobs=1, unit_timeout=4))
    assert summary.done == 10 and not summary.failed


def _pools(records):
    return [(p["api"], p["threads"]) for r in records for p in r["fit_info"]["pools"]]


def test_workers_limit_blas_openmp_and_torch_threads(registry, tmp_path):
    summary = run(registry, tmp_path, ["probe"], traits=["A"],
                  model_options={"probe": {"report": True}}, executor=LocalExecutor(jobs=2))
    records = ResultStore(summary.run_dir).records()
    assert len(records) == 5 and not summary.failed
    apis = {api for api, _ in _pools(records)}
    assert "openblas" in apis or "mkl" in apis  # numpy's BLAS is among the limited pools
    assert all(threads == 1 for _, threads in _pools(records)), _pools(records)
    assert {r["fit_info"]["torch_threads"] for r in records} == {1}


def test_dask_workers_limit_threads(registry, tmp_path):
    pytest.importorskip("distributed")
    from gpbench.running.executors import DaskExecutor

    summary = run(registry, tmp_path, ["probe"], traits=["A"], k=2,
                  model_options={"probe": {"report": True}},
                  executor=DaskExecutor(n_workers=1))
    records = ResultStore(summary.run_dir).records()
    assert len(records) == 2 and not summary.failed
    assert {"openblas", "mkl"} & {api for api, _ in _pools(records)}  # not vacuous
    assert all(threads == 1 for _, threads in _pools(records)), _pools(records)
    assert {r["fit_info"]["torch_threads"] for r in records} == {1}


def test_dask_local_cluster_matches_local(registry, tmp_path):
    pytest.importorskip("distributed")
    from gpbench.running.executors import DaskExecutor

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


def test_workers_rebuild_the_registry_they_were_given(registry):
    import pickle

    from gpbench.running.units import Environment
    from tests.conftest import TEST_ENV

    back = pickle.loads(pickle.dumps(Environment(registry=registry)))  # the CLI's environment
    assert back.extra_plugins == TEST_ENV.extra_plugins and back.load_entrypoints is False
