"""Small helpers shared by tests: run a benchmark in-process on a given registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gpbench.api import RunConfig, RunSummary, execute, plan_run
from gpbench.executors import Executor, InlineExecutor
from gpbench.plugins import Registry


def run(registry: Registry, tmp_path: Path, models: list[str], dataset: str = "indexed",
        traits: list[str] | None = None, executor: Executor | None = None,
        **kwargs: Any) -> RunSummary:
    from tests.conftest import TEST_ENV

    if dataset == "indexed":  # column 0 holds sample numbers 0..n-1, so the dosage range
        kwargs.setdefault("maf", 0.0)  # makes every 0/1 marker look rare: no MAF filter here
    config = RunConfig(models=models, dataset=dataset, traits=traits, out=tmp_path / "run",
                       cache_dir=tmp_path / "cache", n_threads=1, **kwargs)
    plan = plan_run(config, registry)
    # in-process by default, so that tests can read what the spy models saw
    return execute(plan, executor=executor or InlineExecutor(), env=TEST_ENV)
