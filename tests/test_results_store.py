"""The results store: one Parquet pack per run directory plus a journal of new units.

Lossless round trips, histories only on request, resume after kill -9, atomic packing,
damaged files named with what to do, and metrics derived from stored predictions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gpbench.boards.derive import derive_all, registered_metrics
from gpbench.boards.leaderboard import load_run_files
from gpbench.cli import main
from gpbench.storage import pack as pack_module
from gpbench.storage.pack import decode, encode
from gpbench.storage.records import PackError, ResultStore
from tests.helpers import run

REPO = Path(__file__).resolve().parents[1]


def _record(uid: str, status: str = "ok", **extra) -> dict:
    rec = {"unit_id": uid, "model": "m", "status": status, "repeat": 0, "fold": 1,
           "options": {"a": 1.5, "b": None}, "timing": {"fit_s": 0.25}, **extra}
    if status == "ok":
        rec["metrics"] = {"T": {"r2": 0.5, "n_test": 3}, "U": {"r2": None, "n_test": 0}}
        rec["predictions"] = {"T": {"sample": ["s1", "s2", "s3"], "y_true": [1.0, 2.5, -3.0],
                                    "y_pred": [0.1 + 0.2, 1e-300, 2.0 / 3.0]},
                              "U": {"sample": [], "y_true": [], "y_pred": []}}
    return rec


def test_pack_round_trip_is_exact(tmp_path):
    records = [_record("a--T--r0f1--1"), _record("b--T--r0f1--2", status="failed",
                                                 error="boom", elapsed_s=float("nan")),
               _record("c--T--r0f1--3", fit_info={"n": 2, "nested": {"x": [1, 2]}})]
    path = tmp_path / "results.parquet"
    path.write_bytes(encode(records))
    back = {r["unit_id"]: r for r in decode(path)}
    expected = json.loads(json.dumps([{**r, "elapsed_s": None} if "elapsed_s" in r else r
                                      for r in records]))
    for rec in expected:
        assert back[rec["unit_id"]] == rec  # floats bit for bit, key order aside
    assert list(back["a--T--r0f1--1"]["predictions"]) == ["T", "U"]


def test_observed_values_are_stored_once_and_read_back_with_pandas(tmp_path):
    """Format 2: a (trait, sample, observed) triple another unit already stored is a reference
    to its row; the records read back exactly, and the docstring's pandas lines restore
    every row's sample and observed value."""
    import pandas as pd

    other = _record("b--T--r0f1--2")
    other["predictions"]["T"]["y_true"][2] = -0.0  # a different observed value: its own row
    path = tmp_path / "results.parquet"
    records = [_record("a--T--r0f1--1"), other]
    path.write_bytes(encode(records))
    df = pd.read_parquet(path)
    assert df["ref"].notna().tolist() == [False, False, False, True, True, False]
    assert df["ref"].dropna().astype(int).tolist() == [0, 1]
    src = df["ref"].fillna(pd.Series(range(len(df)))).astype(int).to_numpy()
    df["sample"], df["y_true"] = df["sample"].to_numpy()[src], df["y_true"].to_numpy()[src]
    assert df["sample"].tolist() == ["s1", "s2", "s3"] * 2
    assert df["y_true"].tolist() == [1.0, 2.5, -3.0, 1.0, 2.5, -0.0]
    assert {r["unit_id"]: r for r in decode(path)} == json.loads(json.dumps(
        {r["unit_id"]: r for r in records}))


def test_float32_predictions_are_stored_narrow_and_read_back_exactly(tmp_path):
    """Format 3: a unit whose predictions are all float32 values (what the runner writes)
    stores them in ``y_pred32``; a unit with float64 predictions (older records) keeps
    ``y_pred``; both read back bit for bit, and the docstring's pandas line merges them."""
    import pandas as pd

    narrow = _record("a--T--r0f1--1")
    narrow["predictions"]["T"]["y_pred"] = [float(np.float32(v)) for v in (0.3, -1e-3, 7.1)]
    wide = _record("b--T--r0f1--2")  # 0.1 + 0.2 is no float32 value
    path = tmp_path / "results.parquet"
    records = [narrow, wide]
    path.write_bytes(encode(records))
    df = pd.read_parquet(path)
    assert df["y_pred32"].notna().tolist() == [True] * 3 + [False] * 3
    assert df["y_pred"].notna().tolist() == [False] * 3 + [True] * 3
    merged = df["y_pred"].fillna(df["y_pred32"].astype("float64")).tolist()
    assert merged == narrow["predictions"]["T"]["y_pred"] + wide["predictions"]["T"]["y_pred"]
    assert decode(path) == json.loads(json.dumps(records))


@pytest.mark.parametrize("fmt", [1, 2])
def test_packs_of_earlier_formats_still_read(tmp_path, fmt):
    """Packs written before format 3 (no ``y_pred32``) and format 2 (no ``ref``) decode as
    they did."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rec = _record("a--T--r0f1--1")
    table = pq.read_table(pa.BufferReader(encode([rec])))
    old = table.drop_columns(["y_pred32", "ref"] if fmt == 1 else ["y_pred32"])
    old = old.replace_schema_metadata({b"gpbench_pack_format": str(fmt).encode()})
    path = tmp_path / "results.parquet"
    pq.write_table(old, path)
    assert decode(path) == json.loads(json.dumps([rec]))


def test_history_is_kept_only_on_request(tmp_path):
    rec = _record("a--T--r0f1--1", fit_info={"history": {"loss": [3.0, 2.0]}, "n": 2})
    plain, kept = ResultStore(tmp_path / "plain"), ResultStore(tmp_path / "kept", True)
    for store in (plain, kept):
        store.write(rec)
        store.pack()
    assert plain.read(rec["unit_id"])["fit_info"] == {"n": 2}
    assert kept.read(rec["unit_id"])["fit_info"]["history"] == {"loss": [3.0, 2.0]}
    # a later run without --keep-history adds its records and keeps the stored histories
    later = ResultStore(tmp_path / "kept")
    later.write(_record("b--T--r0f1--1", fit_info={"history": {"loss": [1.0]}}))
    later.pack()
    assert later.read(rec["unit_id"])["fit_info"]["history"] == {"loss": [3.0, 2.0]}
    assert later.read("b--T--r0f1--1")["fit_info"] == {}


def test_done_ids_agree_with_is_done(tmp_path):
    store = ResultStore(tmp_path)
    store.write(_record("a--T--r0f1--1"))
    store.pack()
    store.write(_record("b--T--r0f1--1", status="failed", error="boom"))
    store.write(_record("c--T--r0f1--1"))
    (tmp_path / "results" / "d--T--r0f1--1.json").write_text("{not json")
    ids = ["a--T--r0f1--1", "b--T--r0f1--1", "c--T--r0f1--1", "d--T--r0f1--1"]
    assert store.done_ids() == {u for u in ids if store.is_done(u)} == {"a--T--r0f1--1",
                                                                         "c--T--r0f1--1"}


def test_pack_moves_the_journal_and_the_journal_wins(tmp_path):
    store = ResultStore(tmp_path)
    store.write(_record("a--T--r0f1--1"))
    assert store.pack() == 1 and not (tmp_path / "results").exists()
    newer = {**_record("a--T--r0f1--1"), "timing": {"fit_s": 9.0}}
    store.write(newer)  # a rerun's record beside the packed one
    assert store.read("a--T--r0f1--1")["timing"] == {"fit_s": 9.0}
    assert [r["timing"]["fit_s"] for r in store.records()] == [9.0]


def test_a_failed_pack_write_leaves_every_record_readable(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    store.write(_record("a--T--r0f1--1"))
    store.pack()
    store.write(_record("b--T--r0f1--2"))

    def broken(records):
        raise OSError("disk full")

    monkeypatch.setattr("gpbench.storage.records.encode", broken)
    with pytest.raises(OSError):
        store.pack()
    assert {r["unit_id"] for r in ResultStore(tmp_path).records()} == {"a--T--r0f1--1",
                                                                      "b--T--r0f1--2"}
    assert not list(tmp_path.glob(".results.parquet.*"))  # no temporary file left behind


def test_a_damaged_pack_is_named_with_what_to_do(tmp_path, capsys):
    store = ResultStore(tmp_path)
    store.write(_record("a--T--r0f1--1"))
    store.pack()
    data = store.pack_path.read_bytes()
    store.pack_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PackError, match="is damaged .*restore it"):
        ResultStore(tmp_path).records()
    (tmp_path / "run.json").write_text("{}")
    assert main(["leaderboard", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "results.parquet is damaged" in err[0]


def test_run_packs_its_records(registry, tmp_path):
    summary = run(registry, tmp_path, ["ridge", "mean"], dataset="sim", traits=["trait1"], k=3)
    assert summary.done == 6
    assert (summary.run_dir / "results.parquet").exists()
    assert not (summary.run_dir / "results").exists()
    records = ResultStore(summary.run_dir).records()
    assert len(records) == 6
    # predictions at float32 precision, stored narrow, and the metrics derived from them agree
    import pandas as pd

    pack = pd.read_parquet(summary.run_dir / "results.parquet")
    assert pack["y_pred"].isna().all() and pack["y_pred32"].notna().all()
    kept, problems = derive_all(records, registered_metrics())
    assert len(kept) == 6 and not problems


def test_resume_after_kill_9(registry, tmp_path):
    """A run killed with SIGKILL mid-way keeps the units it finished (journal) and the rerun of
    the same command does only the rest, then packs everything."""
    script = ("import sys; from pathlib import Path; from tests.helpers import run; "
              "from tests.conftest import TEST_ENV; "
              "run(TEST_ENV.get_registry(), Path(sys.argv[1]), ['spy'], traits=['A'], "
              "model_options={'spy': {'sleep': 1.0}})")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "benchmark"), str(REPO / "plugins"), str(REPO)])}
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = tmp_path / "run"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 2:
        if proc.poll() is not None:
            pytest.fail(proc.stderr.read().decode()[-2000:])
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    journal = {p.stem for p in (out / "results").glob("*.json")}
    assert 2 <= len(journal) < 5 and not (out / "results.parquet").exists()
    summary = run(registry, tmp_path, ["spy"], traits=["A"],
                  model_options={"spy": {"sleep": 1.0}})
    assert summary.skipped == len(journal) and summary.done == 5 - len(journal)
    records = ResultStore(out).records()
    assert len(records) == 5 and journal <= {r["unit_id"] for r in records}
    assert (out / "results.parquet").exists() and not (out / "results").exists()


def test_an_edited_metric_is_named_and_not_ranked(registry, tmp_path, capsys):
    summary = run(registry, tmp_path, ["ridge", "mean"], dataset="sim", traits=["trait1"], k=3)
    store = ResultStore(summary.run_dir)
    records = store.records()
    victim = next(r for r in records if r["model"] == "mean")
    honest = victim["metrics"]["trait1"]["r2"]
    victim["metrics"]["trait1"]["r2"] = 0.95  # hand-edited into the committed results
    store.pack_path.write_bytes(encode(records))
    run_info, kept, problems = load_run_files(summary.run_dir)
    assert victim["unit_id"] not in {r["unit_id"] for r in kept}
    (why,) = [w for n, w in problems if n == victim["unit_id"]]
    assert f"r2 of 'trait1' stored 0.9500, its predictions give {honest:.4f}" in why
    assert main(["leaderboard", str(summary.run_dir)]) == 0
    board = (summary.run_dir / "leaderboard.md").read_text()
    assert "Records not ranked" in board and victim["unit_id"] in board
    assert "mean (incomplete: 2 of 3 folds; not ranked)" in board
    capsys.readouterr()
    assert main(["verify", str(summary.run_dir), "--all"]) == 1
    assert "stored 0.9500" in capsys.readouterr().out


def test_metrics_are_derived_from_predictions():
    from gpbench.api.types import MetricSpec

    metrics = {"sse": MetricSpec("sse", lambda yt, yp: float(((yt - yp) ** 2).sum()), False)}
    rec = _record("a--T--r0f1--1")
    del rec["predictions"]["U"]
    y, p = (np.asarray(rec["predictions"]["T"][k]) for k in ("y_true", "y_pred"))
    rec["metrics"] = {"T": {"sse": float(((y - p) ** 2).sum()) * (1 + 1e-12), "n_test": 3,
                            "n_train": 7, "other": 4.0}}
    (kept,), problems = derive_all([rec], metrics)
    assert not problems  # agreement to 1e-9 relative: the last bits may differ by summation
    assert kept["metrics"]["T"] == {"sse": float(((y - p) ** 2).sum()), "n_test": 3,
                                    "n_train": 7, "other": 4.0}
    rec["metrics"]["T"]["sse"] = 0.0
    kept, ((uid, why),) = derive_all([rec], metrics)
    assert not kept and uid == "a--T--r0f1--1" and why.startswith("not ranked: sse of 'T'")


def test_packed_files_read_with_pyarrow_alone(tmp_path):
    """The pack is plain Parquet: any Parquet reader sees one row per prediction."""
    import pyarrow.parquet as pq

    path = tmp_path / pack_module.PACK_NAME
    path.write_bytes(encode([_record("a--T--r0f1--1")]))
    table = pq.read_table(path)
    assert table.num_rows == 3 and set(table.column_names) >= {"unit_id", "sample", "y_pred"}
