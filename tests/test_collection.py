"""The dataset collection: declarations are well formed (unit), and each dataset loads from
../shared/data/<dir> with the expected shape, ids, coding and a known value (integration)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpbench import DataConfig
from gpbench.data.datasource import DatasetDeclaration, cache_path, load_declared
from gpbench_collection import MODULES, declarations
from gpbench_collection.rice import read_bed

from .conftest import REPO

SHARED = REPO.parent / "shared" / "data"
DECLS = {d.name: d for d in declarations()}


def test_every_module_declares_one_dataset_named_like_its_module():
    assert list(DECLS) == [m.replace("_", "-") for m in MODULES]
    for d in DECLS.values():
        assert isinstance(d, DatasetDeclaration) and d.files and d.coding and d.licence
        assert d.citation and d.default_traits
        for f in d.files:
            assert f.url.startswith("https://raw.githubusercontent.com/") and len(f.sha256) == 64
            assert f.url.rsplit("/", 1)[1] == f.name


def test_collection_datasets_are_registered(registry):
    for name, d in DECLS.items():
        spec = registry.dataset(name)
        assert spec.default_traits == d.default_traits and spec.citation == d.citation


def test_read_bed_decodes_plink_codes():
    # 5 samples x 2 markers; per marker ceil(5/4)=2 bytes, 2 bits per sample, low bits first
    # codes: 00 -> 2 copies of A1, 01 missing, 10 -> 1, 11 -> 0
    m1 = [0b00, 0b01, 0b10, 0b11, 0b10]
    m2 = [0b11, 0b11, 0b00, 0b10, 0b01]

    def pack(codes):
        codes = codes + [0] * (8 - len(codes))
        return bytes(sum(c << (2 * i) for i, c in enumerate(codes[j:j + 4])) for j in (0, 4))

    data = b"\x6c\x1b\x01" + pack(m1) + pack(m2)
    g = read_bed(data, 5, 2)
    expected = np.array([[2, 0], [np.nan, 0], [1, 2], [0, 1], [1, np.nan]], dtype=np.float32)
    assert np.array_equal(g, expected, equal_nan=True)


def test_read_bed_agrees_with_bed_reader(tmp_path):
    bed_reader = pytest.importorskip("bed_reader")
    rng = np.random.default_rng(0)
    g = rng.integers(0, 3, size=(13, 7)).astype(np.float32)
    g[rng.random(g.shape) < 0.1] = np.nan
    bed_reader.to_bed(tmp_path / "x.bed", g)
    assert np.array_equal(read_bed((tmp_path / "x.bed").read_bytes(), 13, 7), g,
                          equal_nan=True)


# --------------------------------------------------------------------------- real data

def _load(name: str, tmp_path) -> tuple:
    if not (SHARED / name).is_dir():
        pytest.skip(f"real data not found: {SHARED / name}")
    decl = DECLS[name]
    config = DataConfig(tmp_path / "cache", SHARED)
    ds = load_declared(decl, config)
    assert cache_path(decl, config).exists()
    again = load_declared(decl, config)  # from the cache
    assert np.array_equal(again.genotypes, ds.genotypes, equal_nan=True)
    pd.testing.assert_frame_equal(again.traits, ds.traits)
    assert ds.coding == decl.coding and ds.checksum == decl.checksum
    assert set(decl.default_traits) <= set(ds.trait_names)
    assert {r["trait"] for r in decl.references} <= set(ds.trait_names)
    return ds


def _missing(ds) -> float:
    g = ds.genotypes
    return float(np.isnan(g).mean()) if g.dtype.kind == "f" else 0.0


@pytest.mark.integration
def test_wheat(tmp_path):
    ds = _load("wheat", tmp_path)
    assert ds.genotypes.shape == (599, 1279) and ds.genotypes.dtype == np.int8
    assert set(np.unique(ds.genotypes)) == {0, 1} and ds.coding == "0/1 inbred"
    assert ds.trait_names == ["E1", "E2", "E3", "E4"] and ds.sample_ids[:2] == ["775", "2166"]
    assert ds.traits.loc["775", "E1"] == pytest.approx(1.67162948)
    assert ds.markers.index[0] == "wPt.0538"
    folds = ds.published_folds
    assert folds.index.tolist() == ds.sample_ids and sorted(folds.unique()) == list(range(10))
    assert int((folds == 0).sum()) == 57  # wheat.sets == 1


@pytest.mark.integration
def test_mice(tmp_path):
    ds = _load("mice", tmp_path)
    assert ds.genotypes.shape == (1814, 10346) and ds.genotypes.dtype == np.int8
    assert ds.coding == "0/1/2" and ds.sample_ids[0] == "A048005080"
    assert len(ds.trait_names) == 21
    assert not {"GENDER", "Litter", "cage", "CoatColour", "Biochem.Age"} & set(ds.trait_names)
    assert ds.genotypes[2, 2] == 2  # A048006555 at rs6269442_G
    assert ds.traits.loc["A048005080", "Obesity.BodyLength"] == pytest.approx(8.2)
    assert ds.markers.loc["rs6269442_G"].tolist() == ["1", pytest.approx(0.11751)]
    # sex is declared as the covariate (fitted on each training fold), never a trait
    assert ds.covariates.columns.tolist() == ["GENDER"]
    assert ds.covariates["GENDER"].value_counts().to_dict() == {"M": 934, "F": 880}
    assert ds.covariates.index.tolist() == ds.sample_ids


@pytest.mark.integration
def test_rice(tmp_path):
    ds = _load("rice", tmp_path)
    assert ds.genotypes.shape == (374, 36901) and ds.genotypes.dtype == np.float32
    assert _missing(ds) == pytest.approx(1 - 0.957102, abs=1e-4)  # PLINK log: genotyping rate
    assert len(ds.trait_names) == 27 and "NSFTV.ID" not in ds.trait_names
    assert ds.sample_ids[:3] == ["1", "3", "4"]  # .fam order, joined to PlinkIDs
    assert ds.traits.loc["1", "Flowering.time.at.Arkansas"] == pytest.approx(75.083333)
    assert ds.markers.loc["id1000001"].tolist() == ["1", 13147.0]


@pytest.mark.integration
def test_apple(tmp_path):
    ds = _load("apple", tmp_path)
    assert ds.genotypes.shape == (247, 2828) and ds.genotypes.dtype == np.int8
    assert ds.coding == "0/1/2" and len(ds.trait_names) == 12
    assert ds.traits.loc["A325-1", "WT_HB"] == pytest.approx(141.72)
    assert ds.genotypes[ds.sample_ids.index("A325-1"), :3].tolist() == [0, 0, 2]


@pytest.mark.integration
def test_salmon(tmp_path):
    ds = _load("salmon", tmp_path)
    assert ds.genotypes.shape == (1481, 17156) and ds.genotypes.dtype == np.float32
    assert _missing(ds) == pytest.approx(0.0114, abs=5e-4)
    assert ds.sample_ids[0] == "Fish_00079"  # genotype order; the phenotype file starts at 00001
    assert ds.traits.loc["Fish_00001"].tolist() == pytest.approx([3.0, 28.72])


@pytest.mark.integration
def test_pine(tmp_path):
    ds = _load("pine", tmp_path)
    assert ds.genotypes.shape == (861, 4853) and ds.genotypes.dtype == np.float32
    assert set(np.unique(ds.genotypes[~np.isnan(ds.genotypes)])) == {0, 1, 2}  # -9 -> NaN
    assert _missing(ds) == pytest.approx(0.038, abs=1e-3)
    assert ds.trait_names == ["DBH_Adj"]
    assert ds.traits.loc["1090230", "DBH_Adj"] == pytest.approx(-5.439414)
    assert np.isnan(ds.genotypes[ds.sample_ids.index("1087120"), 0])  # -9 in the file


@pytest.fixture
def cli_main(monkeypatch, registry):
    """``gpbench.cli.main`` on the test registry; skips without the real wheat files."""
    if not (SHARED / "wheat").is_dir():
        pytest.skip(f"real data not found: {SHARED / 'wheat'}")
    import gpbench.plugins
    from gpbench.cli import main

    monkeypatch.setattr(gpbench.plugins, "load_registry", lambda: registry)
    return main


@pytest.mark.integration
def test_list_traits_of_a_collection_dataset(tmp_path, monkeypatch, capsys, cli_main):
    monkeypatch.setenv("GPBENCH_CACHE", str(tmp_path / "cache"))
    assert cli_main(["list", "--traits", "wheat", "--data-dir", str(SHARED)]) == 0
    out = capsys.readouterr().out
    assert "wheat: 599 samples x 1279 markers, coding 0/1 inbred" in out
    assert "E1" in out and "* = default trait" in out


@pytest.mark.integration
def test_list_traits_caches_into_cache_dir(tmp_path, monkeypatch, capsys, cli_main):
    monkeypatch.setenv("GPBENCH_CACHE", str(tmp_path / "env-cache"))
    argv = ["list", "--traits", "wheat", "--data-dir", str(SHARED),
            "--cache-dir", str(tmp_path / "flag-cache")]
    assert cli_main(argv) == 0
    assert "wheat: 599 samples" in capsys.readouterr().out
    assert any((tmp_path / "flag-cache").rglob("*")), "--cache-dir was not used"
    assert not (tmp_path / "env-cache").exists(), "GPBENCH_CACHE used despite --cache-dir"
