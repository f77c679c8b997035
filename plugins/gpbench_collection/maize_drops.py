"""The ``maize-drops`` dataset: the DROPS maize panel, 246 inbred lines x 41,722 SNPs, eight
traits as per-experiment BLUEs from 10 field experiments (statgenGWAS's ``drops*.rda``, Millet
et al. 2019)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import (
    DataError,
    DatasetDeclaration,
    Parsed,
    aggregate_mean,
    join_by_id,
    read_r,
    trial_records,
)

from .sources import STATGENGWAS, pinned, version

TRAITS = ("grain.yield", "grain.number", "seed.size", "anthesis", "silking", "plant.height",
          "tassel.height", "ear.height")
CITATION = ("Millet EJ, Pommier C, Buy M, Nagel A, Kruijer W, Welz-Bolduan T, et al. A "
            "multi-site experiment in a network of European fields for assessing the maize "
            "yield response to environmental scenarios. Portail Data INRAE, "
            "doi:10.15454/IASSTN (2019). Data: statgenGWAS R package (cran/statgenGWAS).")


def parse(files: dict[str, Path]) -> Parsed:
    """Genotypes ``dropsMarkers`` (column ``Ind`` + one 0/1/2 column per SNP), the map
    ``dropsMap`` (same SNP order) and the per-experiment BLUEs ``dropsPheno`` averaged over the
    10 experiments per line (``Variety_ID``; plain mean over the measured
    experiments), joined by line name; the per-experiment values are handed over as trial
    records, so the host removes experiment effects estimated on each training fold."""
    geno = read_r(files["dropsMarkers.rda"])["dropsMarkers"]
    mp = read_r(files["dropsMap.rda"])["dropsMap"]
    pheno = read_r(files["dropsPheno.rda"])["dropsPheno"]
    marker_ids = [str(c) for c in geno.columns if c != "Ind"]
    if [str(m) for m in mp["SNP.names"]] != marker_ids:
        raise DataError(f"{files['dropsMap.rda']}: map SNPs do not match the dropsMarkers "
                        "columns; replace the files with the originals")
    if str(geno.columns[0]) != "Ind":
        raise DataError(f"{files['dropsMarkers.rda']}: first column is {geno.columns[0]!r}, "
                        "not 'Ind'; replace the file with the original")
    values = geno.iloc[:, 1:].to_numpy(dtype=np.float32, na_value=np.nan)
    means = aggregate_mean(pheno, "Variety_ID", list(TRAITS))
    rows, traits = join_by_id(geno["Ind"].astype(str).tolist(), means, "Variety_ID",
                              "maize-drops")
    markers = pd.DataFrame({"chrom": [str(c) for c in mp["Chromosome"]],
                            "pos": mp["Position"].to_numpy(dtype=float)}, index=marker_ids)
    return Parsed(values[rows], traits, markers,
                  trial_records=trial_records(pheno, "Variety_ID", ["Experiment"], list(TRAITS)))


DECLARATION = DatasetDeclaration(
    name="maize-drops",
    description="maize DROPS panel: 246 inbred lines x 41,722 SNPs (0/1/2, imputed), 8 traits "
                "(mean of per-experiment BLUEs over 10 European field experiments)",
    citation=CITATION,
    licence="GPL-3 (statgenGWAS R package)",
    coding="0/1/2",
    version=version(STATGENGWAS),
    files=(
        pinned(STATGENGWAS, "data/dropsMarkers.rda",
               "12f5d8156591546ed5fdcebb84e9100f6c813efa46bca5ba7a98989d5b8ed58a"),
        pinned(STATGENGWAS, "data/dropsPheno.rda",
               "1c7d4e64ee887483cacd5b45b49d09d0f936de30410d94ddd46d7612f0d76b51"),
        pinned(STATGENGWAS, "data/dropsMap.rda",
               "8d5c6e6fce5616548bd7ab06d1baef5620d45a0bbf9fbf08ee088d00100971af"),
    ),
    parse=parse,
    parser_version=3,  # 3: per-experiment records handed to the host
    default_traits=("grain.yield", "anthesis", "plant.height"),
)
