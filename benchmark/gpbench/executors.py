"""Executors run units and hand each record back, in this process, as soon as it is ready.

Only the calling process writes results, whatever the executor, so the results store never
sees concurrent writers.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .runner import Environment, Unit, run_unit

OnResult = Callable[[Unit, dict[str, Any]], None]


class Executor(Protocol):
    def run(self, units: Iterable[Unit], on_result: OnResult) -> None: ...


class LocalExecutor:
    """Runs units in this process (``jobs=1``) or in a pool of ``jobs`` worker processes."""

    def __init__(self, jobs: int = 1, env: Environment | None = None) -> None:
        self.jobs = max(1, jobs)
        self.env = env

    def run(self, units: Iterable[Unit], on_result: OnResult) -> None:
        units = list(units)
        if self.jobs == 1 or len(units) <= 1:
            for unit in units:
                on_result(unit, run_unit(unit, self.env))
            return
        # spawn: worker processes must not inherit torch/OpenMP thread state from a fork
        ctx = mp.get_context("spawn")
        with cf.ProcessPoolExecutor(self.jobs, mp_context=ctx) as pool:
            futures = {pool.submit(run_unit, u): u for u in units}
            try:
                for fut in cf.as_completed(futures):
                    on_result(futures[fut], fut.result())
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
