"""Shared fixtures: registries with the built-in plugins (no entry points needed) and the
test plugins, and the location of the real yeast data for integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import gpbench_linear
import gpbench_metrics
import gpbench_sim
import gpbench_yeast
from gpbench.plugins import Registry, load_registry

BUILTINS = [("yeast", gpbench_yeast), ("sim", gpbench_sim), ("linear", gpbench_linear),
            ("metrics", gpbench_metrics)]
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
    return load_registry(BUILTINS + [("spy", spy)], load_entrypoints=False)


@pytest.fixture
def yeast_dir() -> Path:
    d = yeast_data_dir()
    if d is None:
        pytest.skip("real yeast data not found: set GPBENCH_DATA_DIR or put ../shared beside "
                    "the repo")
    return d
