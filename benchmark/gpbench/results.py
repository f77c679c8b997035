"""Result records on disk: one JSON file per unit of work, written atomically.

A run directory holds ``run.json`` (what was asked), ``folds/`` (fold assignment files),
``results/<unit_id>.json`` (one record per finished unit, ok or failed) and the rendered
leaderboard. A record is only ever visible complete: it is written to a temporary file in the
same directory, flushed, fsynced and renamed over the target.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GpbenchError

SCHEMA_VERSION = 1
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN/inf; absence of a value is what it means here
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(_jsonable(obj), indent=1, sort_keys=True).encode())


class RunLockedError(GpbenchError):
    pass


def _finite_number(value: Any) -> bool:
    # None stands for NaN in stored JSON (see _jsonable); strings, lists, objects do not
    if value is None:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def record_problem(rec: Any) -> str | None:
    """Why ``rec`` is not a usable record (None when it is one)."""
    if not isinstance(rec, dict) or not rec:
        return "not a record (empty object or not an object)"
    for key in ("unit_id", "model", "status"):
        if not isinstance(rec.get(key), str):
            return f"field {key!r} missing or not text"
    if rec["status"] != "ok":
        return None
    metrics = rec.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return "status ok but no metrics"
    for key in ("repeat", "fold"):
        if not isinstance(rec.get(key), int) or isinstance(rec.get(key), bool):
            return f"field {key!r} missing or not an integer"
    for trait, scores in metrics.items():
        if not isinstance(scores, dict):
            return f"metrics of {trait!r} are not an object"
        for name, value in scores.items():
            if not _finite_number(value):
                return f"metric {name!r} of {trait!r} is not a number ({value!r})"
    for key in ("timing", "fit_info", "used_options", "tuning", "predictions", "versions"):
        if rec.get(key) is not None and not isinstance(rec[key], dict):
            return f"field {key!r} is not an object"
    for name, value in (rec.get("timing") or {}).items():
        if not _finite_number(value):
            return f"timing {name!r} is not a number ({value!r})"
    for key in ("n_fit", "n_valid"):
        if not _finite_number(rec.get(key)):
            return f"field {key!r} is not a number ({rec[key]!r})"
    for trait, pred in (rec.get("predictions") or {}).items():
        if not isinstance(pred, dict) or not all(
                isinstance(pred.get(k), list) for k in ("sample", "y_true", "y_pred")):
            return f"predictions of {trait!r} are not lists of sample, y_true, y_pred"
        if not all(_finite_number(v) for k in ("y_true", "y_pred") for v in pred[k]):
            return f"predictions of {trait!r} hold non-numbers"
    return None


def load_record(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """Read one results file: (record, None), or (None, why it is unusable) when it is empty,
    truncated, not JSON, ``{}`` or holds non-numbers; (None, None) when it does not exist."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read ({exc})"
    if not text.strip():
        return None, "empty file"
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON, truncated? ({exc.msg} at line {exc.lineno})"
    problem = record_problem(rec)
    return (None, problem) if problem else (rec, None)


class ResultStore:
    """The results of one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.results_dir = self.run_dir / "results"

    def path(self, unit_id: str) -> Path:
        return self.results_dir / f"{unit_id}.json"

    def write(self, record: dict[str, Any]) -> None:
        record = {"schema": SCHEMA_VERSION, **record}
        atomic_write_json(self.path(record["unit_id"]), record)

    def read(self, unit_id: str) -> dict[str, Any] | None:
        """The record of ``unit_id``, or None when it is missing or unreadable."""
        rec, _ = load_record(self.path(unit_id))
        return rec

    def is_done(self, unit_id: str) -> bool:
        """True when the unit has a readable record with status ok (else it is rerun)."""
        rec = self.read(unit_id)
        return rec is not None and rec.get("status") == "ok"

    def scan(self) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """Readable records, and (file name, reason) for every results file that is not one."""
        records, unreadable = [], []
        for p in sorted(self.results_dir.glob("*.json")):
            rec, problem = load_record(p)
            if rec is None:
                unreadable.append((p.name, problem or "unreadable"))
            else:
                records.append(rec)
        return records, unreadable

    def records(self) -> list[dict[str, Any]]:
        """Readable records (see :meth:`scan` for the files that are not)."""
        return self.scan()[0]

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the run directory, refusing if another run holds it."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.run_dir / ".lock", "w")
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise RunLockedError(
                        f"another gpbench run is writing to {self.run_dir}; wait for it to "
                        "finish or choose another --out directory") from exc
                raise
            fh.write(str(os.getpid()))
            fh.flush()
            yield
        finally:
            fh.close()
