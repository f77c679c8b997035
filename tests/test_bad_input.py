"""Malformed inputs and damaged files: detected, explained, nothing half-written left."""

from __future__ import annotations

import io
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gpbench_yeast
from gpbench import DataConfig, Dataset
from gpbench.api.errors import DataError
from tests.helpers import run


def _frame(ids):
    return pd.DataFrame({"t": np.arange(len(ids), dtype=float)}, index=ids)


def _markers(p):
    return pd.DataFrame({"chrom": ["chr01"] * p, "pos": range(p)})


def test_duplicate_sample_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicate sample ids.*'a'"):
        Dataset("d", np.zeros((3, 2)), _frame(["a", "b", "a"]), _markers(2), "1", "x")


def test_genotype_phenotype_row_mismatch_is_rejected():
    with pytest.raises(ValueError, match="3 genotype rows but 2 phenotype rows"):
        Dataset("d", np.zeros((3, 2)), _frame(["a", "b"]), _markers(2), "1", "x")
    with pytest.raises(ValueError, match="2 genotype columns but 3 markers"):
        Dataset("d", np.zeros((2, 2)), _frame(["a", "b"]), _markers(3), "1", "x")


def test_trait_with_too_few_measured_strains(registry, tmp_path):
    with pytest.raises(DataError, match="too few for 5-fold CV"):
        run(registry, tmp_path, ["spy"], dataset="sim", traits=["trait1"],
            dataset_options={"n_strains": "12", "n_markers": "50", "missing": "0.5"})


def test_interrupted_download_leaves_nothing_behind(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() > 1000:
                raise ConnectionResetError("connection reset by peer")
            return super().read(min(n, 600) if n and n > 0 else 600)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Broken(b"x" * 5000))
    with pytest.raises(DataError, match="could not download.*--data-dir"):
        gpbench_yeast.load(DataConfig(tmp_path / "cache"))
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_corrupt_converted_cache_is_rebuilt(tmp_path, yeast_dir):
    config = DataConfig(tmp_path / "cache", yeast_dir)
    first = gpbench_yeast.load(config)
    (cache,) = (tmp_path / "cache" / "yeast").glob("parsed-*.npz")
    cache.write_bytes(cache.read_bytes()[:1000])  # truncated, e.g. by a full disk
    again = gpbench_yeast.load(config)
    assert np.array_equal(again.genotypes, first.genotypes)


def test_unparseable_genotype_file_is_explained(tmp_path, yeast_dir, monkeypatch):
    shutil.copy(yeast_dir / "pheno.csv", tmp_path / "pheno.csv")
    (tmp_path / "geno_1.RDS").write_bytes(b"not an RDS file")
    monkeypatch.setitem(gpbench_yeast.MANIFEST["files"]["geno_1.RDS"], "sha256",
                        __import__("hashlib").sha256(b"not an RDS file").hexdigest())
    with pytest.raises(DataError, match="could not parse .*geno_1.RDS"):
        gpbench_yeast.load(DataConfig(tmp_path / "cache", tmp_path))


def test_non_numeric_phenotypes_are_explained(tmp_path, yeast_dir, monkeypatch):
    import hashlib

    shutil.copy(yeast_dir / "geno_1.RDS", tmp_path / "geno_1.RDS")
    text = (yeast_dir / "pheno.csv").read_text().replace("NA", "n/a?", 1)
    text = text.replace("\n2,", "\n2,oops", 1)
    (tmp_path / "pheno.csv").write_text(text)
    monkeypatch.setitem(gpbench_yeast.MANIFEST["files"]["pheno.csv"], "sha256",
                        hashlib.sha256(text.encode()).hexdigest())
    with pytest.raises(DataError, match="non-numeric values"):
        gpbench_yeast.load(DataConfig(tmp_path / "cache", tmp_path))


# ------------------------------------------------------------ command-line input, before work

SIM = ["run", "--models", "ridge", "--dataset", "sim", "--envs", "trait1",
       "--dataset-option", "n_strains=40", "--dataset-option", "n_markers=60"]


@pytest.mark.parametrize("extra,message", [
    (["--repeats", "0"], "--repeats must be at least 1, got 0"),
    (["--seed", "-3"], "--seed must be 0 or more, got -3"),
    (["--folds", "1"], "--folds must be at least 2, got 1"),
    (["--maf", "0.7"], "--maf must lie in [0, 0.5], got 0.7"),
    (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    (["--tune", "2", "--tune-jobs", "0"], "--tune-jobs must be at least 1, got 0"),
    (["--executor", "dask", "--unit-timeout", "60"], "--unit-timeout needs --executor local"),
    (["--scheduler", "tcp://h:8786"], "--scheduler is the address of a Dask cluster"),
    (["--dataset-option", "n_strain=50"],
     "dataset 'sim' has no option 'n_strain'. Did you mean 'n_strains'"),
    (["--model-option", "rigde.alpha=1"], "unknown model 'rigde'. Did you mean 'ridge'?"),
    (["--model-option", "lasso.patience=3"], "names model 'lasso', which is not in --models"),
    (["--dataset-option", "h2=1.5"], "sim option h2=1.5 is out of range: h2 must be a number "
     "from 0.001 to 1"),
    (["--dataset-option", "n_traits=two"], "sim option n_traits='two' is not a number"),
])
def test_bad_command_line_input_is_one_line_before_any_work(tmp_path, capsys, monkeypatch,
                                                           extra, message):
    from gpbench.cli import main

    monkeypatch.setenv("GPBENCH_PLUGINS", "sim,linear,metrics")
    out = tmp_path / "run"
    assert main([*SIM, "--out", str(out), "--cache-dir", str(tmp_path / "c"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gpbench: error: ") and message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (out / "results").exists() or not list((out / "results").iterdir())


def test_a_test_fold_with_too_few_measured_samples_names_trait_and_fold(registry, tmp_path):
    # 20 strains, 17 measured for trait A, 8 folds: 2 per fold on average, but the unmeasured
    # strains are not spread evenly, so a test fold holds only 1 of them
    with pytest.raises(DataError, match=r"with --folds 8, test fold \d \(repeat 0\) holds 1 "
                       r"measured sample\(s\) of trait 'A'; at least 2 are needed"):
        run(registry, tmp_path, ["spy"], traits=["A"], k=8, dataset_options={"n": "20"})
    assert not (tmp_path / "run" / "results").exists()


def test_a_read_only_out_directory_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import os

    from gpbench.cli import main

    monkeypatch.setenv("GPBENCH_PLUGINS", "sim,linear,metrics")
    if os.geteuid() == 0:  # root writes through file modes; use a read-only file system
        out = Path("/sys/gpbench-test-run")
        if not Path("/sys").is_dir():
            pytest.skip("no read-only file system to test with")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        out = locked / "run"
    assert main([*SIM, "--out", str(out), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"gpbench: error: cannot write to run directory {out}")
    assert "choose another --out" in err and len(err.splitlines()) == 1


# ------------------------------------------------------------ yeast-style files

def test_non_numeric_phenotype_names_file_line_and_column(tmp_path):
    from gpbench.api.tables import numeric_columns

    path = tmp_path / "pheno.csv"
    path.write_text('"","pheno.A","pheno.B"\n"1",0.5,NA\n"2",1.5,2\n"3",oops,3\n')
    frame = pd.read_csv(path, index_col=0)
    with pytest.raises(DataError, match=rf"{path}, line 4, column 'pheno.A' \(column 2\): "
                       "non-numeric value 'oops'"):
        numeric_columns(frame, path)
    path.write_text('"","pheno.A"\n"1",0.5\n"2",NA\n')
    assert np.isnan(numeric_columns(pd.read_csv(path, index_col=0), path).iloc[1, 0])


def test_duplicate_and_mismatched_ids_name_file_and_line(tmp_path):
    from gpbench.api.tables import match_ids

    geno, pheno = tmp_path / "geno.RDS", tmp_path / "pheno.csv"
    strains = ["A01", "A02", "A03"]
    assert match_ids(strains, ["1", "2", "3"], geno, pheno).tolist() == [0, 1, 2]
    assert match_ids(strains, ["A03", "A01", "A02"], geno, pheno).tolist() == [1, 2, 0]
    with pytest.raises(DataError, match=rf"{pheno}, line 3: duplicate sample id 'A01' "
                       r"\(first on line 2\)"):
        match_ids(strains, ["A01", "A01", "A02"], geno, pheno)
    with pytest.raises(DataError, match=rf"{geno}, line 3: duplicate genotype id 'A01'"):
        match_ids(["A02", "A01", "A01"], ["1", "2", "3"], geno, pheno)
    with pytest.raises(DataError, match=rf"{pheno}, line 3, first column: sample id 'A0X' "
                       f"matches no genotype id of {geno}"):
        match_ids(strains, ["A01", "A0X", "A02"], geno, pheno)
    with pytest.raises(DataError, match=rf"{pheno}, line 3, first column: row number '3' "
                       "where 2 was expected"):
        match_ids(strains, ["1", "3", "2"], geno, pheno)
    with pytest.raises(DataError, match=r"has no row for genotype id\(s\) \['A03'\]"):
        match_ids(strains, ["A01", "A02"], geno, pheno)


def test_bad_or_missing_genotype_values(tmp_path):
    path = tmp_path / "geno_1.RDS"
    samples, markers = np.array(["s1", "s2"]), np.array(["m1", "m2", "m3"])
    values = np.array([[0, 1, 1], [1, 0, 1]], dtype=float)
    assert gpbench_yeast.check_genotypes(values, samples, markers, path).dtype == np.int8
    values[1, 2] = np.nan  # missing calls are kept as NaN and imputed per fold by the host
    out = gpbench_yeast.check_genotypes(values, samples, markers, path)
    assert out.dtype == np.float32 and np.isnan(out[1, 2])
    values[0, 1] = 7
    with pytest.raises(DataError, match=r"strain 's1' \(row 1\), marker 'm2' \(column 2\) "
                       "has genotype 7;"):
        gpbench_yeast.check_genotypes(values, samples, markers, path)


def test_yeast_phenotype_errors_name_the_line(tmp_path, yeast_dir, monkeypatch):
    import hashlib

    shutil.copy(yeast_dir / "geno_1.RDS", tmp_path / "geno_1.RDS")
    lines = (yeast_dir / "pheno.csv").read_text().splitlines(keepends=True)
    lines[5] = '"4"' + lines[5][lines[5].index(","):]  # line 6 repeats the id of line 5
    text = "".join(lines)
    (tmp_path / "pheno.csv").write_text(text)
    monkeypatch.setitem(gpbench_yeast.MANIFEST["files"]["pheno.csv"], "sha256",
                        hashlib.sha256(text.encode()).hexdigest())
    with pytest.raises(DataError, match=r"pheno.csv, line 6: duplicate sample id '4' \(first "
                       "on line 5\\)"):
        gpbench_yeast.load(DataConfig(tmp_path / "cache", tmp_path))


# ------------------------------------------------------------ model option names and values

GBM = ["run", "--models", "gbm", "--dataset", "sim", "--envs", "trait1",
       "--dataset-option", "n_strains=60", "--dataset-option", "n_markers=100"]


@pytest.mark.parametrize("option,message", [
    ("gbm.learning_rate=abc", "model 'gbm': option learning_rate=abc is not a number "
     "(default 0.02)"),
    ("gbm.learning_rat=0.1", "model 'gbm' has no option 'learning_rat'. Did you mean "
     "'learning_rate'? Its options: bagging_fraction, "),
    ("gbm.num_leaves=4.5", "model 'gbm': option num_leaves=4.5 is not a whole number "
     "(default 8)"),
    ("gbm.num_boost_round=true", "option num_boost_round=true is not a whole number"),
    ("gbm.learning_rate=[0.1]", "option learning_rate=[0.1] is not a number (default 0.02)"),
    ("gbm.learning_rate=null", "option learning_rate=null is not a number (default 0.02)"),
])
def test_a_bad_model_option_is_one_line_before_any_unit_runs(tmp_path, capsys, monkeypatch,
                                                             option, message):
    from gpbench.cli import main
    from gpbench.running import plan

    monkeypatch.setenv("GPBENCH_PLUGINS", "sim,gbm,metrics")
    loads = []
    monkeypatch.setattr(plan, "check_writable", lambda d: loads.append(d))
    out = tmp_path / "run"
    assert main([*GBM, "--out", str(out), "--cache-dir", str(tmp_path / "c"),
                 "--model-option", option]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gpbench: error: ") and message in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert loads == [] and not out.exists()  # refused before the run directory is looked at


def test_good_model_option_values_of_the_default_type_family_run(tmp_path, monkeypatch):
    """An int for a float option, an integral float for an int option: accepted."""
    from gpbench.cli import main

    monkeypatch.setenv("GPBENCH_PLUGINS", "sim,gbm,metrics")
    assert main([*GBM, "--out", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "c"),
                 "--folds", "2", "--model-option", "gbm.learning_rate=1", "--model-option",
                 "gbm.num_boost_round=20.0", "--model-option", "gbm.early_stopping_rounds=5",
                 "--model-option", "gbm.max_markers=50"]) == 0
