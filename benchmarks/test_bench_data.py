"""Loading the yeast data: cold (parse the RDS, write the cache) and cached."""

from __future__ import annotations

import itertools

import gpbench_yeast
from gpbench import DataConfig


def test_load_yeast_cold(benchmark, yeast_dir, tmp_path, peak_memory):
    counter = itertools.count()

    def cold():
        return gpbench_yeast.load(DataConfig(tmp_path / f"c{next(counter)}", yeast_dir))

    with peak_memory() as mem:
        ds = benchmark.pedantic(cold, rounds=3, iterations=1)
    benchmark.extra_info["peak_traced_mib"] = round(mem.mib, 1)
    assert ds.genotypes.shape == (1008, 11623)


def test_load_yeast_cached(benchmark, yeast_dir, tmp_path, peak_memory):
    config = DataConfig(tmp_path / "cache", yeast_dir)
    gpbench_yeast.load(config)
    with peak_memory() as mem:
        ds = benchmark.pedantic(lambda: gpbench_yeast.load(config), rounds=5, iterations=1)
    benchmark.extra_info["peak_traced_mib"] = round(mem.mib, 1)
    assert ds.genotypes.shape == (1008, 11623)
