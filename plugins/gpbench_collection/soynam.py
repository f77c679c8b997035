"""The ``soynam`` dataset: the soybean nested association mapping population, 5,143 RILs of
39 families x 4,312 SNPs (quality-checked set; 25.6% missing calls, 1.2% after the
non-segregating calls are filled from the parents), yield, height, maturity, lodging, protein,
oil and seed size over 19 environments (SoyNAM's ``soybase.RData``)."""

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

from ._rvalues import float32_matrix
from .nam import fill_nonsegregating
from .sources import SOYNAM, pinned, version

TRAITS = ("yield", "height", "R8", "lodging", "protein", "oil", "size")
CITATION = ("Song Q, Yan L, Quigley C, Jordan BD, Fickus E, Schroeder S, et al. Genetic "
            "characterization of the soybean nested association mapping population. The Plant "
            "Genome 10(2) (2017); Xavier A, Muir WM, Rainey KM. Assessing predictive properties "
            "of genome-wide selection in soybeans. G3 6, 2611-2616 (2016). Data: SoyNAM R "
            "package (cran/SoyNAM).")
# family number -> founder parent (the other parent of every family is the hub IA3023, which
# is not genotyped); the founders of families 3 and 4 are not in gen.qa. Each founder is
# missing wherever its family's RILs are all missing (test_soynam_fill_rule_holds_on_the_raw_
# data; docs/notes/soynam-parents.md).
FOUNDERS = {
    "2": "TN05-3027", "5": "CL0J095-4-6", "6": "CL0J173-6-8", "8": "HS6-3976", "9": "Prohio",
    "10": "LD00-3309", "11": "LD01-5907", "12": "LD02-4485", "13": "LD02-9050",
    "14": "Magellan", "15": "Maverick", "17": "S06-13640", "18": "NE3001", "22": "Skylla",
    "23": "U03-100612", "24": "LG03-2979", "25": "LG03-3191", "26": "LG04-4717",
    "27": "LG05-4292", "28": "LG05-4317", "29": "LG05-4464", "30": "LG05-4832",
    "31": "LG90-2550", "32": "LG92-1255", "33": "LG94-1128", "34": "LG94-1906",
    "36": "LG97-7012", "37": "LG98-1605", "38": "LG00-3372", "39": "LG04-6000",
    "40": "PI398881", "41": "PI427136", "42": "PI437169B", "48": "PI518751", "50": "PI561370",
    "54": "PI404188A", "64": "PI574486",
}


def families(records: pd.DataFrame) -> pd.Series:
    """The family number (as text) of each strain of ``data.line.qa``, index = strain."""
    labels = records[["strain", "family"]].astype(str).drop_duplicates()
    if labels["strain"].duplicated().any():
        twice = labels["strain"][labels["strain"].duplicated()].tolist()[:5]
        raise DataError(f"soynam: strains {twice} are recorded in several families; replace "
                        "soybase.RData with the original")
    return labels.set_index("strain")["family"]


def parse(files: dict[str, Path]) -> Parsed:
    """Genotypes ``gen.qa`` (rows named by RIL, 0/1/2, NaN = missing call; marker names
    ``Gm<chrom>_<bp>_<ref>_<alt>``) and the plot records ``data.line.qa`` (column ``strain``)
    reduced to plain means per RIL, joined by name (the 37 founder parents,
    genotyped but grown only as checks, are left out). Calls missing because a marker does not
    segregate in a RIL's family are filled with the hub parent's allele from the founders'
    genotypes (:func:`gpbench_collection.nam.fill_nonsegregating`); each RIL's ``family`` is
    offered as a grouping (``--cv group:family``). The plot records are handed over as
    trial records with trial = environment/set, so the host removes environment-and-set
    effects estimated on each training fold (plots of strains without genotypes stay: never
    tested, they help estimate the effects like checks)."""
    objs = read_r(files["soybase.RData"])
    geno, records = objs["gen.qa"], objs["data.line.qa"]
    ids = [str(i) for i in geno.coords[geno.dims[0]].values]
    marker_ids = [str(m) for m in geno.coords[geno.dims[1]].values]
    means = aggregate_mean(records, "strain", list(TRAITS))
    rows, traits = join_by_id(ids, means, "strain", "soynam")
    values = float32_matrix(geno.values)
    family = families(records).reindex(traits.index)
    if family.isna().any():
        raise DataError(f"soynam: RILs {family.index[family.isna()][:5].tolist()} have no "
                        "family in data.line.qa; replace soybase.RData with the original")
    row_of = {name: i for i, name in enumerate(ids)}
    founders = {f: values[row_of[name]] for f, name in FOUNDERS.items() if name in row_of}
    filled, _ = fill_nonsegregating(values[rows], family.to_numpy(), founders)
    parts = [m.split("_") for m in marker_ids]
    markers = pd.DataFrame({"chrom": [p[0] if len(p) > 1 else None for p in parts],
                            "pos": [float(p[1]) if len(p) > 1 and p[1].isdigit() else np.nan
                                    for p in parts]}, index=marker_ids)
    groups = pd.DataFrame({"family": family.to_numpy()}, index=traits.index)
    return Parsed(filled, traits, markers, groups=groups,
                  trial_records=trial_records(records, "strain", ["environ", "set"],
                                              list(TRAITS)))


DECLARATION = DatasetDeclaration(
    name="soynam",
    description="soybean NAM: 5,143 RILs of 39 families x 4,312 SNPs (0/1/2; 25.6% missing, "
                "1.2% after non-segregating calls are filled from the parents), 7 agronomic "
                "and seed traits (means over 19 environments); groups: family",
    citation=CITATION,
    licence="GPL-3 (SoyNAM R package)",
    coding="0/1/2",
    version=version(SOYNAM),
    files=(pinned(SOYNAM, "data/soybase.RData",
                  "e8b78f9fb4fe44012f1221c113d6d63233c21ac01b196da6eb3704a8631b062d"),),
    parse=parse,
    parser_version=4,  # 3: parents' fill and families; 4: plot records handed to the host
    results_version="2",  # 2: non-segregating calls filled from the parents
    default_traits=("yield", "height", "R8"),
)
