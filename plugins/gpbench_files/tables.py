"""Delimited text tables (CSV, TSV, semicolon-separated): an id column plus numeric columns.

Used for phenotype files and for genotype matrices. The delimiter is sniffed from the header
line; the numeric columns are parsed by pandas' C parser, and only when that fails is the file
read again as text: cells with blanks around them are converted there, and the first cell that
is not a number is named by file, row, column and value. Phenotype tables may hold text columns
(names, families): a column without a number in it is skipped with a note.
"""

from __future__ import annotations

import gzip
import logging
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from gpbench import DataError, unique_ids

log = logging.getLogger("gpbench.files")

# cells read as missing: the empty cell (what pandas' to_csv writes for NaN) and the usual
# spellings of "not available"
NA_VALUES = ["", "NA", "NaN", "nan", "N/A", "n/a", "NULL", "null", ".", "-", "?"]
MISSING = frozenset(NA_VALUES)
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


def _bad_cell(path: Path, raw: pd.DataFrame, id_col: str, col: str, row: int, what: str,
              text_columns: bool) -> DataError:
    """The error naming file, row, id, column and value of a cell that is not a number."""
    hint = (f", or leave the column out with --ignore-columns {col}" if text_columns else
            ", and keep only numeric columns besides the id")
    return DataError(
        f"{path}: row {row + 2} (id {raw[id_col].iloc[row]!r}), column {col!r}: {what} "
        f"{raw[col].iloc[row]!r} is not a number; write a missing value as NA or an empty "
        f"cell{hint}")


def _read_as_text(path: Path, sep: str, columns: list[str], id_col: str, keep: list[str],
                  what: str, dtype: str, text_columns: bool) -> pd.DataFrame:
    """Read the table as text and convert each column (what pandas' fast path refused).

    Cells are stripped of blanks and matched against the missing-value spellings. A column
    with a cell that is not a number is an error naming that cell, except with
    ``text_columns``: a column without any number in it is then skipped with a note.
    """
    raw = pd.read_csv(path, sep=sep, header=0, names=columns, dtype=str, keep_default_na=False)
    values: dict[str, pd.Series] = {}
    text: list[tuple[str, int]] = []
    for col in keep:
        cells = raw[col].str.strip()
        missing = cells.isin(MISSING)
        numbers = pd.to_numeric(cells.where(~missing), errors="coerce")
        bad = numbers.isna().to_numpy() & ~missing.to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            if text_columns and not numbers.notna().any():
                text.append((col, row))
                continue
            raise _bad_cell(path, raw, id_col, col, row, what, text_columns)
        values[col] = numbers.astype(dtype)
    if text and not values:  # no numeric column left: a table of the wrong kind
        raise _bad_cell(path, raw, id_col, text[0][0], text[0][1], what, text_columns)
    if text:
        log.info("%s: ignored text column(s) %s (no numbers, not traits; --ignore-columns %s "
                 "silences this note)", path.name, ", ".join(repr(c) for c, _ in text),
                 ",".join(c for c, _ in text))
    ids = raw[id_col].str.strip()
    frame = pd.DataFrame(values, index=raw.index)
    frame.insert(0, id_col, ids.where(~ids.isin(MISSING)))
    return frame


def read_numeric_table(path: Path, id_column: str | None = None, what: str = "value",
                       dtype: str = "float64", ignore: Iterable[str] = (),
                       text_columns: bool = False) -> tuple[str, pd.DataFrame]:
    """Read a delimited table into a numeric frame indexed by the id column.

    Args:
        path: the CSV/TSV file (optionally gzipped).
        id_column: name of the id column; None = the first column.
        what: what a cell holds, for messages ("dosage", "phenotype").
        dtype: dtype of the numeric columns.
        ignore: columns to leave out (besides the id column).
        text_columns: skip columns that hold no number at all (with a note) instead of
            refusing them.

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
    ignore = [c.strip() for c in ignore]
    absent = [c for c in ignore if c not in columns]
    if absent:
        raise DataError(f"{path}: no column(s) {absent} to ignore; its columns start with "
                        f"{columns[:5]} (check --ignore-columns)")
    if id_col in ignore:
        raise DataError(f"{path}: column {id_col!r} is the id column; drop it from "
                        "--ignore-columns")
    twice = repeated(columns)
    if twice:
        raise DataError(f"{path}: the header names column(s) {twice[:5]} more than once; "
                        "give every column its own name")
    keep = [c for c in columns if c != id_col and c not in ignore]
    if not keep:
        raise DataError(f"{path}: only an id column; add one column per "
                        f"{'trait' if what == 'phenotype' else 'marker'}")
    try:
        # the header's names as cleaned above ("id ," and '"id"' name the column id)
        # (ignored columns are read as text and dropped: usecols would hide ragged rows)
        frame = pd.read_csv(path, sep=sep, header=0, names=columns,
                            dtype=defaultdict(lambda: dtype, dict.fromkeys([id_col, *ignore],
                                                                           str)),
                            na_values=NA_VALUES, keep_default_na=False, engine="c")
        if ignore:
            frame = frame.drop(columns=ignore)
    except pd.errors.ParserError as exc:  # a row with more fields than the header
        raise _ragged(path, sep, exc) from None
    except ValueError:  # a cell that is not a number (or one with blanks around it)
        try:
            frame = _read_as_text(path, sep, columns, id_col, keep, what, dtype, text_columns)
        except pd.errors.ParserError as exc:
            raise _ragged(path, sep, exc) from None
    ids = frame.pop(id_col)
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise DataError(f"{path}: row {row + 2}, column {id_col!r}: the id is empty or NA; "
                        "give every row an id or delete the row")
    frame.index = pd.Index(ids.astype(str).str.strip().to_numpy(dtype=object), name="id")
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.index.has_duplicates:
        unique_ids(list(frame.index), path, f"id (column {id_col!r})")
    return id_col, frame


def id_columns_matching(path: Path, ids: Iterable[str]) -> list[tuple[str, int]]:
    """(column, number of its values in ``ids``) of every column of the table holding any of
    ``ids``, in the file's column order (read as text; for proposing an id column)."""
    header = header_line(path)
    sep = sniff_delimiter(path, header)
    columns = [c.strip().strip('"') for c in header.split(sep)]
    try:
        raw = pd.read_csv(path, sep=sep, header=0, names=columns, dtype=str,
                          keep_default_na=False)
    except (ValueError, pd.errors.ParserError):
        return []
    wanted = set(ids)
    out = []
    for col in raw.columns:
        n = int(raw[col].str.strip().isin(wanted).sum())
        if n:
            out.append((str(col), n))
    return out


def _ragged(path: Path, sep: str, exc: Exception) -> DataError:
    return DataError(f"{path}: rows have different numbers of {_DELIMITERS[sep]}-separated "
                     f"fields ({str(exc).strip().splitlines()[-1]}); check the delimiter and "
                     "quoting")
