"""Delimited text tables (CSV, TSV, semicolon-separated): an id column plus numeric columns.

Used for phenotype files and for genotype matrices. The delimiter is sniffed from the header
line; the numeric columns are parsed by pandas' C parser, and only when that fails is the file
read again to name the first offending row, column and value.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataError, unique_ids

# cells read as missing (besides the empty cell)
NA_VALUES = ["NA", "NaN", "nan", "N/A", "n/a", "NULL", "null", ".", "-", "?"]
_DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon"}


def repeated(names: Iterable[str]) -> list[str]:
    """The names that occur more than once, in the order of their second occurrence."""
    seen: set[str] = set()
    dup: list[str] = []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    return dup


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return open(path, newline="")  # noqa: SIM115


def header_line(path: Path) -> str:
    """The first line of a text file (gzip allowed), or a DataError saying why not."""
    try:
        with _open_text(path) as fh:
            line = fh.readline()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read it as text ({exc}); give a CSV/TSV file") from None
    if not line.strip():
        raise DataError(f"{path}: the file is empty; its first line must be a header")
    return line.rstrip("\r\n")


def sniff_delimiter(path: Path, header: str) -> str:
    """The delimiter of the header line: the most frequent of tab, comma and semicolon."""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise DataError(f"{path}: the header line has a single column ({header[:60]!r}); "
                        "separate the id column and the data columns with commas or tabs")
    return best


def _locate_bad_value(path: Path, sep: str, columns: list[str], id_col: str,
                      what: str) -> DataError:
    """Re-read ``path`` as text and name the first cell that is not a number."""
    frame = pd.read_csv(path, sep=sep, header=0, names=columns, dtype=str,
                        keep_default_na=False)
    for col in frame.columns:
        if col == id_col:
            continue
        cells = frame[col].str.strip()
        missing = cells.isin(["", *NA_VALUES])
        bad = pd.to_numeric(cells.where(~missing), errors="coerce").isna() & ~missing
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            return DataError(
                f"{path}: row {row + 2} (id {frame[id_col].iloc[row]!r}), column {col!r}: "
                f"{what} {frame[col].iloc[row]!r} is not a number; write missing values as NA "
                "or an empty cell, and keep only numeric columns besides the id")
    return DataError(f"{path}: a {what} could not be read as a number")


def read_numeric_table(path: Path, id_column: str | None = None, what: str = "value",
                       dtype: str = "float64") -> tuple[str, pd.DataFrame]:
    """Read a delimited table into a numeric frame indexed by the id column.

    Args:
        path: the CSV/TSV file (optionally gzipped).
        id_column: name of the id column; None = the first column.
        what: what a cell holds, for messages ("dosage", "phenotype").
        dtype: dtype of the numeric columns.

    Returns:
        (id column name, frame of floats with NaN for missing; index = ids as strings).
    """
    path = Path(path)
    header = header_line(path)
    sep = sniff_delimiter(path, header)
    columns = [c.strip().strip('"') for c in header.split(sep)]
    id_col = columns[0] if id_column is None else id_column
    if id_col not in columns:
        raise DataError(f"{path}: no id column {id_col!r}; its columns start with "
                        f"{columns[:5]} (choose one with --id-column)")
    if len(columns) < 2:
        raise DataError(f"{path}: only an id column; add one column per "
                        f"{'trait' if what == 'phenotype' else 'marker'}")
    twice = repeated(columns)
    if twice:
        raise DataError(f"{path}: the header names column(s) {twice[:5]} more than once; "
                        "give every column its own name")
    try:
        # the header's names as cleaned above ("id ," and '"id"' name the column id)
        frame = pd.read_csv(path, sep=sep, header=0, names=columns,
                            dtype=defaultdict(lambda: dtype, {id_col: str}),
                            na_values=NA_VALUES, keep_default_na=False, engine="c")
    except pd.errors.ParserError as exc:  # a row with more fields than the header
        raise _ragged(path, sep, exc) from None
    except ValueError:  # a cell that is not a number
        raise _locate_bad_value(path, sep, columns, id_col, what) from None
    ids = frame.pop(id_col)
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise DataError(f"{path}: row {row + 2} has an empty id in column {id_col!r}")
    frame.index = pd.Index(ids.astype(str).str.strip().to_numpy(dtype=object), name="id")
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.index.has_duplicates:
        unique_ids(list(frame.index), path, f"id (column {id_col!r})")
    return id_col, frame


def _ragged(path: Path, sep: str, exc: Exception) -> DataError:
    return DataError(f"{path}: rows have different numbers of {_DELIMITERS[sep]}-separated "
                     f"fields ({str(exc).strip().splitlines()[-1]}); check the delimiter and "
                     "quoting")
