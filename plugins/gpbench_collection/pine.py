"""The ``pine`` dataset: 926 loblolly pines x 4,853 SNPs, stem diameter (deregressed,
adjusted) of 861 trees (asrdata's ``geno_pine926``/``pheno_pine``, Resende et al. 2012)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DatasetDeclaration, Parsed, join_by_id, read_r

from .sources import ASRDATA, pinned, version

CITATION = ("Resende MFR Jr, Munoz P, Resende MDV, Garrick DJ, Fernando RL, Davis JM, et al. "
            "Accuracy of genomic selection methods in a standard data set of loblolly pine "
            "(Pinus taeda L.). Genetics 190, 1503-1510 (2012). Data: asrdata R package "
            "(asrtools/asrdata).")
MISSING = -9


def parse(files: dict[str, Path]) -> Parsed:
    """``geno.pine926`` (0/1/2, -9 = missing -> NaN) joined by name to
    ``pheno.pine$Genotype``; trees without a phenotype are left out. Mother and Father are
    pedigree columns, not traits."""
    X = read_r(files["geno_pine926.rda"])["geno.pine926"]
    pheno = read_r(files["pheno_pine.rda"])["pheno.pine"]
    frame = pd.DataFrame({"Genotype": pheno["Genotype"].astype(str).to_numpy(),
                          "DBH_Adj": pheno["DBH_Adj"].astype(float).to_numpy()})
    rows, traits = join_by_id(X.coords[X.dims[0]].values, frame, "Genotype", "pine")
    g = np.asarray(X.values)[rows].astype(np.float32)
    g[g == MISSING] = np.nan
    markers = [str(m) for m in X.coords[X.dims[1]].values]
    return Parsed(g, traits, pd.DataFrame({"chrom": None, "pos": np.nan}, index=markers))


DECLARATION = DatasetDeclaration(
    name="pine",
    description="loblolly pine: 861 phenotyped trees x 4,853 SNPs, stem diameter (DBH_Adj)",
    citation=CITATION,
    licence="MIT (asrdata R package)",
    coding="0/1/2",
    version=version(ASRDATA),
    files=(pinned(ASRDATA, "data/geno_pine926.rda",
                  "c4dabbf86d7563cbd279a912054f0c5e5cb2296e351707d7adbe1c3925b1d361"),
           pinned(ASRDATA, "data/pheno_pine.rda",
                  "8beaec54416db092b4448e55f963c0a99a51aefc8296b1f3e3ac6ea370d382b7")),
    parse=parse,
    default_traits=("DBH_Adj",),
    references=({"trait": "DBH_Adj", "source": "EasyGeSe", "what": "GBLUP (stem diameter, "
                 "differently processed phenotypes)", "metric": "r", "value": .727,
                 "protocol": "unknown (EasyGeSe; phenotypes processed differently)",
                 "citation": "EasyGeSe benchmark (loblolly pine, DBH)"},),
)
