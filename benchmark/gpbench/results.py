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
        try:
            return json.loads(self.path(unit_id).read_text())
        except FileNotFoundError:
            return None
        except json.JSONDecodeError:
            return None  # cannot happen with atomic writes, but never trust a broken file

    def is_done(self, unit_id: str) -> bool:
        rec = self.read(unit_id)
        return rec is not None and rec.get("status") == "ok"

    def records(self) -> list[dict[str, Any]]:
        out = []
        for p in sorted(self.results_dir.glob("*.json")):
            try:
                out.append(json.loads(p.read_text()))
            except (json.JSONDecodeError, OSError):
                continue
        return out

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
