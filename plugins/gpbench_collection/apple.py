"""The ``apple`` dataset: 247 apple clones of 17 full-sib families x 2,828 SNPs, 6 fruit
traits at 2 sites (asrdata's ``geno_apple``/``pheno_apple``, Kumar et al. 2015)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DatasetDeclaration, Parsed, join_by_id, read_r

from .sources import ASRDATA, pinned, version

CITATION = ("Kumar S, Molloy C, Munoz P, Daetwyler H, Chagne D, Volz R. Genome-enabled "
            "estimates of additive and nonadditive genetic variances and prediction of apple "
            "phenotypes across environments. G3 5, 2711-2718 (2015). Data: asrdata R package "
            "(asrtools/asrdata).")
# fruit weight, greasiness, flesh firmness, crispness, juiciness, flavour intensity, each at
# the two sites HB (Hawke's Bay) and MOT (Motueka)
TRAITS = tuple(f"{t}_{site}" for site in ("HB", "MOT")
               for t in ("WT", "GRE", "FF", "CRI", "JUI", "FIN"))


def parse(files: dict[str, Path]) -> Parsed:
    """``geno.apple`` (0/1/2) joined by name to ``pheno.apple$INDIV``; the family and parent
    columns are design variables, not traits: ``Family`` is offered as the grouping
    ``family`` (``--cv group:family``)."""
    X = read_r(files["geno_apple.rda"])["geno.apple"]
    pheno = read_r(files["pheno_apple.rda"])["pheno.apple"]
    frame = pheno[["INDIV", *TRAITS]].astype({t: float for t in TRAITS})
    rows, traits = join_by_id(X.coords[X.dims[0]].values, frame, "INDIV", "apple")
    markers = [str(m) for m in X.coords[X.dims[1]].values]
    family = pd.Series(pheno["Family"].astype(str).to_numpy(),
                       index=pheno["INDIV"].astype(str).to_numpy())
    groups = pd.DataFrame({"family": family.reindex(traits.index).to_numpy()},
                          index=traits.index)
    return Parsed(np.asarray(X.values)[rows], traits,
                  pd.DataFrame({"chrom": None, "pos": np.nan}, index=markers), groups=groups)


DECLARATION = DatasetDeclaration(
    name="apple",
    description="apple: 247 clones in 17 full-sib families x 2,828 SNPs, 6 fruit traits x 2 "
                "sites (HB, MOT); groups: family",
    citation=CITATION,
    licence="MIT (asrdata R package)",
    coding="0/1/2",
    version=version(ASRDATA),
    files=(pinned(ASRDATA, "data/geno_apple.rda",
                  "b1697a2635707cf83a29ef34b81857adb1303985b707844090396362fa359ab7"),
           pinned(ASRDATA, "data/pheno_apple.rda",
                  "d3af690654e31914c0d8ac5e5f67877a88ba93b4c577c6c98ca63021151f5da6")),
    parse=parse,
    parser_version=2,  # 2: family offered as a grouping (the data are unchanged)
    default_traits=("WT_HB", "FF_HB", "CRI_HB"),
)
