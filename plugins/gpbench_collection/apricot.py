"""The ``apricot`` dataset: an apricot F1 cross (Goldrich x Moniqui), 153 trees with 10 fruit
quality traits, 60,991 GBS SNPs with 34% missing calls (asrdata's ``*_apricot.rda``, Nsibi et
al. 2020)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gpbench import DataError, DatasetDeclaration, Parsed, aggregate_mean, join_by_id, read_r

from ._rvalues import float32_matrix
from .sources import ASRDATA, pinned, version

TRAITS = ("F.Weight", "Hue.g", "Ethylene", "RI", "TA", "Glucose", "Fructose", "Sucrose",
          "Citric.A.", "Malic.A.")
CITATION = ("Nsibi M, Gouble B, Bureau S, Flutre T, Sauvage C, Audergon JM, Regnard JL. "
            "Adoption and optimization of genomic selection to sustain breeding for apricot "
            "fruit quality. G3 10, 4513-4529 (2020). Data: asrdata R package "
            "(asrtools/asrdata).")


def parse(files: dict[str, Path]) -> Parsed:
    """Genotypes ``geno.apricot`` (rows named by tree, NaN = missing call), the map
    ``map.apricot`` (same marker order), and ``pheno.apricot`` averaged over the fruit lots of
    each tree (column ``Ind``), joined by tree name."""
    geno = read_r(files["geno_apricot.rda"])["geno.apricot"]
    mp = read_r(files["map_apricot.rda"])["map.apricot"]
    pheno = read_r(files["pheno_apricot.rda"])["pheno.apricot"]
    ids = [str(i) for i in geno.coords[geno.dims[0]].values]
    marker_ids = [str(m) for m in geno.coords[geno.dims[1]].values]
    if [str(m) for m in mp["marker"]] != marker_ids:
        raise DataError(f"{files['map_apricot.rda']}: map markers do not match the genotype "
                        "columns; replace the files with the originals")
    means = aggregate_mean(pheno, "Ind", list(TRAITS))
    rows, traits = join_by_id(ids, means, "Ind", "apricot")
    markers = pd.DataFrame({"chrom": [str(c) for c in mp["chrom"]],
                            "pos": mp["pos"].to_numpy(dtype=float)}, index=marker_ids)
    return Parsed(float32_matrix(geno.values)[rows], traits, markers)


DECLARATION = DatasetDeclaration(
    name="apricot",
    description="apricot F1 cross (Goldrich x Moniqui): 153 trees x 60,991 GBS SNPs (34% "
                "missing), 10 fruit quality traits (mean of 3 fruit lots per tree)",
    citation=CITATION,
    licence="MIT (asrdata R package)",
    coding="0/1/2",
    version=version(ASRDATA),
    files=(
        pinned(ASRDATA, "data/geno_apricot.rda",
               "58ebcfd4216ff14f14870a708726cab502a717878f2e2c20117415d7c4b9e052"),
        pinned(ASRDATA, "data/map_apricot.rda",
               "6f95f68d88659936ec9228b6f9e4e4e0bcbecde58abbbf6dca58b565460f5d77"),
        pinned(ASRDATA, "data/pheno_apricot.rda",
               "333752ca90e234d3451a8c2826c340fbd990bcd9c3127482622c8d3fb61c9598"),
    ),
    parse=parse,
    default_traits=("F.Weight", "RI", "TA"),
)
