"""The ``soynam`` dataset: the soybean nested association mapping population, 5,143 RILs of
40 families x 4,312 SNPs (quality-checked set, 25.6% missing calls), yield, height, maturity,
lodging, protein, oil and seed size over 19 environments (SoyNAM's ``soybase.RData``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DatasetDeclaration, Parsed, aggregate_mean, join_by_id, read_r

from ._rvalues import float32_matrix
from .sources import SOYNAM, pinned, version

TRAITS = ("yield", "height", "R8", "lodging", "protein", "oil", "size")
CITATION = ("Song Q, Yan L, Quigley C, Jordan BD, Fickus E, Schroeder S, et al. Genetic "
            "characterization of the soybean nested association mapping population. The Plant "
            "Genome 10(2) (2017); Xavier A, Muir WM, Rainey KM. Assessing predictive properties "
            "of genome-wide selection in soybeans. G3 6, 2611-2616 (2016). Data: SoyNAM R "
            "package (cran/SoyNAM).")


def parse(files: dict[str, Path]) -> Parsed:
    """Genotypes ``gen.qa`` (rows named by RIL, 0/1/2, NaN = missing call; marker names
    ``Gm<chrom>_<bp>_<ref>_<alt>``) and the plot records ``data.line.qa`` (column ``strain``)
    reduced to plain means per RIL (environment effects not removed:
    estimating them would use test-fold records), joined by name (the 37 founder parents,
    genotyped but grown only as checks, are left out)."""
    objs = read_r(files["soybase.RData"])
    geno, records = objs["gen.qa"], objs["data.line.qa"]
    ids = [str(i) for i in geno.coords[geno.dims[0]].values]
    marker_ids = [str(m) for m in geno.coords[geno.dims[1]].values]
    means = aggregate_mean(records, "strain", list(TRAITS))
    rows, traits = join_by_id(ids, means, "strain", "soynam")
    parts = [m.split("_") for m in marker_ids]
    markers = pd.DataFrame({"chrom": [p[0] if len(p) > 1 else None for p in parts],
                            "pos": [float(p[1]) if len(p) > 1 and p[1].isdigit() else np.nan
                                    for p in parts]}, index=marker_ids)
    return Parsed(float32_matrix(geno.values)[rows], traits, markers)


DECLARATION = DatasetDeclaration(
    name="soynam",
    description="soybean NAM: 5,143 RILs of 40 families x 4,312 SNPs (0/1/2, 25.6% missing), "
                "7 agronomic and seed traits (means over 19 environments)",
    citation=CITATION,
    licence="GPL-3 (SoyNAM R package)",
    coding="0/1/2",
    version=version(SOYNAM),
    files=(pinned(SOYNAM, "data/soybase.RData",
                  "e8b78f9fb4fe44012f1221c113d6d63233c21ac01b196da6eb3704a8631b062d"),),
    parse=parse,
    parser_version=2,
    default_traits=("yield", "height", "R8"),
)
