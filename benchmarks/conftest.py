"""Benchmarks (tox -e bench): speed and memory on the real yeast data, CI-size machine."""

from __future__ import annotations

import resource
import sys
import tracemalloc
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
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


class PeakMemory:
    """Peak traced allocation (numpy and torch CPU tensors included) of a block, in MiB."""

    def __enter__(self) -> PeakMemory:
        tracemalloc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.mib = peak / 2**20
        self.max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture
def peak_memory():
    return PeakMemory
