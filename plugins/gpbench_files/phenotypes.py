"""Phenotype files: a CSV/TSV with an id column and one numeric column per trait."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gpbench import DataError

from .tables import read_numeric_table


def read_phenotypes(path: Path, id_column: str | None = None) -> pd.DataFrame:
    """Traits indexed by individual id (strings); NaN = not measured.

    ``id_column`` names the id column (default: the first column). A trait column with no
    measured value is an error, as are duplicate ids and non-numeric values.
    """
    path = Path(path)
    _, frame = read_numeric_table(path, id_column, what="phenotype", dtype="float64")
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise DataError(f"{path}: trait column(s) {empty} have no measured value; fill them "
                        "or delete the column(s)")
    return frame
