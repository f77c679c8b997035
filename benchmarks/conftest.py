"""Benchmarks (tox -e bench): speed and memory on the real yeast data, CI-size machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
from measure import PeakMemory  # noqa: E402

from tests.conftest import yeast_data_dir  # noqa: E402


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


@pytest.fixture
def peak_memory():
    return PeakMemory
