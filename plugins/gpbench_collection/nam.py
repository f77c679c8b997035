"""Parent-aware genotypes of nested association mapping (NAM) populations.

In a NAM population every family crosses one founder with a shared hub parent. A marker on
which a family's founder carries the hub's allele does not segregate in that family; a
genotyping pipeline that calls only segregating markers leaves such a marker missing for every
RIL of the family and for the founder, although the RILs' genotype is known: the hub's
homozygous allele. :func:`fill_nonsegregating` restores those calls from genotypes only
(founders' and RILs'); no phenotype is involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gpbench import DataError


def hub_alleles(rils: np.ndarray, family: np.ndarray,
                founders: Mapping[str, np.ndarray], threshold: float = 0.95) -> np.ndarray:
    """The hub parent's homozygous dosage (0 or 2) per marker, NaN where unknown.

    A family segregates at a marker when fewer than ``threshold`` of its RILs are missing
    there; its founder, called homozygous there, then carries the other allele, so the hub
    carries ``2 - founder``. Families vote; a marker on which they disagree raises DataError
    (the coding would not be consistent across families).
    """
    votes = np.zeros((2, rils.shape[1]), dtype=np.int64)  # votes for hub 0, for hub 2
    for fam, founder in founders.items():
        segregating = np.isnan(rils[family == fam]).mean(axis=0) < threshold
        votes[0] += segregating & (founder == 2)
        votes[1] += segregating & (founder == 0)
    conflict = np.flatnonzero((votes[0] > 0) & (votes[1] > 0))
    if len(conflict):
        raise DataError(f"families disagree on the hub parent's allele at {len(conflict)} "
                        f"markers (first column {conflict[0]}); the coding is not "
                        "consistent across families, so no fill is possible")
    return np.where(votes[1] > 0, 2.0, np.where(votes[0] > 0, 0.0, np.nan)).astype(np.float32)


@dataclass(frozen=True)
class FillReport:
    """What :func:`fill_nonsegregating` did: missing rates before and after, cells filled, and
    family x marker blocks left missing because the founder was called there."""

    missing_before: float
    missing_after: float
    filled: int
    founder_called: int


def fill_nonsegregating(rils: np.ndarray, family: np.ndarray,
                        founders: Mapping[str, np.ndarray],
                        threshold: float = 0.95) -> tuple[np.ndarray, FillReport]:
    """``rils`` (RILs x markers, 0/1/2, NaN missing) with non-segregating calls filled.

    In each family, a marker missing in at least ``threshold`` of its RILs is taken as not
    segregating when the family's founder (``founders[family]``, same markers) is missing
    there too, or when the founder is not genotyped (the rule is then the family's pattern
    alone); its missing calls become the hub's allele (:func:`hub_alleles`). Calls present
    are never changed. ``family`` labels each row.
    """
    rils = np.asarray(rils, dtype=np.float32)
    family = np.asarray(family)
    if family.shape != (rils.shape[0],):
        raise DataError(f"{len(family)} family labels for {rils.shape[0]} genotype rows")
    hub = hub_alleles(rils, family, founders, threshold)
    out = rils.copy()
    filled = founder_called = 0
    for fam in np.unique(family):
        rows = np.flatnonzero(family == fam)
        block = out[rows]
        missing = np.isnan(block)
        nonseg = missing.mean(axis=0) >= threshold
        founder = founders.get(fam)
        if founder is not None:
            founder_called += int((nonseg & ~np.isnan(founder)).sum())
            nonseg &= np.isnan(founder)
        nonseg &= ~np.isnan(hub)
        fill = missing & nonseg
        block[fill] = np.broadcast_to(hub, block.shape)[fill]
        out[rows] = block
        filled += int(fill.sum())
    report = FillReport(float(np.isnan(rils).mean()), float(np.isnan(out).mean()), filled,
                        founder_called)
    return out, report
