"""`gpbench verify`: stored units are recomputed and compared with their records, nothing is
written, and a tampered record or one of other code is reported."""
import os
from dataclasses import replace
from pathlib import Path

import pytest

from gpbench.cli import main
from gpbench.storage.records import ResultStore
from tests.helpers import edit_records

# a run without --jobs or --threads: one worker per usable core, cores / workers threads each
DEFAULT_THREADS = max(1, (os.cpu_count() or 1) // len(os.sched_getaffinity(0)))


@pytest.fixture()
def run_dir(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--models", "ridge,mean", "--dataset", "sim", "--envs", "Trait1,Trait2",
                 "--dataset-option", "n_strains=60", "--dataset-option", "n_markers=100",
                 "--folds", "3", "--out", str(out), "--cache-dir", str(tmp_path / "c"),
                 "--no-report"]) == 0
    return out


def _files(run_dir):
    return {p.name: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def test_verify_reruns_units_and_writes_nothing(run_dir, tmp_path, capsys):
    before = _files(run_dir)
    capsys.readouterr()
    assert main(["verify", str(run_dir), "--all", "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "9 of 9 recomputable records rerun" in out  # ridge 2 traits x 3 folds, mean 3 folds
    assert "all 9 agree within 1e-06 x sd(y)" in out
    assert _files(run_dir) == before
    assert main(["verify", str(run_dir), "--models", "ridge", "--sample", "2",
                 "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "2 of 6 recomputable records rerun" in out and "mean " not in out


def _is(rec, prefix):
    return rec["unit_id"].startswith(prefix)


def test_a_tampered_record_is_reported_and_fails(run_dir, tmp_path, capsys):
    def tamper(rec):  # one prediction edited by hand, and its metrics to match
        if _is(rec, "ridge--trait2--r0f1--"):
            from gpbench.boards.derive import derive, registered_metrics

            rec["predictions"]["trait2"]["y_pred"][0] += 0.5
            rec["metrics"] = {"trait2": {"n_test": len(rec["predictions"]["trait2"]["y_true"])}}
            return derive(rec, registered_metrics())[0]

    edit_records(run_dir, tamper)
    capsys.readouterr()
    assert main(["verify", str(run_dir), "--models", "ridge", "--all",
                 "--cache-dir", str(tmp_path / "c")]) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "DIFFERS" in line)
    assert row.split()[:2] == ["ridge", "r0f1"] and " 0.5 " in row
    assert "1 of 6 disagree beyond 1e-06 x sd(y)" in out

    def strip(rec):
        if _is(rec, "ridge--trait2--r0f1--"):  # metrics only: cannot be checked, fails too
            del rec["predictions"]
            return rec

    edit_records(run_dir, strip)
    assert main(["verify", str(run_dir), "--models", "ridge", "--all",
                 "--cache-dir", str(tmp_path / "c")]) == 1
    assert "no stored predictions of 'trait2'" in capsys.readouterr().out


def test_an_edited_metric_fails_verify_although_predictions_agree(run_dir, tmp_path, capsys):
    def edit(rec):
        if _is(rec, "ridge--trait1--r0f0--"):
            rec["metrics"]["trait1"]["r2"] = 0.95
            return rec

    edit_records(run_dir, edit)
    capsys.readouterr()
    assert main(["verify", str(run_dir), "--all", "--cache-dir", str(tmp_path / "c")]) == 1
    out = capsys.readouterr().out
    assert "r2 of 'trait1' stored 0.9500" in out and "not ranked" in out


def _bump_ridge(monkeypatch, version=None, shift=0.0):
    """Make the registry's ridge predict ``shift`` more and/or declare ``version``."""
    from gpbench.plugins import Registry

    real = Registry.entry

    def entry(self, kind, name):
        found = real(self, kind, name)
        if kind != "model" or found.spec.name != "ridge":
            return found
        spec = found.spec
        factory = spec.factory

        def shifted(options, context):
            m = factory(options, context)
            predict = m.predict
            m.predict = lambda X: predict(X) + shift
            return m

        return replace(found, spec=replace(spec, factory=shifted if shift else factory,
                                           version=version or spec.version))

    monkeypatch.setattr(Registry, "entry", entry)


def test_records_of_another_model_version_are_counted_not_rerun(run_dir, tmp_path, capsys,
                                                                monkeypatch):
    _bump_ridge(monkeypatch, version="2")
    capsys.readouterr()
    assert main(["verify", str(run_dir), "--all", "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 recomputable records rerun" in out
    assert "ridge: 6 record(s) not recomputable here" in out
    assert main(["verify", str(run_dir), "--models", "ridge",
                 "--cache-dir", str(tmp_path / "c")]) == 1
    assert "nothing to verify" in capsys.readouterr().err


def _verify_in_process(run_dir, tmp_path):
    from gpbench.running.executors import InlineExecutor
    from gpbench.running.verify import verify_run

    return verify_run(run_dir, sample=None, cache_dir=tmp_path / "c",
                      executor=InlineExecutor())


def test_a_changed_output_without_a_version_bump_fails_the_guard(run_dir, tmp_path,
                                                                  monkeypatch):
    """The guard behind declared versions: a model whose predictions change while its version
    stays is caught by verify; with the bump its records are new work and verify passes."""
    _bump_ridge(monkeypatch, shift=0.25)
    result = _verify_in_process(run_dir, tmp_path)
    bad = [c for c in result.checks if not c.agrees(1e-6)]
    assert {c.model for c in bad} == {"ridge"} and len(bad) == 6
    _bump_ridge(monkeypatch, version="2", shift=0.25)
    result = _verify_in_process(run_dir, tmp_path)
    assert result.unmatched == {"ridge": 6}
    assert result.checks and all(c.agrees(1e-6) for c in result.checks)
    from gpbench.boards.status import run_status
    from gpbench.plugins import load_registry

    ridge = next(m for m in run_status(run_dir, load_registry()).models if m.model == "ridge")
    assert ridge.stale == 6 and "model_version changed ('1' -> '2')" in ridge.stale_why


def test_verify_names_what_is_missing(run_dir, capsys):
    assert main(["verify", str(run_dir), "--models", "gblup"]) == 2
    assert "has no finished unit of gblup; it holds ridge, mean" in capsys.readouterr().err
    assert main(["verify", str(run_dir), "--sample", "0"]) == 2
    assert main(["verify", str(run_dir / "results")]) == 2
    assert "has no run.json listing its units" in capsys.readouterr().err


def test_records_store_where_they_ran(run_dir):
    rec = next(r for r in ResultStore(run_dir).records() if _is(r, "ridge--"))
    assert rec["host"]["threads"] == DEFAULT_THREADS  # no --jobs, no --threads
    assert rec["host"]["cpu"] and isinstance(rec["versions"]["libraries"], dict)


def test_units_rerun_under_their_records_thread_count(run_dir, tmp_path):
    """Each unit reruns with the thread count its record stores; a record without one (older
    gpbench) with ``threads``, and the render says so."""
    from gpbench.running.runner import run_unit
    from gpbench.running.verify import render_verify, verify_run

    ridge = sorted(r["unit_id"] for r in ResultStore(run_dir).records() if _is(r, "ridge--"))

    def edit(rec):
        if rec["unit_id"] == ridge[0]:
            rec["host"]["threads"] = 3
        elif rec["unit_id"] == ridge[1]:
            del rec["host"]["threads"], rec["host"]["cpu"]
        else:
            return None
        return rec

    records = {r["unit_id"]: r for r in edit_records(run_dir, edit)}
    edited, older = records[ridge[0]], records[ridge[1]]
    seen = {}

    class Spy:  # runs the units in this process and notes their thread counts
        def run(self, units, on_result, env):
            for unit in units:
                seen[unit.unit_id] = unit.n_threads
                on_result(unit, run_unit(unit, env))

    result = verify_run(run_dir, models=["ridge"], sample=None, cache_dir=tmp_path / "c",
                        executor=Spy(), threads=2)
    assert seen.pop(edited["unit_id"]) == 3 and seen.pop(older["unit_id"]) == 2
    assert set(seen.values()) == {DEFAULT_THREADS} and len(seen) == 4
    assert result.threads_unknown == 1
    assert all(c.agrees(1e-6) for c in result.checks)  # ridge: the same under any count
    text = render_verify(result, 1e-6)
    assert "1 record(s) do not store the thread count" in text
    row = next(line for line in text.splitlines() if line.startswith("ridge") and " ? " in line)
    assert row.split()[1] == f"r{older['repeat']}f{older['fold']}"


def test_cuda_units_name_their_gpu_and_verify_compares_it(monkeypatch):
    """A CUDA unit's record names the GPU and CUDA version (kernels differ between GPU models,
    as between CPUs); verify counts a record made on another GPU as made on another host."""
    from gpbench.api.types import DataConfig
    from gpbench.running import runner, units
    from gpbench.running.verify import _same_host

    monkeypatch.setattr(runner, "gpu_model", lambda: {"gpu": "Some GPU", "cuda": "13.0"})
    unit = units.Unit(dataset="sim", data_config=DataConfig(Path(".")), dataset_checksum="x",
                       model="ridge", options={}, traits=("T",), repeat=0, fold=0, k=5, seed=1,
                       fold_file="folds.json", fold_sha256="y")
    cpu = runner._host(unit)
    cuda = runner._host(replace(unit, device_kind="cuda"))
    assert "gpu" not in cpu and cuda == {**cpu, "gpu": "Some GPU", "cuda": "13.0"}
    assert _same_host(cuda, dict(cuda)) and _same_host(cpu, dict(cpu))
    assert not _same_host(cuda, {**cuda, "gpu": "Other GPU"})
    assert not _same_host(cuda, cpu) and _same_host({}, cpu) is None


def test_float64_records_are_compared_at_the_float32_precision_of_a_rerun():
    """Records made before pack format 3 hold float64 predictions; a rerun rounds to float32,
    which on a trait whose mean is far from 0 in sd units moves more than 1e-6 x sd(y)."""
    import numpy as np

    from gpbench.running.verify import compare

    y_pred = [1000.00001, 1001.7, 998.123456789]  # no float32 values; sd(y_true) ~ 1
    stored = {"unit_id": "m--T--r0f0--k", "model": "m", "traits": ["T"], "repeat": 0,
              "fold": 0, "metrics": {"T": {"r2": 0.1}},
              "predictions": {"T": {"sample": ["a", "b", "c"], "y_true": [999.0, 1000.0, 1001.5],
                                    "y_pred": y_pred}}}
    rerun = [float(np.float32(v)) for v in y_pred]
    fresh = {**stored, "status": "ok",
             "predictions": {"T": {**stored["predictions"]["T"], "y_pred": rerun}}}
    assert max(abs(a - b) for a, b in zip(rerun, y_pred, strict=True)) > 1e-5
    check = compare(stored, fresh)
    assert check.agrees(1e-6) and check.max_abs_diff == 0.0
    fresh["predictions"]["T"]["y_pred"] = [rerun[0] + 1e-3, *rerun[1:]]
    assert not compare(stored, fresh).agrees(1e-6)
