"""Small helpers shared by tests: run a benchmark in-process on a given registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gpbench.api import RunConfig, RunSummary, execute, plan_run
from gpbench.plugins import Registry
from gpbench.runner import Environment


def run(registry: Registry, tmp_path: Path, models: list[str], dataset: str = "indexed",
        traits: list[str] | None = None, **kwargs: Any) -> RunSummary:
    config = RunConfig(models=models, dataset=dataset, traits=traits, out=tmp_path / "run",
                       cache_dir=tmp_path / "cache", n_threads=1, **kwargs)
    plan = plan_run(config, registry)
    return execute(plan, env=Environment(registry=registry))
