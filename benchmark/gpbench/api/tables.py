"""Checks for dataset loaders: numeric phenotype tables, unique ids, genotype/phenotype ids that
match. Each error names the file, the row (as a line number of the file, header = line 1) and
the column, so the user can open the file and fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench.api.errors import DataError


def numeric_columns(frame: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    """``frame`` (read from the CSV ``path`` with its first column as index) as float64; the
    first value that is not a number (missing values are empty or ``NA``) raises DataError."""
    for j, column in enumerate(frame.columns):
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        parsed = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy() & values.notna().to_numpy())
        if len(bad):
            i = int(bad[0])
            raise DataError(f"{path}, line {i + 2}, column {column!r} (column {j + 2}): "
                            f"non-numeric value {values.iloc[i]!r} ({len(bad)} non-numeric "
                            "values in that column); write missing values as NA or leave "
                            "them empty")
    return frame.astype(np.float64)


def unique_ids(ids: Sequence[str], path: Path | str, what: str = "sample id",
               first_line: int = 2) -> None:
    """Raise DataError naming the first repeated id and the lines of both occurrences
    (``first_line``: line number of ``ids[0]`` in the file)."""
    seen: dict[str, int] = {}
    for i, sid in enumerate(ids):
        if sid in seen:
            raise DataError(f"{path}, line {i + first_line}: duplicate {what} {sid!r} (first "
                            f"on line {seen[sid] + first_line}); each id may appear once")
        seen[sid] = i


def match_ids(geno_ids: Sequence[str], pheno_ids: Sequence[str], geno_path: Path | str,
              pheno_path: Path | str, id_column: str = "first column") -> np.ndarray:
    """Row order that aligns the phenotype table with the genotype ids.

    Phenotype ids may be the genotype ids (any order) or the row numbers 1..n (then rows are
    taken in the genotype file's order). Returns ``order`` with ``pheno.iloc[order]`` aligned to
    ``geno_ids``. A mismatch raises DataError naming the first phenotype line whose id matches
    no genotype (or the genotypes missing from the table).
    """
    geno_ids = [str(s) for s in geno_ids]
    pheno_ids = [str(s) for s in pheno_ids]
    unique_ids(geno_ids, geno_path, "genotype id", first_line=1)
    unique_ids(pheno_ids, pheno_path)
    position = {sid: i for i, sid in enumerate(pheno_ids)}
    known = set(geno_ids)
    if set(position) == known:
        return np.array([position[sid] for sid in geno_ids])
    if all(s.isdigit() for s in pheno_ids) and known.isdisjoint(position):  # row numbers
        for i, sid in enumerate(pheno_ids):
            if sid != str(i + 1):
                raise DataError(f"{pheno_path}, line {i + 2}, {id_column}: row number {sid!r} "
                                f"where {i + 1} was expected; rows are numbered 1..n in the "
                                f"order of {geno_path}")
        if len(pheno_ids) == len(geno_ids):
            return np.arange(len(geno_ids))
        raise DataError(f"{pheno_path} has {len(pheno_ids)} rows but {geno_path} has "
                        f"{len(geno_ids)} genotypes; one phenotype row per genotype, in order")
    for i, sid in enumerate(pheno_ids):
        if sid not in known:
            raise DataError(f"{pheno_path}, line {i + 2}, {id_column}: sample id {sid!r} "
                            f"matches no genotype id of {geno_path}; fix the id or remove "
                            "the row")
    missing = [s for s in geno_ids if s not in position][:5]
    raise DataError(f"{pheno_path} has no row for genotype id(s) {missing} of {geno_path}; "
                    "add the rows (NA where not measured)")
