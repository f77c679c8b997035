"""The ``barley`` dataset: 1,590 two-row barley lines of the Barley CAP x 2,187 SNPs coded
-1/0/1, grain yield and plant height from 6 unbalanced trials (pbr's ``cap.barley.rda``)."""

from __future__ import annotations

from pathlib import Path

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
from .sources import PBR, pinned, version

TRAITS = ("grainyield", "plantheight")
CITATION = ("Barley Coordinated Agricultural Project (Barley CAP), genotypes and trials from "
            "the Triticeae Toolbox (T3, triticeaetoolbox.org). Data: pbr R package by J. "
            "Neyhart (neyhartj/pbr).")


def parse(files: dict[str, Path]) -> Parsed:
    """Genotypes ``cap.barley$geno_mat`` (rows named by line, -1/0/1, NaN = missing), the map
    from ``cap.barley$geno`` (chromosome, position in cM) and ``cap.barley$pheno`` (one row per
    line and trial) reduced to plain line means, joined by line name; the per-trial records
    are handed over as well, so the host removes trial effects estimated on each training fold
    (a plain mean mixes in the effects of the trials a line happened to be in)."""
    cap = read_r(files["cap.barley.rda"])["cap.barley"]
    geno, info, pheno = cap["geno_mat"], cap["geno"], cap["pheno"]
    ids = [str(i) for i in geno.coords[geno.dims[0]].values]
    marker_ids = [str(m) for m in geno.coords[geno.dims[1]].values]
    if [str(m) for m in info["marker"]] != marker_ids:
        raise DataError(f"{files['cap.barley.rda']}: cap.barley$geno markers do not match "
                        "geno_mat's columns; replace the file with the original")
    means = aggregate_mean(pheno, "line", list(TRAITS))
    rows, traits = join_by_id(ids, means, "line", "barley")
    markers = pd.DataFrame({"chrom": [str(c) for c in info["chrom"]],
                            "pos": info["pos"].to_numpy(dtype=float)}, index=marker_ids)
    # records of lines without genotypes stay: they are never tested, so they help estimate
    # trial effects like check varieties
    return Parsed(float32_matrix(geno.values)[rows], traits, markers,
                  trial_records=trial_records(pheno, "line", ["trial"], list(TRAITS)))


DECLARATION = DatasetDeclaration(
    name="barley",
    description="two-row barley (Barley CAP): 1,590 lines x 2,187 SNPs (-1/0/1), grain yield "
                "and plant height (means over 6 unbalanced trials)",
    citation=CITATION,
    licence="MIT (pbr R package)",
    coding="-1/0/1",
    version=version(PBR),
    files=(pinned(PBR, "data/cap.barley.rda",
                  "841e65973576204a7f4d05f2af0b7e0588032e8e24b9035afa0a2de3cb7a8d5a"),),
    parse=parse,
    parser_version=3,  # 3: per-trial records handed to the host
    default_traits=TRAITS,
)
