"""Datasets: the simulated cross, and the yeast loader's verification and messages."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import gpbench_yeast
from gpbench import DataConfig
from gpbench.api.errors import DataError
from gpbench_sim import simulate


def test_sim_is_deterministic_and_seed_dependent():
    a, b = simulate(n_strains=80, n_markers=200), simulate(n_strains=80, n_markers=200)
    assert a.checksum == b.checksum
    assert np.array_equal(a.genotypes, b.genotypes)
    assert simulate(n_strains=80, n_markers=200, seed=1).checksum != a.checksum


def test_sim_looks_like_a_cross():
    ds = simulate(n_strains=300, n_markers=800)
    G = ds.genotypes.astype(float)
    assert set(np.unique(G)) == {0.0, 1.0}
    same_chrom = (ds.markers.chrom.values[:-1] == ds.markers.chrom.values[1:])
    r = np.array([np.corrcoef(G[:, i], G[:, i + 1])[0, 1] for i in range(G.shape[1] - 1)])
    assert np.nanmean(r[same_chrom]) > 0.8  # neighbours are linked
    assert abs(np.nanmean(r[~same_chrom])) < 0.2  # chromosomes segregate independently
    corr = ds.traits.corr().to_numpy()
    assert (corr[np.triu_indices(len(corr), 1)] > 0.05).any()  # correlated traits
    assert ds.traits.isna().to_numpy().any()  # some missing values


def test_sim_rejects_unknown_options():
    with pytest.raises(ValueError, match="unknown sim option"):
        simulate(n_strain=5)


def test_checksum_mismatch_names_the_file(tmp_path, yeast_dir):
    shutil.copy(yeast_dir / "geno_1.RDS", tmp_path / "geno_1.RDS")
    data = (yeast_dir / "pheno.csv").read_bytes()
    (tmp_path / "pheno.csv").write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(DataError, match=r"checksum mismatch for .*pheno.csv"):
        gpbench_yeast.load(DataConfig(tmp_path / "cache", tmp_path))


def test_missing_files_in_data_dir_say_how_to_fix(tmp_path, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)  # absent files are downloaded
    with pytest.raises(DataError, match="not found in data directory.*GPBENCH_DATA_DIR"):
        gpbench_yeast.load(DataConfig(tmp_path / "cache", tmp_path))


def test_yeast_files_are_found_in_the_parent_data_dir(tmp_path, yeast_dir):
    (tmp_path / "data" / "yeast").mkdir(parents=True)
    for name in ("geno_1.RDS", "pheno.csv"):
        (tmp_path / "data" / "yeast" / name).symlink_to(yeast_dir / name)
    ds = gpbench_yeast.load(DataConfig(tmp_path / "cache", tmp_path / "data"))
    assert ds.genotypes.shape == (1008, 11623) and ds.coding == "0/1 haploid"


def test_offline_without_files_explains_how_to_provide_them(tmp_path, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as exc:
        gpbench_yeast.load(DataConfig(tmp_path / "cache"))
    msg = str(exc.value)
    assert "could not download" in msg and "--data-dir" in msg and "raw.githubusercontent" in msg
    assert not list((tmp_path / "cache").rglob("*.part"))  # nothing half-written left


def test_download_is_verified_and_cached(tmp_path, monkeypatch, yeast_dir):
    import io
    import urllib.request

    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        name = url.rsplit("/", 1)[1]
        return io.BytesIO((yeast_dir / name).read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    ds = gpbench_yeast.load(DataConfig(tmp_path / "cache"))
    assert ds.genotypes.shape == (1008, 11623) and len(calls) == 2
    gpbench_yeast.load(DataConfig(tmp_path / "cache"))
    assert len(calls) == 2  # second load uses the cache


@pytest.mark.integration
def test_yeast_loads_with_all_traits(tmp_path, yeast_dir):
    ds = gpbench_yeast.load(DataConfig(tmp_path / "cache", yeast_dir))
    assert ds.genotypes.shape == (1008, 11623) and ds.genotypes.dtype == np.int8
    assert len(ds.trait_names) == 46 and "Lactate" in ds.trait_names
    assert int(ds.traits["Lactate"].notna().sum()) == 973
    assert int(ds.traits["Lactose"].notna().sum()) == 1004
    assert ds.markers.loc["27915_chr01_27915_T_C"].tolist() == ["chr01", 27915]
    assert ds.sample_ids[0] == "A01_01"
    again = gpbench_yeast.load(DataConfig(tmp_path / "cache", yeast_dir))
    assert again.checksum == ds.checksum
