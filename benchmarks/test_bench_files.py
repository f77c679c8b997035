"""Reading one's own genotype files: a simulated 5,000 x 50,000 PLINK fileset (target < 10 s)."""

from __future__ import annotations

import time

import numpy as np
import pytest

N, P = 5_000, 50_000


@pytest.fixture(scope="module")
def big_plink(tmp_path_factory):
    from bed_reader import to_bed

    rng = np.random.default_rng(0)
    values = rng.integers(0, 3, size=(N, P), dtype=np.int8)
    values[rng.random((N, P)) < 0.01] = -127  # 1% missing calls
    bed = tmp_path_factory.mktemp("plink") / "big.bed"
    to_bed(bed, values, properties={"iid": [f"I{i:05d}" for i in range(N)],
                                    "sid": [f"m{j:06d}" for j in range(P)],
                                    "chromosome": [str(1 + j * 10 // P) for j in range(P)],
                                    "bp_position": list(range(1, P + 1))})
    return bed


def test_load_plink_5000x50000(benchmark, big_plink):
    from gpbench_files import genotypes

    def load():
        return genotypes.read_genotypes(big_plink)

    t0 = time.perf_counter()
    g = benchmark.pedantic(load, rounds=3, iterations=1)
    per_round = (time.perf_counter() - t0) / 3
    benchmark.extra_info["seconds_per_load"] = round(per_round, 2)
    assert g.values.shape == (N, P)
    assert np.isnan(g.values).any()
    assert per_round < 10.0
