"""Result records on disk: a packed store per run directory and a journal of new units.

A run directory holds ``run.json`` (what was asked), ``folds/`` (fold assignment files),
``results.parquet`` (every packed record, see :mod:`gpbench.storage.pack`), ``results/``
(one JSON record per unit finished since the last pack: the journal a killed run resumes
from) and the rendered leaderboard. Every file is only ever visible complete: it is written
to a temporary file in the same directory, flushed, fsynced and renamed over the target. A
run packs its journal when it ends; a record in the journal wins over a packed one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gpbench.api.errors import GpbenchError
from gpbench.storage.atomic import atomic_write_bytes, atomic_write_json
from gpbench.storage.pack import PACK_NAME, decode, encode

SCHEMA_VERSION = 1
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
    for key in ("timing", "cpu", "fit_info", "used_options", "tuning", "predictions",
                "versions"):
        if rec.get(key) is not None and not isinstance(rec[key], dict):
            return f"field {key!r} is not an object"
    for key in ("timing", "cpu"):
        for name, value in (rec.get(key) or {}).items():
            if not _finite_number(value):
                return f"{key} {name!r} is not a number ({value!r})"
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


class PackError(GpbenchError):
    pass


def holds_results(run_dir: Path) -> bool:
    """True when ``run_dir`` has a results pack or a journal (is a run's --out directory)."""
    return (Path(run_dir) / PACK_NAME).exists() or (Path(run_dir) / "results").is_dir()


def strip_history(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without its training history (``fit_info["history"]``): kept only with
    ``--keep-history``; nothing a board shows reads it."""
    info = record.get("fit_info")
    if not isinstance(info, dict) or "history" not in info:
        return record
    return {**record, "fit_info": {k: v for k, v in info.items() if k != "history"}}


class ResultStore:
    """The results of one run directory."""

    def __init__(self, run_dir: Path, keep_history: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.results_dir = self.run_dir / "results"
        self.pack_path = self.run_dir / PACK_NAME
        self.keep_history = keep_history
        self._cache: dict[Path, tuple[tuple[int, int], dict[str, dict[str, Any]]]] = {}

    def path(self, unit_id: str) -> Path:
        """The journal file of ``unit_id`` (where a new record is written)."""
        return self.results_dir / f"{unit_id}.json"

    def write(self, record: dict[str, Any]) -> None:
        record = {"schema": SCHEMA_VERSION, **record}
        if not self.keep_history:
            record = strip_history(record)
        atomic_write_json(self.path(record["unit_id"]), record)

    def _decoded(self, path: Path) -> dict[str, dict[str, Any]]:
        """unit_id -> record of the pack at ``path``, read once per change of the file."""
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, {r["unit_id"]: r for r in decode(path)})
            self._cache[path] = cached
        return cached[1]

    def packed(self) -> dict[str, dict[str, Any]]:
        """unit_id -> record of the pack (empty without one); raises :class:`PackError` with
        what to do when the file is damaged."""
        if not self.pack_path.exists():
            return {}
        try:
            return self._decoded(self.pack_path)
        except Exception as exc:  # noqa: BLE001 - any damage reads the same to a user
            raise PackError(
                f"{self.pack_path} is damaged ({type(exc).__name__}: {exc}); restore it "
                "(e.g. git checkout) or move it away to rerun its units") from exc

    def read(self, unit_id: str) -> dict[str, Any] | None:
        """The record of ``unit_id``, or None when it is missing or unreadable."""
        rec, _ = load_record(self.path(unit_id))
        if rec is not None:
            return rec
        for path in sorted(self.results_dir.glob("*.parquet"), reverse=True):
            try:
                rec = self._decoded(path).get(unit_id)
            except Exception:  # noqa: BLE001 - named by scan(); its units are rerun
                continue
            if rec is not None:
                return rec
        return self.packed().get(unit_id)

    def is_done(self, unit_id: str) -> bool:
        """True when the unit has a readable record with status ok (else it is rerun)."""
        rec = self.read(unit_id)
        return rec is not None and rec.get("status") == "ok"

    def done_ids(self) -> set[str]:
        """unit_ids with a readable record whose status is ok, from one pass over the pack
        and the journal (what :meth:`is_done` says of each, without a scan per unit)."""
        return {r["unit_id"] for r in self.records() if r.get("status") == "ok"}

    def _journal(self) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
        """Records of the journal: packs copied in from other run directories
        (``results/*.parquet``, e.g. another machine's share of the run), then one JSON file
        per unit finished here (these win)."""
        records, unreadable = {}, []
        for p in sorted(self.results_dir.glob("*.parquet")):
            try:
                records.update(self._decoded(p))
            except Exception as exc:  # noqa: BLE001 - any damage reads the same to a user
                unreadable.append((p.name, f"not a readable results pack ({exc})"))
        for p in sorted(self.results_dir.glob("*.json")):
            rec, problem = load_record(p)
            if rec is None:
                unreadable.append((p.name, problem or "unreadable"))
            else:
                records[rec["unit_id"]] = rec
        return records, unreadable

    def scan(self) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """Readable records (pack and journal; the journal's wins), and (file name, reason)
        for every journal file that is not one."""
        journal, unreadable = self._journal()
        merged = {**self.packed(), **journal}
        return [merged[k] for k in sorted(merged)], unreadable

    def records(self) -> list[dict[str, Any]]:
        """Readable records (see :meth:`scan` for the files that are not)."""
        return self.scan()[0]

    def pack(self, keep: set[str] | None = None) -> int:
        """Move the journal into the pack: one atomic write of every record (only those in
        ``keep`` when given), then the journal files it now holds are removed. A kill at any
        point leaves every record readable. Returns how many records the pack holds."""
        journal, unreadable = self._journal()
        merged = {**self.packed(), **journal}
        if keep is not None:
            merged = {k: v for k, v in merged.items() if k in keep}
        if not merged and not self.pack_path.exists():
            return 0
        # histories were stripped when written (unless --keep-history); records already in the
        # pack keep what an earlier --keep-history run stored
        records = [merged[k] for k in sorted(merged)]
        atomic_write_bytes(self.pack_path, encode(records))
        for uid in journal:
            self.path(uid).unlink(missing_ok=True)
        unreadable_names = {name for name, _ in unreadable}  # kept for a look
        for copied in self.results_dir.glob("*.parquet"):
            if copied.name not in unreadable_names:
                copied.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.results_dir.rmdir()  # only when empty (unreadable files stay for a look)
        return len(records)

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
