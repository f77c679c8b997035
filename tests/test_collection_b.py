"""Datasets apricot, barley, maize-drops, potato, maize-hybrids and soynam of the collection:
unit tests of their decoding helpers on tiny synthetic inputs, and one integration test per
dataset on the real files in ../shared/data/<dir> (shape, ids, coding, known values checked
against the raw R objects, missingness)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpbench import DataConfig
from gpbench.api.errors import DataError
from gpbench.data.datasource import load_declared
from gpbench_collection import declarations
from gpbench_collection.maize_hybrids import hybrid_genotypes
from gpbench_collection.potato import decode_tetraploid
from tests.conftest import REPO

DATA = REPO.parent / "shared" / "data"


# --------------------------------------------------------------------------- unit


def _calls(calls: list[str | None]) -> tuple[np.ndarray, list[str]]:
    codes, levels = pd.factorize(pd.Series(calls, dtype=object), sort=True)
    return codes, [str(s) for s in levels]


def test_tetraploid_calls_become_minor_allele_dosages():
    # A: 3 + 4 + 1 = 8 copies, G: 1 + 0 + 3 = 4 -> G is the minor allele and is counted
    dosage, allele = decode_tetraploid(*_calls(["AAAG", "AAAA", None, "AGGG"]))
    assert allele == "G"
    np.testing.assert_array_equal(dosage, np.array([1, 0, np.nan, 3], dtype=np.float32))
    assert dosage.dtype == np.float32
    # letter order inside a call does not matter; T is the minor allele here
    dosage, allele = decode_tetraploid(*_calls(["TCCC", "CCCC", "TTCC", "CCCC"]))
    assert allele == "T" and dosage.tolist() == [1, 0, 2, 0]


def test_tetraploid_tie_and_monomorphic_and_bad_calls():
    dosage, allele = decode_tetraploid(*_calls(["AACC", "AACC"]))  # tie: later letter counted
    assert allele == "C" and dosage.tolist() == [2, 2]
    dosage, allele = decode_tetraploid(*_calls(["GGGG", None, "GGGG"]))
    assert allele == "" and dosage[[0, 2]].tolist() == [0, 0] and np.isnan(dosage[1])
    with pytest.raises(DataError, match="biallelic"):
        decode_tetraploid(*_calls(["AACC", "AATT"]))
    with pytest.raises(DataError, match="tetraploid"):
        decode_tetraploid(*_calls(["AC", "AA"]))


def test_hybrid_genotypes_sum_parents_on_shared_markers():
    dent = pd.DataFrame([[0, 1, 1], [1, 0, 0]], index=["d1", "d2"], columns=["m1", "m2", "m3"])
    flint = pd.DataFrame([[1, 1, 0], [0, 0, 0]], index=["f1", "f2"],
                         columns=["m1", "m2", "m3"])
    g, names = hybrid_genotypes(dent, flint, ["d1", "d2", "d1"], ["f1", "f1", "f2"])
    assert names == ["m1", "m2", "m3"]
    np.testing.assert_array_equal(g, [[1, 2, 1], [2, 1, 0], [0, 1, 1]])


def test_hybrid_genotypes_concatenate_different_marker_sets():
    dent = pd.DataFrame([[0, 1]], index=["d1"], columns=["a", "b"])
    flint = pd.DataFrame([[1]], index=["f1"], columns=["c"])
    g, names = hybrid_genotypes(dent, flint, ["d1"], ["f1"])
    assert names == ["dent:a", "dent:b", "flint:c"] and g.tolist() == [[0, 1, 1]]
    with pytest.raises(DataError, match="without genotypes"):
        hybrid_genotypes(dent, flint, ["d1"], ["f9"])


def test_part_b_declarations_pin_a_commit_and_a_few_default_traits():
    # URLs, sha256 and the other fields of every declaration: tests/test_collection.py
    mine = [d for d in declarations() if d.name in {"apricot", "barley", "maize-drops",
                                                     "potato", "maize-hybrids", "soynam"}]
    assert len(mine) == 6
    for d in mine:
        assert "@" in d.version and 2 <= len(d.default_traits) <= 4
        assert all(f"/{d.version.split('@')[1][:7]}" in f.url for f in d.files)


# --------------------------------------------------------------------------- integration


def _load(name: str, tmp_path):
    directory = DATA / name
    if not directory.is_dir():
        pytest.skip(f"real {name} data not found in {directory}")
    decl = next(d for d in declarations() if d.name == name)
    config = DataConfig(cache_dir=tmp_path / "cache", data_dir=DATA)
    ds = load_declared(decl, config)
    cached = load_declared(decl, config)  # from the parsed cache
    np.testing.assert_array_equal(cached.genotypes, ds.genotypes)
    pd.testing.assert_frame_equal(cached.traits, ds.traits)
    assert ds.trait_names == list(ds.traits.columns)
    assert set(decl.default_traits) <= set(ds.trait_names)
    assert ds.coding == decl.coding
    return ds


def _row(ds, sample: str) -> np.ndarray:
    return ds.genotypes[ds.sample_ids.index(sample)]


def _missing(ds) -> float:
    return float(np.isnan(ds.genotypes).mean())


@pytest.mark.integration
def test_apricot(tmp_path):
    ds = _load("apricot", tmp_path)
    # 155 genotyped = 153 phenotyped F1 trees + the parents Goldrich and Moniqui (dropped)
    assert ds.genotypes.shape == (153, 60991) and ds.genotypes.dtype == np.float32
    assert ds.sample_ids[:2] == ["GoMo-A002", "GoMo-A003"] and "Goldrich" not in ds.sample_ids
    assert ds.markers.index[0] == "Pp01:42127_G/T"
    assert ds.markers.iloc[0].tolist() == ["Pp01", 42127.0]
    np.testing.assert_array_equal(_row(ds, "GoMo-A002")[:6], [1, 1, 2, 0, 0, 1])
    assert np.isnan(_row(ds, "GoMo-A003")[0])
    # fruit weight of GoMo-A002's three lots: 58.0, 58.4, 67.3
    assert ds.traits.loc["GoMo-A002", "F.Weight"] == pytest.approx((58.0 + 58.4 + 67.3) / 3)
    assert set(np.unique(ds.genotypes[~np.isnan(ds.genotypes)])) == {0, 1, 2}
    assert 0.34 < _missing(ds) < 0.35


@pytest.mark.integration
def test_barley(tmp_path):
    ds = _load("barley", tmp_path)
    assert ds.genotypes.shape == (1590, 2187) and ds.coding == "-1/0/1"
    assert ds.sample_ids[0] == "MT050002" and ds.trait_names == ["grainyield", "plantheight"]
    np.testing.assert_array_equal(_row(ds, "MT050002")[:6], [-1, -1, 1, -1, 1, -1])
    assert ds.markers.loc["12_30969"].tolist() == ["1H", 0.31]
    assert set(np.unique(ds.genotypes[~np.isnan(ds.genotypes)])) == {-1, 0, 1}
    # two lines grown only in CAP2_2007_BozemanDry (8341.96 and 7709.33 kg/ha): their means
    gy = ds.traits["grainyield"]
    assert gy["05WA-302.73"] == pytest.approx(8341.96)
    assert gy["05WA-302.42"] == pytest.approx(7709.33)
    # the per-trial records behind the means, for the host's fold-safe trial adjustment
    rec = ds.trial_records
    assert len(rec) == 2 * 2104 and rec["trial"].nunique() == 6
    one = rec[(rec["sample"] == "05WA-302.73") & (rec["trait"] == "grainyield")]
    assert one[["trial", "value"]].values.tolist() == [["CAP2_2007_BozemanDry", 8341.96]]
    assert 0.0025 < _missing(ds) < 0.0028


@pytest.mark.integration
def test_maize_drops(tmp_path):
    ds = _load("maize-drops", tmp_path)
    assert ds.genotypes.shape == (246, 41722) and ds.genotypes.dtype == np.int8
    assert ds.sample_ids[:3] == ["11430", "A3", "A310"]
    np.testing.assert_array_equal(_row(ds, "A347")[:7], [2, 0, 2, 2, 2, 2, 1])
    assert ds.markers.loc["PZE-101000060"].tolist() == ["1", 157104.0]
    # A3's grain yield BLUEs of the 10 experiments (every line has all 10: plain mean)
    a3 = [11.318966, 1.497626, 4.238995, 7.998731, 6.715517, 10.110972, 0.821101, 6.744205,
          6.360600, 7.027741]
    assert ds.traits.loc["A3", "grain.yield"] == pytest.approx(np.mean(a3), abs=1e-6)
    assert ds.traits.notna().all().all()
    a3_records = ds.trial_records.query("sample == 'A3' and trait == 'grain.yield'")
    assert sorted(a3_records["value"]) == pytest.approx(sorted(a3), abs=1e-6)


@pytest.mark.integration
def test_potato(tmp_path):
    ds = _load("potato", tmp_path)
    assert ds.genotypes.shape == (221, 3522) and ds.genotypes.dtype == np.float32
    assert ds.coding.startswith("0-4")
    assert ds.sample_ids[:2] == ["A96104-2", "A97066-42"]
    assert list(ds.markers.index[:2]) == ["c2_41437", "c2_24258"]
    assert ds.markers.iloc[0].tolist() == ["0", 805179.0]
    # raw calls AAAG AAGG TTCC TTTT / AAGG AGGG TTCC TTTT; minor alleles G, A, C, G (copies
    # over all clones: A 575 / G 209, G 742 / A 98, T 474 / C 406, T 840 / G 40)
    np.testing.assert_array_equal(_row(ds, "A96104-2")[:4], [1, 2, 2, 0])
    np.testing.assert_array_equal(_row(ds, "A97066-42")[:4], [2, 1, 2, 0])
    assert set(np.unique(ds.genotypes[~np.isnan(ds.genotypes)])) == {0, 1, 2, 3, 4}
    # 187 clones phenotyped; A96104-2 is genotyped only
    assert int(ds.traits["total_yield"].notna().sum()) == 187
    assert ds.traits.loc["A96104-2"].isna().all()
    assert ds.traits.loc["A97066-42", "total_yield"] == pytest.approx(13.1)
    assert not {"Grp1", "Grp4"} & set(ds.trait_names)
    assert 0.074 < _missing(ds) < 0.076


@pytest.mark.integration
def test_maize_hybrids(tmp_path):
    ds = _load("maize-hybrids", tmp_path)
    assert ds.genotypes.shape == (1254, 35478) and ds.genotypes.dtype == np.int8
    assert ds.sample_ids[:2] == ["518:298", "518:305"] and ds.trait_names == ["GY", "GM"]
    # 518 x 298: both parents carry allele 1 at the first markers, differ at PZE.101000740
    g = _row(ds, "518:298")
    assert g[:10].tolist() == [2] * 10
    assert g[list(ds.markers.index).index("PZE.101000740")] == 1
    assert g[list(ds.markers.index).index("PZE.101000659")] == 0
    assert ds.traits.loc["518:298"].tolist() == pytest.approx([-8.04, -0.85])
    assert set(np.unique(ds.genotypes)) == {0, 1, 2}


@pytest.mark.integration
def test_soynam(tmp_path):
    ds = _load("soynam", tmp_path)
    # 5,180 genotyped in gen.qa; the 37 founder parents (no RIL records) are left out
    assert ds.genotypes.shape == (5143, 4312) and ds.genotypes.dtype == np.float32
    assert "TN05-3027" not in ds.sample_ids and "DS11-02003" in ds.sample_ids
    g = _row(ds, "DS11-02003")
    markers = list(ds.markers.index)
    assert g[markers.index("Gm01_3321482_T_C")] == 2
    # missing in gen.qa for all 98 RILs of family 2 and its founder TN05-3027: does not
    # segregate in that family, filled with the hub parent's allele
    assert g[markers.index("Gm01_4755976_C_T")] == 2
    assert ds.markers.loc["Gm01_3321482_T_C"].tolist() == ["Gm01", 3321482.0]
    # DS11-12004 and DS11-12005 have yield records in the same 13 environments: the
    # difference of their plain means
    y = ds.traits["yield"]
    assert y["DS11-12004"] - y["DS11-12005"] == pytest.approx(-39.230769, abs=1e-4)
    assert {"yield", "height", "R8", "protein", "oil", "size"} <= set(ds.trait_names)
    assert 0.012 < _missing(ds) < 0.013  # 25.6% before the fill
    family = ds.groups["family"]
    assert family.nunique() == 39 and family["DS11-02003"] == "2" and family.notna().all()
    # plot records with trial = environment/set; strains without genotypes keep their plots
    # (never tested, they help estimate the effects like checks)
    rec = ds.trial_records.query("trait == 'yield'")
    assert rec["trial"].iloc[0] == "IA_2012/2A" and rec["trial"].nunique() > 1000
    assert 0 < (~rec["sample"].isin(ds.sample_ids)).sum() < 0.01 * len(rec)


@pytest.mark.integration
def test_soynam_fill_rule_holds_on_the_raw_data():
    """Each genotyped founder is missing at the markers its family's RILs are all missing at
    (never called there); no family has a marker 95-99% missing; the coding gives every
    founder 0, so the hub parent's allele is 2 at every marker."""
    from gpbench import read_r
    from gpbench_collection.soynam import FOUNDERS, families

    path = DATA / "soynam" / "soybase.RData"
    if not path.is_file():
        pytest.skip(f"real soynam data not found in {path.parent}")
    objs = read_r(path)
    geno = objs["gen.qa"]
    ids = [str(i) for i in geno.coords[geno.dims[0]].values]
    values = np.asarray(geno.values, dtype=np.float32)
    fam = families(objs["data.line.qa"])
    row_of = {name: i for i, name in enumerate(ids)}
    mismatched = partly = 0
    for number, group in fam.groupby(fam):
        rows = [row_of[s] for s in group.index if s in row_of]
        frac = np.isnan(values[rows]).mean(axis=0)
        assert not ((frac >= 0.95) & (frac < 1)).any()  # a family's block is all missing
        partly += int(((frac > 0.5) & (frac < 0.95)).sum())
        if number in FOUNDERS:
            founder = values[row_of[FOUNDERS[number]]]
            assert set(np.unique(founder[~np.isnan(founder)])) == {0.0}
            assert not ((frac == 1) & ~np.isnan(founder)).any()  # no founder-called block
            mismatched += int(((frac < 1) & np.isnan(founder)).sum())
    # of 37 x 4,312 family x marker cells, 4 founder calls are missing where the family
    # segregates (families 12, 37, 64): missing calls of the founder, not of the family
    assert mismatched == 4
    assert partly == 6  # family x marker cells 50-95% missing: not filled (families 29-41)
