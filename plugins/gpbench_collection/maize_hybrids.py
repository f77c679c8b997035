"""The ``maize-hybrids`` dataset: 1,254 maize Dent x Flint single-cross hybrids with grain
yield and grain moisture; hybrid genotypes built from the 0/1 markers of their 123 Dent and 86
Flint parents (sommer 4.3.6's ``DT_technow.RData``, Technow et al. 2014)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataError, DatasetDeclaration, Parsed, read_r

from .sources import SOMMER, pinned, version

TRAITS = ("GY", "GM")
CITATION = ("Technow F, Schrag TA, Schipprack W, Bauer E, Simianer H, Melchinger AE. Genome "
            "properties and prospects of genomic prediction of hybrid performance in a breeding "
            "program of maize. Genetics 197, 1343-1355 (2014). Data: sommer R package 4.3.6 "
            "(cran/sommer).")


def hybrid_genotypes(dent: pd.DataFrame, flint: pd.DataFrame, dent_ids: list[str],
                     flint_ids: list[str]) -> tuple[np.ndarray, list[str]]:
    """Genotypes of single crosses from their parents' marker matrices.

    ``dent`` and ``flint`` are parents x markers (index = parent name); hybrid ``k`` is
    ``dent_ids[k] x flint_ids[k]``. When both pools are typed on the same markers (same names,
    same order), a hybrid's dosage is the sum of its parents' (inbred parents coded 0/1 give
    0/1/2: the count of the allele coded 1 in the hybrid); otherwise the two marker sets are
    concatenated, named ``dent:<marker>`` and ``flint:<marker>``. Returns the matrix and the
    marker names.
    """
    unknown = sorted(set(dent_ids) - set(dent.index)) + sorted(set(flint_ids) - set(flint.index))
    if unknown:
        raise DataError(f"hybrid parents without genotypes: {unknown[:5]}")
    d = dent.loc[dent_ids].to_numpy(dtype=np.float32)
    f = flint.loc[flint_ids].to_numpy(dtype=np.float32)
    if list(dent.columns) == list(flint.columns):
        return d + f, [str(c) for c in dent.columns]
    names = [f"dent:{c}" for c in dent.columns] + [f"flint:{c}" for c in flint.columns]
    return np.concatenate([d, f], axis=1), names


def _parents(matrix) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(matrix.values),
                        index=[str(i) for i in matrix.coords[matrix.dims[0]].values],
                        columns=[str(m) for m in matrix.coords[matrix.dims[1]].values])


def parse(files: dict[str, Path]) -> Parsed:
    """Hybrids ``DT_technow`` (one row per hybrid: ``hy`` = "dent:flint", ``dent``, ``flint``,
    ``GY``, ``GM``) with genotypes summed from ``Md_technow`` and ``Mf_technow`` (parents x the
    same 35,478 SNPs, 0/1), parents matched by name. Each hybrid's ``dent`` and ``flint``
    parent are offered as groupings (``--cv group:dent``: predict crosses of new dent lines)."""
    objs = read_r(files["DT_technow.RData"])
    pheno = objs["DT_technow"]
    dent, flint = _parents(objs["Md_technow"]), _parents(objs["Mf_technow"])
    if list(dent.columns) != list(flint.columns):
        raise DataError(f"{files['DT_technow.RData']}: Dent and Flint parents are typed on "
                        "different markers; replace the file with the original")
    genotypes, names = hybrid_genotypes(dent, flint, pheno["dent"].astype(str).tolist(),
                                        pheno["flint"].astype(str).tolist())
    traits = pd.DataFrame({t: pheno[t].to_numpy(dtype=float) for t in TRAITS},
                          index=pd.Index(pheno["hy"].astype(str).tolist(), name="sample"))
    markers = pd.DataFrame({"chrom": None, "pos": np.nan}, index=names)
    groups = pd.DataFrame({p: pheno[p].astype(str).to_numpy() for p in ("dent", "flint")},
                          index=traits.index)
    return Parsed(genotypes, traits, markers, groups=groups)


DECLARATION = DatasetDeclaration(
    name="maize-hybrids",
    description="maize Dent x Flint single crosses (Technow 2014): 1,254 hybrids x 35,478 SNPs "
                "(dent 0/1 + flint 0/1 parent = 0/1/2), grain yield and grain moisture; "
                "groups: dent, flint",
    citation=CITATION,
    licence="GPL (>= 2) (sommer R package)",
    coding="0/1/2 (hybrid = dent 0/1 + flint 0/1 parent)",
    version=f"{version(SOMMER)} (4.3.6)",
    files=(pinned(SOMMER, "data/DT_technow.RData",
                  "2d9463086fd3d4c4e5e0641629b316c54941abab86a06bfb8ff4459762e81bf6"),),
    parse=parse,
    parser_version=2,  # 2: dent and flint parents offered as groupings (data unchanged)
    default_traits=TRAITS,
)
