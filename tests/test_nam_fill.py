"""Parent-aware genotypes of NAM data: non-segregating calls filled from the parents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpbench.api.errors import DataError
from gpbench_collection.nam import fill_nonsegregating, hub_alleles


def _nam(seed: int = 0):
    """Three families x 20 RILs x 12 markers, hub allele 2 at markers 0-5 and 0 at 6-11.

    A family's founder carries the hub's allele at 4 markers (non-segregating: founder and
    RILs missing there); elsewhere RILs segregate 0/2 with a few random missing calls.
    Family C's founder is not genotyped."""
    rng = np.random.default_rng(seed)
    hub = np.array([2.0] * 6 + [0.0] * 6, dtype=np.float32)
    nonseg = {"A": [0, 1, 6, 7], "B": [2, 3, 8, 9], "C": [4, 5, 10, 11]}
    rows, family, founders = [], [], {}
    for fam, same in nonseg.items():
        founder = 2.0 - hub
        founder[same] = np.nan
        if fam != "C":
            founders[fam] = founder
        block = np.where(rng.random((20, 12)) < 0.5, hub, 2.0 - hub).astype(np.float32)
        block[:, same] = np.nan
        block[rng.random((20, 12)) < 0.05] = np.nan
        rows.append(block)
        family += [fam] * 20
    return np.vstack(rows), np.array(family), founders, hub, nonseg


def test_hub_allele_is_read_from_founders_and_segregating_families():
    rils, family, founders, hub, _ = _nam()
    assert np.array_equal(hub_alleles(rils, family, founders), hub)


def test_non_segregating_calls_get_the_hub_allele_and_nothing_else_changes():
    rils, family, founders, hub, nonseg = _nam()
    filled, report = fill_nonsegregating(rils, family, founders)
    for fam, same in nonseg.items():
        block = filled[family == fam]
        assert (block[:, same] == hub[same]).all()  # C too: its pattern alone decides
        other = [j for j in range(12) if j not in same]
        assert np.array_equal(block[:, other], rils[family == fam][:, other], equal_nan=True)
    called = ~np.isnan(rils)
    assert np.array_equal(filled[called], rils[called])  # calls present never change
    assert report.filled == 3 * 20 * 4
    assert report.missing_after < 0.1 < report.missing_before
    assert report.founder_called == 0


def test_a_marker_the_founder_calls_is_left_missing():
    rils, family, founders, _, _ = _nam()
    founders["A"] = founders["A"].copy()
    founders["A"][0] = 0.0  # the founder is called where its family is all missing
    filled, report = fill_nonsegregating(rils, family, founders)
    assert np.isnan(filled[family == "A"][:, 0]).all() and report.founder_called == 1


def test_families_that_disagree_on_the_hub_allele_are_refused():
    rils, family, founders, _, _ = _nam()
    founders["B"] = founders["B"].copy()
    founders["B"][11] = 2.0 - founders["B"][11]  # B says the hub carries the other allele
    with pytest.raises(DataError, match="families disagree on the hub parent's allele at 1 "):
        fill_nonsegregating(rils, family, founders)


def test_groups_survive_the_parsed_cache():
    from gpbench.data.datasource import Parsed, _from_arrays, _to_arrays

    samples = pd.Index(["a", "b", "NA"], name="sample")
    parsed = Parsed(np.zeros((3, 1), dtype=np.int8), pd.DataFrame({"t": [1.0, 2.0, 3.0]},
                                                                  index=samples),
                    pd.DataFrame({"chrom": [None], "pos": [np.nan]}, index=["m"]),
                    groups=pd.DataFrame({"family": ["2", None, "NA"]}, index=samples))
    back = _from_arrays(_to_arrays(parsed)).groups
    assert back["family"].tolist()[0] == "2" and back["family"].tolist()[2] == "NA"
    assert pd.isna(back["family"].tolist()[1])
