"""The ``potato`` dataset: a tetraploid potato diversity panel, 221 clones x 3,522 SNPs as
allele dosages 0-4 (187 clones phenotyped for 13 tuber and plant traits; sommer 4.3.6's
``DT_polyploid.RData``, Rosyara et al. 2016).

rdata's converter fails on ``GT_polyploid`` (a data.frame of one factor per SNP), so this
module reads the workspace with rdata's lower-level parser and decodes the R objects itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpbench import DataError, DatasetDeclaration, Parsed, aggregate_mean

from .sources import SOMMER, pinned, version

TRAITS = ("total_yield", "chip_color", "tuber_eye_depth", "tuber_shape", "tuber_size",
          "tuber_length", "tuber_width", "sucrose", "log10_glucose", "log10_fructose",
          "malic_acid", "vine_maturity_95d", "vine_maturity_120d")
PLOIDY = 4
CITATION = ("Rosyara UR, De Jong WS, Douches DS, Endelman JB. Software for genome-wide "
            "association studies in autopolyploids and its application to potato. The Plant "
            "Genome 9(2) (2016), doi:10.3835/plantgenome2015.08.0073. Data: sommer R package "
            "4.3.6 (cran/sommer).")


# --------------------------------------------------------------------------- allele strings


def decode_tetraploid(codes: np.ndarray, levels: list[str]) -> tuple[np.ndarray, str]:
    """Dosages of one SNP from its genotype calls given as factor codes.

    ``codes`` are 0-based indices into ``levels`` (allele strings such as ``"AAAG"``), -1 for a
    missing call. The counted allele is the minor allele of the SNP: the one with the lower
    count over all called allele copies (on a tie, the later letter alphabetically). Returns
    float32 dosages 0-4 (NaN = missing) and the counted allele ("" for a monomorphic SNP, whose
    dosages are all 0).
    """
    letters = sorted(set("".join(levels)))
    if len(letters) > 2 or any(len(level) != PLOIDY for level in levels):
        raise DataError(f"genotype levels {levels} are not tetraploid calls of a biallelic SNP")
    codes = np.asarray(codes)
    called = codes[codes >= 0]
    n_per_level = np.bincount(called, minlength=len(levels))
    counts = {a: sum(int(n) * level.count(a) for n, level in zip(n_per_level, levels,
                                                                   strict=True))
              for a in letters}
    if len(letters) < 2:
        allele = ""
    else:
        allele = min(reversed(letters), key=lambda a: counts[a])
    table = np.array([level.count(allele) if allele else 0 for level in levels] + [np.nan],
                     dtype=np.float32)
    return table[np.where(codes >= 0, codes, len(levels))], allele


# --------------------------------------------------------------------------- R objects


def _name(obj: Any) -> str | None:
    """The text of a tag (a symbol, possibly referenced)."""
    if obj is None:
        return None
    if obj.info.type.name == "REF":
        obj = obj.referenced_object
    if obj.info.type.name == "SYM":
        obj = obj.value
    return None if obj.value is None else obj.value.decode()


def _pairlist(obj: Any) -> dict[str | None, Any]:
    """A pairlist (attributes, the workspace itself) as ``{tag: value}``."""
    out: dict[str | None, Any] = {}
    while obj is not None and obj.info.type.name in ("LIST", "ATTRLIST"):
        out[_name(obj.tag)] = obj.value[0]
        obj = obj.value[1]
    return out


def _strings(obj: Any) -> list[str | None]:
    return [None if c.value is None else c.value.decode() for c in obj.value]


def _column(obj: Any) -> tuple[np.ndarray, list[str] | None]:
    """A data.frame column: ``(values, levels)``; factors give 0-based codes (-1 = NA) and
    their levels, numeric columns float values (NaN = NA) and ``None``."""
    attrs = _pairlist(obj.attributes)
    kind = obj.info.type.name
    if "levels" in attrs:
        codes = np.ma.filled(np.ma.asarray(obj.value).astype(np.int64), 0) - 1
        return codes, [s or "" for s in _strings(attrs["levels"])]
    if kind in ("INT", "LGL"):
        return np.ma.filled(np.ma.asarray(obj.value).astype(float), np.nan), None
    if kind == "REAL":
        return np.asarray(obj.value, dtype=float), None
    raise DataError(f"unexpected R column type {kind}")


def _frame(obj: Any) -> tuple[list[str], list[tuple[np.ndarray, list[str] | None]], Any]:
    """A data.frame: column names, decoded columns and its raw ``row.names`` attribute."""
    attrs = _pairlist(obj.attributes)
    return _strings(attrs["names"]), [_column(c) for c in obj.value], attrs.get("row.names")


def _labels(column: tuple[np.ndarray, list[str] | None]) -> list[str]:
    codes, levels = column
    if levels is None:
        raise DataError("expected a factor column of names")
    return [levels[c] if c >= 0 else "" for c in codes]


# --------------------------------------------------------------------------- parse


def parse(files: dict[str, Path]) -> Parsed:
    """``GT_polyploid`` (clones x SNP factors of allele strings, row names = clone names)
    decoded to minor-allele dosages, the map ``MP_polyploid`` (Locus, Chrom, Position) and
    ``DT_polyploid`` (column ``Name``; its population-group columns Grp1-4 are covariates,
    not traits) averaged per clone. Every genotyped clone is kept; a clone without phenotype
    records has NaN traits."""
    import rdata

    path = files["DT_polyploid.RData"]
    try:
        workspace = _pairlist(rdata.parser.parse_file(path).object)
    except Exception as exc:  # rdata raises many types on corrupt input
        raise DataError(f"could not read R file {path} ({type(exc).__name__}: {exc}); "
                        "replace it with the original file") from exc
    missing = {"GT_polyploid", "DT_polyploid", "MP_polyploid"} - set(workspace)
    if missing:
        raise DataError(f"{path}: objects {sorted(missing)} not found")

    snps, gt_cols, row_names = _frame(workspace["GT_polyploid"])
    if row_names is None or row_names.info.type.name != "STR":
        raise DataError(f"{path}: GT_polyploid has no clone names as row names")
    ids = [s or "" for s in _strings(row_names)]
    genotypes = np.empty((len(ids), len(snps)), dtype=np.float32)
    for j, (codes, levels) in enumerate(gt_cols):
        if levels is None:
            raise DataError(f"{path}: GT_polyploid column {snps[j]} is not a factor")
        genotypes[:, j] = decode_tetraploid(codes, levels)[0]

    map_names, map_cols, _ = _frame(workspace["MP_polyploid"])
    by_name = dict(zip(map_names, map_cols, strict=True))
    if _labels(by_name["Locus"]) != snps:
        raise DataError(f"{path}: MP_polyploid loci do not match GT_polyploid's columns")
    markers = pd.DataFrame({"chrom": [str(int(c)) for c in by_name["Chrom"][0]],
                            "pos": by_name["Position"][0]}, index=snps)

    dt_names, dt_cols, _ = _frame(workspace["DT_polyploid"])
    dt = dict(zip(dt_names, dt_cols, strict=True))
    absent = [t for t in ("Name", *TRAITS) if t not in dt]
    if absent:
        raise DataError(f"{path}: DT_polyploid lacks columns {absent}")
    records = pd.DataFrame({"Name": _labels(dt["Name"]), **{t: dt[t][0] for t in TRAITS}})
    means = aggregate_mean(records, "Name", list(TRAITS)).set_index("Name")
    if not means.index.isin(ids).any():
        raise DataError(f"{path}: no DT_polyploid Name matches a GT_polyploid row name")
    traits = means.reindex(pd.Index(ids, name="sample"))
    return Parsed(genotypes, traits, markers)


DECLARATION = DatasetDeclaration(
    name="potato",
    description="tetraploid potato panel: 221 clones x 3,522 SNPs (minor-allele dosage 0-4, "
                "7.5% missing), 13 tuber and plant traits on 187 clones",
    citation=CITATION,
    licence="GPL (>= 2) (sommer R package)",
    coding="0-4 tetraploid dosage (minor allele)",
    version=f"{version(SOMMER)} (4.3.6)",
    files=(pinned(SOMMER, "data/DT_polyploid.RData",
                  "8cb40d18fa12aea3b703cae755c4afae8e13b708c7ef176bf38d039637ba72c8"),),
    parse=parse,
    default_traits=("total_yield", "chip_color", "sucrose", "tuber_shape"),
)
