"""Malformed inputs and damaged files: detected, explained, nothing half-written left."""

from __future__ import annotations

import io
import shutil
import urllib.request

import numpy as np
import pandas as pd
import pytest

import gpbench_yeast
from gpbench import DataConfig, Dataset
from gpbench.errors import DataError
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
