"""The packed results of a run directory: one Parquet file holding every unit's record.

One row per stored prediction (unit, trait, sample, observed, predicted), plus the unit's
record without its predictions as JSON on the unit's first row. Parquet because it is
columnar and compressed (predictions with byte-stream-split), readable by pandas, R, polars
and DuckDB, and one file a run directory instead of one file a unit. Records are stored as JSON
and every float exactly, so a record reads back exactly as it was written.

Every model of a fold predicts the same test samples with the same observed values, so format 2
stores each (trait, sample, observed) triple once: a row that repeats an earlier row's triple
leaves ``sample`` and ``y_true`` empty and names that row in ``ref`` (its 0-based row number;
empty on rows that hold their own). That halves what observed values and sample ids cost (a
third of a six-model pack). :func:`decode` reads formats 1 to 3; with pandas alone::

    df = pd.read_parquet("results.parquet")
    src = df["ref"].fillna(pd.Series(range(len(df)))).astype(int).to_numpy()
    df["sample"], df["y_true"] = df["sample"].to_numpy()[src], df["y_true"].to_numpy()[src]

Format 3 adds ``y_pred32``: the runner keeps predictions to float32 precision (seven
significant digits, far below any model's error), and a unit whose predictions are all exact
float32 values stores them there (4 bytes each instead of 8; a pack of predictions is ~40%
smaller), leaving ``y_pred`` empty; units recorded before (float64 predictions) keep ``y_pred``.
With pandas: ``df["y_pred"] = df["y_pred"].fillna(df["y_pred32"].astype("float64"))``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from gpbench.storage.atomic import _jsonable

PACK_NAME = "results.parquet"
PACK_FORMAT = 3
_COLUMNS = ("unit_id", "trait", "sample", "y_true", "ref", "y_pred", "y_pred32", "record")


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("unit_id", pa.dictionary(pa.int32(), pa.string())),
        ("trait", pa.dictionary(pa.int32(), pa.string())),
        ("sample", pa.dictionary(pa.int32(), pa.string())),
        ("y_true", pa.float64()), ("ref", pa.int32()), ("y_pred", pa.float64()),
        ("y_pred32", pa.float32()), ("record", pa.string()),
    ], metadata={b"gpbench_pack_format": str(PACK_FORMAT).encode()})


def encode(records: Iterable[dict[str, Any]]) -> bytes:
    """The Parquet bytes of ``records`` (each a record dict as the runner writes it)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    first_row: dict[tuple[Any, Any, Any], int] = {}  # (trait, sample, observed) -> its row
    for rec in records:
        preds = rec.get("predictions") or {}
        rec = _jsonable(rec)  # NaN -> None, numpy -> Python, as in the JSON records
        head = {k: v for k, v in rec.items() if k != "predictions"}
        head["prediction_traits"] = list(preds)  # keeps a trait with no stored prediction
        first = json.dumps(head, sort_keys=True, allow_nan=False)
        rows = [(t, s, yt, yp) for t, p in preds.items()
                for s, yt, yp in zip(p["sample"], p["y_true"], p["y_pred"], strict=True)]
        if not rows:
            rows = [(None, None, None, None)]
        narrow = _float32_exact([yp for *_, yp in rows])
        for i, (t, s, yt, yp) in enumerate(rows):
            row = len(cols["unit_id"])
            sample = None if s is None else str(s)
            # the observed value's bits, so -0.0 and 0.0 (or two NaN payloads) never merge
            key = (t, sample, None if yt is None else float(yt).hex())
            ref = None if t is None else first_row.setdefault(key, row)
            own = ref is None or ref == row
            cols["unit_id"].append(rec["unit_id"])
            cols["trait"].append(t)
            cols["sample"].append(sample if own else None)
            cols["y_true"].append(yt if own else None)
            cols["ref"].append(None if own else ref)
            cols["y_pred"].append(None if narrow else yp)
            cols["y_pred32"].append(yp if narrow else None)
            cols["record"].append(first if i == 0 else None)
    table = pa.Table.from_pydict(cols, schema=_schema())
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", compression_level=9,
                   use_byte_stream_split=["y_pred", "y_pred32"],
                   use_dictionary=["unit_id", "trait", "sample", "y_true"],
                   column_encoding={"ref": "DELTA_BINARY_PACKED"}, row_group_size=1 << 20)
    return sink.getvalue()


def float32_precision(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to the nearest float32 (as float64); left as they are where a finite
    value would not fit in float32 (a diverged model's predictions keep their size)."""
    with np.errstate(over="ignore"):
        narrow = values.astype(np.float32).astype(np.float64)
    return narrow if np.array_equal(np.isfinite(narrow), np.isfinite(values)) else values


def _float32_exact(values: list[Any]) -> bool:
    """Whether every value (None for a unit without predictions) is a float32 number exactly
    (NaN counts: its payload is not kept)."""
    v = np.asarray([np.nan if x is None else x for x in values], dtype=np.float64)
    with np.errstate(over="ignore"):
        back = v.astype(np.float32).astype(np.float64)
    return bool(np.all((back == v) | (np.isnan(back) & np.isnan(v))))


def decode(path: Path) -> list[dict[str, Any]]:
    """The records stored in the pack at ``path`` (raises on a damaged file)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    fmt = meta.get(b"gpbench_pack_format")
    if fmt is None or int(fmt) > PACK_FORMAT:
        raise ValueError(f"not a gpbench results pack of format <= {PACK_FORMAT}")
    unit = table.column("unit_id").to_pylist()
    trait = table.column("trait").to_pylist()
    sample = table.column("sample").to_pylist()
    y_true = table.column("y_true").to_numpy(zero_copy_only=False)
    if "ref" in table.column_names:  # format 2: repeated (trait, sample, observed) by row
        ref = table.column("ref").to_numpy(zero_copy_only=False)
        src = np.where(np.isnan(ref), np.arange(len(ref)), np.nan_to_num(ref)).astype(np.int64)
        y_true = y_true[src]
        sample = [sample[j] for j in src]
    y_pred = table.column("y_pred").to_numpy(zero_copy_only=False)
    if "y_pred32" in table.column_names:  # format 3: float32-exact units stored narrow
        narrow = table.column("y_pred32").to_numpy(zero_copy_only=False).astype(np.float64)
        y_pred = np.where(table.column("y_pred32").is_valid().to_numpy(zero_copy_only=False),
                          narrow, y_pred)
    record = table.column("record").to_pylist()
    starts = [i for i, r in enumerate(record) if r is not None]
    out = []
    for a, b in zip(starts, [*starts[1:], len(record)], strict=True):
        rec = json.loads(record[a])
        if any(u != rec["unit_id"] for u in unit[a:b]):
            raise ValueError(f"rows of unit {rec['unit_id']} are interleaved with another's")
        preds: dict[str, dict[str, list]] = {t: {"sample": [], "y_true": [], "y_pred": []}
                                             for t in rec.pop("prediction_traits", [])}
        for i in range(a, b):
            if trait[i] is None:
                continue
            p = preds.setdefault(trait[i], {"sample": [], "y_true": [], "y_pred": []})
            p["sample"].append(sample[i])
            p["y_true"].append(float(y_true[i]))
            p["y_pred"].append(float(y_pred[i]))
        if preds or rec.get("status") == "ok":
            rec["predictions"] = preds
        out.append(rec)
    return out


def as_arrays(rec: dict[str, Any], trait: str) -> tuple[np.ndarray, np.ndarray]:
    """Observed and predicted values of ``trait`` in a record, as float arrays."""
    p = (rec.get("predictions") or {}).get(trait) or {}
    return (np.asarray(p.get("y_true", []), dtype=float),
            np.asarray(p.get("y_pred", []), dtype=float))
