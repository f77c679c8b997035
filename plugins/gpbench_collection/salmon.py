"""The ``salmon`` dataset: 1,481 Atlantic salmon x 17,156 SNPs, amoebic gill disease
resistance (asrdata's ``geno_salmon``/``pheno_salmon``, Robledo et al. 2018)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DatasetDeclaration, Parsed, join_by_id, read_r

from .sources import ASRDATA, pinned, version

CITATION = ("Robledo D, Matika O, Hamilton A, Houston RD. Genome-wide association and genomic "
            "selection for resistance to amoebic gill disease in Atlantic salmon. G3 8, "
            "1195-1203 (2018). Data: asrdata R package (asrtools/asrdata).")
TRAITS = ("mean_gill_score", "amoebic_load")


def parse(files: dict[str, Path]) -> Parsed:
    """``geno.salmon`` (0/1/2, NaN missing) joined by name to ``pheno.salmon$ID`` (the two
    files list the fish in different orders)."""
    X = read_r(files["geno_salmon.rda"])["geno.salmon"]
    pheno = read_r(files["pheno_salmon.rda"])["pheno.salmon"]
    frame = pheno[["ID", *TRAITS]].astype({t: float for t in TRAITS})
    rows, traits = join_by_id(X.coords[X.dims[0]].values, frame, "ID", "salmon")
    markers = [str(m) for m in X.coords[X.dims[1]].values]
    return Parsed(np.asarray(X.values)[rows], traits,
                  pd.DataFrame({"chrom": None, "pos": np.nan}, index=markers))


DECLARATION = DatasetDeclaration(
    name="salmon",
    description="Atlantic salmon: 1,481 fish x 17,156 SNPs, amoebic gill disease (gill score, "
                "amoebic load)",
    citation=CITATION,
    licence="MIT (asrdata R package)",
    coding="0/1/2",
    version=version(ASRDATA),
    files=(pinned(ASRDATA, "data/geno_salmon.rda",
                  "64364a05dc6ed482a651fa33da5ec001ed97c7c9ea8ed12307e986dc3c91ed74"),
           pinned(ASRDATA, "data/pheno_salmon.rda",
                  "bbc47c265d3915e275b2db89d28e22d56bfe216470a4d53ffaa05d4e2972b4ef")),
    parse=parse,
    default_traits=TRAITS,
)
