"""The ``wheat`` dataset: 599 CIMMYT inbred lines x 1,279 DArT markers, grain yield in 4
environments (BGLR's ``wheat.RData``, Crossa et al. 2010)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataError, DatasetDeclaration, Parsed, read_r

from .sources import BGLR, pinned, version

CITATION = ("Crossa J, de los Campos G, Perez P, Gianola D, Burgueno J, Araus JL, et al. "
            "Prediction of genetic values of quantitative traits in plant breeding using "
            "pedigree and molecular markers. Genetics 186, 713-724 (2010). Data: BGLR R package "
            "(gdlc/BGLR-R).")
# wheat.Y's columns "1","2","4","5" are, in that order, environments 1-4 (BGLR man/wheat.Rd:
# "column 1: Grain yield for environment 1 and so on"); see docs/notes/datasets.md
ENVIRONMENTS = {"1": "E1", "2": "E2", "4": "E3", "5": "E4"}
_CROSSA = "Crossa et al. 2010, Genetics 186:713, Table 3"
_PROTOCOL = "10-fold CV, Crossa 2010 folds (wheat.sets)"


def _refs() -> tuple[dict, ...]:
    # Table 3's marker-only columns (BLUP, M-BL, M-RKHS); its P, PM-BL and PM-RKHS columns
    # also use the pedigree, which gpbench's models do not.
    figures = {"BLUP (markers)": (.480, .488, .355, .464),
               "Bayesian LASSO (markers, M-BL)": (.518, .493, .403, .457),
               "RKHS (markers, M-RKHS)": (.601, .494, .445, .524)}
    return tuple({"trait": f"E{i + 1}", "source": "Crossa et al. 2010", "what": what,
                  "metric": "r", "value": vals[i], "protocol": _PROTOCOL, "citation": _CROSSA,
                  "folds": "published"}
                 for what, vals in figures.items() for i in range(4))


def parse(files: dict[str, Path]) -> Parsed:
    """Genotypes ``wheat.X`` (no row names: rows follow ``wheat.Y``, as BGLR documents),
    grain yield ``wheat.Y`` renamed E1-E4, folds ``wheat.sets`` (1-10 -> 0-9)."""
    objs = read_r(files["wheat.RData"])
    X, Y, sets = objs["wheat.X"], objs["wheat.Y"], np.asarray(objs["wheat.sets"])
    ids = [str(i) for i in Y.coords[Y.dims[0]].values]
    cols = [str(c) for c in Y.coords[Y.dims[1]].values]
    if cols != list(ENVIRONMENTS) or X.shape[0] != len(ids) or len(sets) != len(ids):
        raise DataError(f"{files['wheat.RData']}: unexpected layout (Y columns {cols}, "
                        f"{X.shape[0]} X rows, {len(ids)} Y rows, {len(sets)} folds)")
    traits = pd.DataFrame(np.asarray(Y.values, dtype=float), index=ids,
                          columns=[ENVIRONMENTS[c] for c in cols])
    markers = pd.DataFrame({"chrom": None, "pos": np.nan},
                           index=[str(m) for m in X.coords[X.dims[1]].values])
    folds = pd.Series(sets.astype(np.int64) - 1, index=ids, name="fold")
    return Parsed(np.asarray(X.values), traits, markers, folds)


DECLARATION = DatasetDeclaration(
    name="wheat",
    description="CIMMYT wheat: 599 inbred lines x 1,279 DArT markers, grain yield in 4 "
                "environments (E1-E4)",
    citation=CITATION,
    licence="GPL-3 (BGLR R package)",
    coding="0/1 inbred",
    version=version(BGLR),
    files=(pinned(BGLR, "data/wheat.RData",
                  "8710523389007dd8b7c88a5deb74ee16aea0bae158496bc11f0626fb43b5ea21"),),
    parse=parse,
    default_traits=("E1", "E2", "E3", "E4"),
    references=_refs(),
)
