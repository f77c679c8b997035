"""Phenotype files: a CSV/TSV with an id column and one numeric column per trait.

Other columns (names, families, notes) are skipped: those given with ``ignore``, and any column
that holds no number (with a note in the log); :func:`read_groups` offers them as groupings for
grouped CV.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gpbench import DataError

from .tables import MISSING, header_line, read_numeric_table, sniff_delimiter


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


def read_groups(path: Path, id_column: str | None,
                traits: Sequence[str]) -> pd.DataFrame | None:
    """The phenotype file's columns that are not traits (its text columns and those named in
    ``--ignore-columns``), as text labels indexed by id (NaN = missing spelling): the
    groupings ``--cv group:COLUMN`` can use. None when every column is a trait."""
    path = Path(path)
    header = header_line(path)
    sep = sniff_delimiter(path, header)
    columns = [c.strip().strip('"') for c in header.split(sep)]
    id_col = columns[0] if id_column is None else id_column
    other = [c for c in columns if c != id_col and c not in set(traits)]
    if not other:
        return None
    raw = pd.read_csv(path, sep=sep, header=0, names=columns, dtype=str, keep_default_na=False)
    labels = pd.DataFrame({c: raw[c].str.strip() for c in other})
    labels = labels.where(~labels.isin(MISSING))
    labels.index = pd.Index(raw[id_col].str.strip().to_numpy(dtype=object), name="id")
    return labels
