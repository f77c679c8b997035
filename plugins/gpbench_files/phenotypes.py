"""Phenotype files: a CSV/TSV with an id column and one numeric column per trait.

Other columns (names, families, notes) are skipped: those given with ``ignore``, and any column
that holds no number (with a note in the log).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gpbench import DataError

from .tables import read_numeric_table


def read_phenotypes(path: Path, id_column: str | None = None,
                    ignore: Sequence[str] = ()) -> pd.DataFrame:
    """Traits indexed by individual id (strings); NaN = not measured.

    ``id_column`` names the id column (default: the first column); ``ignore`` names columns
    that are not traits, and columns without any number are skipped too. A trait column with
    no measured value is an error, as are duplicate ids and a text cell among numbers.
    """
    path = Path(path)
    id_col, frame = read_numeric_table(path, id_column, what="phenotype", dtype="float64",
                                  ignore=ignore, text_columns=True)
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise DataError(f"{path}: trait column(s) {empty} have no measured value; fill them "
                        "or delete the column(s)")
    frame.index.name = id_col  # named in messages (the dataset renames it "sample")
    return frame
