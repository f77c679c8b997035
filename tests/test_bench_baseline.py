"""The bench's baseline file (``benchmarks/baseline.py``): ratios, merging and rescaling."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "bench_baseline", Path(__file__).resolve().parents[1] / "benchmarks" / "baseline.py")
baseline = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(baseline)


def test_ratios_against_the_baseline_and_normalised_by_the_calibration(tmp_path):
    path = tmp_path / "baseline.json"
    assert baseline.read_baseline(path) == {"calibration_s": None, "units": {}}
    baseline.write_baseline({"yeast/gblup": {"cpu_s": 2.0}, "soynam/rkhs": {"cpu_s": 40.0}},
                            1.0, path)
    base = baseline.read_baseline(path)
    measured = {"yeast/gblup": {"cpu_s": 3.0}, "soynam/rkhs": {"cpu_s": 10.0},
                "yeast/new": {"cpu_s": 1.0}}
    # this machine is 1.5x slower: gblup kept its pace, rkhs became 6x faster
    assert baseline.ratio_rows(measured, base, 1.5) == [
        ["soynam/rkhs", 0.25, pytest.approx(0.17)], ["yeast/gblup", 1.5, 1.0],
        ["yeast/new", None, None]]


def test_writing_merges_units_rescaled_to_the_new_calibration(tmp_path):
    path = tmp_path / "baseline.json"
    baseline.write_baseline({"yeast/gblup": {"cpu_s": 2.0}}, 1.0, path)
    baseline.write_baseline({"yeast/rkhs": {"cpu_s": 6.0}}, 2.0, path)  # a 2x slower machine
    units = baseline.read_baseline(path)["units"]
    assert units == {"yeast/gblup": {"cpu_s": 4.0}, "yeast/rkhs": {"cpu_s": 6.0}}
    assert baseline.read_baseline(path)["calibration_s"] == 2.0
