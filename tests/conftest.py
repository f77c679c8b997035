"""Shared fixtures: registries with the built-in plugins (no entry points needed) and the
test plugins, and the location of the real yeast data for integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gpbench.plugins import Registry
from gpbench.running.units import Environment

# the built-in plugins plus the test plugin, registered without entry points; worker processes
# rebuild the same registry from these module names
TEST_ENV = Environment(extra_plugins=("gpbench_yeast", "gpbench_collection", "gpbench_sim",
                                      "gpbench_linear", "gpbench_metrics", "tests.plugins.spy",
                                      "tests.plugins.probe"),
                       load_entrypoints=False)
REPO = Path(__file__).resolve().parents[1]


def yeast_data_dir() -> Path | None:
    env = os.environ.get("GPBENCH_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "yeast")
    for c in candidates:
        if (c / "geno_1.RDS").exists() and (c / "pheno.csv").exists():
            return c
    return None


@pytest.fixture
def registry() -> Registry:
    from tests.plugins import spy

    spy.SEEN.clear()
    return TEST_ENV.get_registry()


@pytest.fixture
def yeast_dir() -> Path:
    d = yeast_data_dir()
    if d is None:
        pytest.skip("real yeast data not found: set GPBENCH_DATA_DIR or put ../shared beside "
                    "the repo")
    return d
