"""The ``mice`` dataset: 1,814 heterogeneous-stock mice x 10,346 SNPs, 21 obesity and blood
chemistry traits (BGLR's ``mice.RData``, Valdar et al. 2006)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataError, DatasetDeclaration, Parsed, join_by_id, read_r

from .sources import BGLR, pinned, version

CITATION = ("Valdar W, Solberg LC, Gauguier D, Burnett S, Klenerman P, Cookson WO, et al. "
            "Genome-wide genetic association of complex traits in heterogeneous stock mice. "
            "Nature Genetics 38, 879-887 (2006). Data: BGLR R package (gdlc/BGLR-R).")
# mice.pheno has 37 columns beside SUBJECT.NAME: these 21 are measurements of the animal;
# the other 16 (test dates, season, hour, age, sex, coat colour, litter, cage, cage density)
# are covariates or design variables and are not offered as traits (docs/notes/datasets.md); sex
# (GENDER) is declared as a covariate: the host fits it on each training fold and adds its
# effect back to predictions (docs/notes/design-effects.md)
TRAITS = (
    "Obesity.BMI", "Obesity.BodyLength", "Obesity.EndNormalBW",
    "Biochem.Albumin", "Biochem.ALP", "Biochem.ALT", "Biochem.AST", "Biochem.Calcium",
    "Biochem.Chloride", "Biochem.Creatinine", "Biochem.Glucose", "Biochem.HDL", "Biochem.LDL",
    "Biochem.Phosphorous", "Biochem.Potassium", "Biochem.Sodium", "Biochem.Tot.Cholesterol",
    "Biochem.Tot.Protein", "Biochem.Triglycerides", "Biochem.Urea", "Biochem.EndNormalBW",
)
COVARIATES = (
    "Obesity.Date.Month", "Obesity.Date.Year", "Obesity.Date.Season",
    "Obesity.Date.StudyStartSeconds", "Obesity.Date.Hour", "Obesity.Date.StudyDay", "GENDER",
    "CoatColour", "CageDensity", "Litter", "cage", "Biochem.Date.StudyDay",
    "Biochem.Date.Season", "Biochem.Date.Month", "Biochem.Date.Year", "Biochem.Age",
)
_GPBENCH = ("GPBench (PyPI gpbench), results on a 1,762-animal version of this data",
            "10-fold CV (GPBench, 1,762-animal version)")


def _refs() -> tuple[dict, ...]:
    rows = [("Obesity.BMI", "GBLUP", .221), ("Obesity.BMI", "BayesB", .255),
            ("Obesity.EndNormalBW", "GBLUP (body weight)", .418),
            ("Obesity.EndNormalBW", "BayesB (body weight)", .470)]
    return tuple({"trait": t, "source": "GPBench", "what": w, "metric": "r", "value": v,
                  "protocol": _GPBENCH[1], "citation": _GPBENCH[0]} for t, w, v in rows)


def parse(files: dict[str, Path]) -> Parsed:
    """``mice.X`` (0/1/2, row names = ids) joined by name to ``mice.pheno$SUBJECT.NAME``;
    marker chromosome and position from ``mice.map``; each animal's ``cage`` is offered as a
    grouping (``--cv group:cage``: cage-mates share an environment); ``GENDER`` (F/M) as the
    covariate."""
    objs = read_r(files["mice.RData"])
    X, pheno, cmap = objs["mice.X"], objs["mice.pheno"], objs["mice.map"]
    expected = {"SUBJECT.NAME", *TRAITS, *COVARIATES}
    if set(pheno.columns) != expected:
        raise DataError(f"{files['mice.RData']}: mice.pheno columns differ from the expected "
                        f"{len(expected)}: {sorted(set(pheno.columns) ^ expected)}")
    frame = pd.DataFrame({"SUBJECT.NAME": pheno["SUBJECT.NAME"].astype(str).to_numpy()})
    for t in TRAITS:
        frame[t] = pd.to_numeric(pheno[t]).astype(float).to_numpy()
    sex = pd.Series(pheno["GENDER"].astype(str).to_numpy(), index=frame["SUBJECT.NAME"])
    rows, traits = join_by_id(X.coords[X.dims[0]].values, frame, "SUBJECT.NAME", "mice")
    marker_ids = [str(m) for m in X.coords[X.dims[1]].values]
    cmap = cmap.set_index(cmap["snp_id"].astype(str))
    markers = pd.DataFrame({"chrom": cmap["chr"].astype(str).reindex(marker_ids).to_numpy(),
                            "pos": cmap["mbp"].astype(float).reindex(marker_ids).to_numpy()},
                           index=marker_ids)
    cage = pd.Series(pheno["cage"].astype(str).to_numpy(), index=frame["SUBJECT.NAME"])
    groups = pd.DataFrame({"cage": cage.reindex(traits.index).to_numpy()}, index=traits.index)
    covariates = pd.DataFrame({"GENDER": sex.reindex(traits.index).to_numpy()},
                              index=traits.index)
    return Parsed(np.asarray(X.values)[rows], traits, markers, groups=groups,
                  covariates=covariates)


DECLARATION = DatasetDeclaration(
    name="mice",
    description="heterogeneous-stock mice: 1,814 animals x 10,346 SNPs, 21 obesity and blood "
                "chemistry traits; groups: cage",
    citation=CITATION,
    licence="GPL-3 (BGLR R package)",
    coding="0/1/2",
    version=version(BGLR),
    files=(pinned(BGLR, "data/mice.RData",
                  "5aec95f7736460cbc98f90fbf02dc12693786d24353bea054768c0da8ae9e3a5"),),
    parse=parse,
    parser_version=3,  # 2: cage offered as a grouping; 3: GENDER kept as a covariate
    default_traits=("Obesity.BMI", "Obesity.EndNormalBW", "Obesity.BodyLength"),
    references=_refs(),
)
