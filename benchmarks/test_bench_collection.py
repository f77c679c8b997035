"""The whole-collection run of issue #10's budget: ridge, GBLUP, lasso and gbm on the default
traits of all 13 datasets (5-fold CV), ``--jobs 2``, from an empty dataset cache (first parses
included), as a user runs it. Target on the 2-core CI machine: under 60 minutes.

It takes most of an hour: deselect it with ``tox -e bench -- -k "not collection"``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_collection_run(benchmark, yeast_dir, tmp_path):
    data = yeast_dir.parent
    if not (data / "COLLECTION.md").exists():
        pytest.skip(f"the collection's data directories are not beside {yeast_dir}")
    cmd = [sys.executable, "-m", "gpbench", "run", "--dataset", "all",
           "--models", "ridge,gblup,lasso,gbm", "--jobs", "2", "--data-dir", str(data),
           "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "run")]

    def once():
        return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})

    proc = benchmark.pedantic(once, rounds=1, iterations=1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    benchmark.extra_info["wall_min"] = round(benchmark.stats.stats.mean / 60, 1)
