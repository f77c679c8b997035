"""Benchmarks (tox -e bench): speed and memory on the real yeast data, CI-size machine; one fold
of every model on yeast and soynam timed against ``baseline.json`` (``test_bench_fold.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
from baseline import calibrate, ratio_rows, read_baseline, write_baseline  # noqa: E402
from measure import PeakMemory  # noqa: E402

from tests.conftest import REPO, yeast_data_dir  # noqa: E402

FOLD_TIMES: dict[str, dict] = {}  # "dataset/model" -> cpu_s and options, from test_bench_fold


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--write-baseline", action="store_true",
                     help="merge the fold times of this session into benchmarks/baseline.json")


@pytest.fixture(scope="session")
def yeast_dir() -> Path:
    d = yeast_data_dir()
    if d is None:
        pytest.skip("benchmarks need the yeast data: set GPBENCH_DATA_DIR")
    return d


@pytest.fixture(scope="session")
def yeast(yeast_dir, tmp_path_factory):
    import gpbench_yeast
    from gpbench import DataConfig

    return gpbench_yeast.load(DataConfig(tmp_path_factory.mktemp("cache"), yeast_dir))


@pytest.fixture(scope="session")
def bench_data():
    """``load(name)``: a registered dataset from the collection directory (GPBENCH_COLLECTION_DIR,
    else the yeast directory's parent, else ../shared/data), parsed once into the gpbench cache."""
    from gpbench import DataConfig
    from gpbench.plugins import load_registry

    registry, loaded = load_registry(), {}
    yeast = yeast_data_dir()
    root = Path(os.environ.get("GPBENCH_COLLECTION_DIR")
                or (yeast.parent if yeast else REPO.parent / "shared" / "data"))
    cache = Path(os.environ.get("GPBENCH_CACHE", Path.home() / ".cache" / "gpbench"))

    def load(name: str):
        if name not in loaded:
            if not (root / name).is_dir():
                pytest.skip(f"no {root / name}: set GPBENCH_COLLECTION_DIR to the data folder")
            loaded[name] = registry.dataset(name).load(DataConfig(cache, root / name))
        return loaded[name]

    return load


@pytest.fixture(scope="session")
def fold_times() -> dict[str, dict]:
    return FOLD_TIMES


@pytest.fixture
def peak_memory():
    return PeakMemory


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """The fold times as ratios to the committed baseline; with ``--write-baseline``, merged
    into it."""
    if not FOLD_TIMES:
        return
    from tabulate import tabulate

    cal = calibrate()
    baseline = read_baseline()
    rows = ratio_rows(FOLD_TIMES, baseline, cal)
    terminalreporter.write_line("")
    terminalreporter.write_line(
        "one fold, CPU seconds / baseline (normalised: also divided by the calibration ratio, "
        f"{cal:.2f} s now / {baseline.get('calibration_s')} s then)")
    terminalreporter.write_line(tabulate(rows, headers=["dataset/model", "ratio", "normalised"],
                                         missingval="no baseline"))
    if config.getoption("--write-baseline"):
        write_baseline(FOLD_TIMES, cal)
        terminalreporter.write_line(f"wrote {len(FOLD_TIMES)} unit(s) into "
                                    "benchmarks/baseline.json")
