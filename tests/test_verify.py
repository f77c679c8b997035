"""`gpbench verify`: stored units are recomputed and compared with their records, nothing is
written, and a tampered record or one of other code is reported."""
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from gpbench.cli import main


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


def test_a_tampered_record_is_reported_and_fails(run_dir, tmp_path, capsys):
    path = sorted((run_dir / "results").glob("ridge--trait2--r0f1--*.json"))[0]
    rec = json.loads(path.read_text())
    rec["predictions"]["trait2"]["y_pred"][0] += 0.5  # one prediction edited by hand
    path.write_text(json.dumps(rec))
    capsys.readouterr()
    assert main(["verify", str(run_dir), "--models", "ridge", "--all",
                 "--cache-dir", str(tmp_path / "c")]) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "DIFFERS" in line)
    assert row.split()[:2] == ["ridge", "r0f1"] and " 0.5 " in row
    assert "1 of 6 disagree beyond 1e-06 x sd(y)" in out
    del rec["predictions"]  # a record with metrics only cannot be checked: it fails too
    path.write_text(json.dumps(rec))
    assert main(["verify", str(run_dir), "--models", "ridge", "--all",
                 "--cache-dir", str(tmp_path / "c")]) == 1
    assert "the record stores no predictions to compare" in capsys.readouterr().out


def test_records_of_other_code_are_counted_not_rerun(run_dir, tmp_path, capsys, monkeypatch):
    import gpbench.api

    real = gpbench.api._plugin_record

    def changed(*args, **kwargs):  # as if the ridge plugin's source had been edited
        record = real(*args, **kwargs)
        return {**record, "code_sha256": "0" * 64} if args[1].name == "ridge" else record

    monkeypatch.setattr(gpbench.api, "_plugin_record", changed)
    capsys.readouterr()
    assert main(["verify", str(run_dir), "--all", "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 recomputable records rerun" in out
    assert "ridge: 6 record(s) not recomputable here" in out
    assert main(["verify", str(run_dir), "--models", "ridge",
                 "--cache-dir", str(tmp_path / "c")]) == 1
    assert "nothing to verify" in capsys.readouterr().err


def test_verify_names_what_is_missing(run_dir, capsys):
    assert main(["verify", str(run_dir), "--models", "gblup"]) == 2
    assert "has no finished unit of gblup; it holds ridge, mean" in capsys.readouterr().err
    assert main(["verify", str(run_dir), "--sample", "0"]) == 2
    assert main(["verify", str(run_dir / "results")]) == 2
    assert "has no run.json listing its units" in capsys.readouterr().err


def test_records_store_where_they_ran(run_dir):
    rec = json.loads(sorted((run_dir / "results").glob("ridge--*.json"))[0].read_text())
    assert rec["host"]["threads"] == (os.cpu_count() or 1)  # --jobs 1, no --threads: all cores
    assert rec["host"]["cpu"] and isinstance(rec["versions"]["libraries"], dict)


def test_units_rerun_under_their_records_thread_count(run_dir, tmp_path):
    """Each unit reruns with the thread count its record stores; a record without one (older
    gpbench) with ``threads``, and the render says so."""
    from gpbench.runner import run_unit
    from gpbench.verify import render_verify, verify_run

    paths = sorted((run_dir / "results").glob("ridge--*.json"))
    edited, older = (json.loads(p.read_text()) for p in paths[:2])
    edited["host"]["threads"] = 3
    del older["host"]["threads"], older["host"]["cpu"]
    for path, rec in zip(paths[:2], (edited, older), strict=True):
        path.write_text(json.dumps(rec))
    seen = {}

    class Spy:  # runs the units in this process and notes their thread counts
        def run(self, units, on_result, env):
            for unit in units:
                seen[unit.unit_id] = unit.n_threads
                on_result(unit, run_unit(unit, env))

    result = verify_run(run_dir, models=["ridge"], sample=None, cache_dir=tmp_path / "c",
                        executor=Spy(), threads=2)
    assert seen.pop(edited["unit_id"]) == 3 and seen.pop(older["unit_id"]) == 2
    assert set(seen.values()) == {os.cpu_count() or 1} and len(seen) == 4
    assert result.threads_unknown == 1
    assert all(c.agrees(1e-6) for c in result.checks)  # ridge: the same under any count
    text = render_verify(result, 1e-6)
    assert "1 record(s) do not store the thread count" in text
    row = next(line for line in text.splitlines() if line.startswith("ridge") and " ? " in line)
    assert row.split()[1] == f"r{older['repeat']}f{older['fold']}"


def test_cuda_units_name_their_gpu_and_verify_compares_it(monkeypatch):
    """A CUDA unit's record names the GPU and CUDA version (kernels differ between GPU models,
    as between CPUs); verify counts a record made on another GPU as made on another host."""
    from gpbench import runner
    from gpbench.types import DataConfig
    from gpbench.verify import _same_host

    monkeypatch.setattr(runner, "gpu_model", lambda: {"gpu": "Some GPU", "cuda": "13.0"})
    unit = runner.Unit(dataset="sim", data_config=DataConfig(Path(".")), dataset_checksum="x",
                       model="ridge", options={}, traits=("T",), repeat=0, fold=0, k=5, seed=1,
                       fold_file="folds.json", fold_sha256="y")
    cpu = runner._host(unit)
    cuda = runner._host(replace(unit, device_kind="cuda"))
    assert "gpu" not in cpu and cuda == {**cpu, "gpu": "Some GPU", "cuda": "13.0"}
    assert _same_host(cuda, dict(cuda)) and _same_host(cpu, dict(cpu))
    assert not _same_host(cuda, {**cuda, "gpu": "Other GPU"})
    assert not _same_host(cuda, cpu) and _same_host({}, cpu) is None
