"""Executors run units and hand each record back, in this process, as soon as it is ready.

Only the calling process writes results, whatever the executor, so the results store never
sees concurrent writers. Units are independent and seeded, so the records do not depend on the
executor or the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from .runner import Environment, Unit, failed_record, run_unit

OnResult = Callable[[Unit, dict[str, Any]], None]


class Executor(Protocol):
    def run(self, units: Iterable[Unit], on_result: OnResult, env: Environment) -> None: ...


def _child(unit: Unit, env: Environment, conn: Connection) -> None:
    conn.send(run_unit(unit, env))
    conn.close()


class InlineExecutor:
    """Runs units one after another in this process: no isolation (a crash ends the run, no
    timeout), for tests and debugging (``--executor inline``)."""

    def run(self, units: Iterable[Unit], on_result: OnResult, env: Environment) -> None:
        for unit in units:
            on_result(unit, run_unit(unit, env))


class LocalExecutor:
    """Runs units on this machine.

    With ``jobs=1`` and no timeout, units run in this process (fastest; datasets are loaded
    once). Otherwise each unit runs in its own spawned process, ``jobs`` at a time, so that a
    unit that hangs past ``unit_timeout`` seconds can be killed and a unit that crashes its
    process (segfault, out-of-memory kill) becomes a failed record instead of ending the run.
    """

    def __init__(self, jobs: int = 1, unit_timeout: float | None = None) -> None:
        self.jobs = max(1, jobs)
        self.unit_timeout = unit_timeout

    def run(self, units: Iterable[Unit], on_result: OnResult, env: Environment) -> None:
        units = list(units)
        if self.jobs == 1 and self.unit_timeout is None:
            for unit in units:
                on_result(unit, run_unit(unit, env))
            return
        self._run_isolated(units, on_result, env)

    def _run_isolated(self, units: list[Unit], on_result: OnResult, env: Environment) -> None:
        # spawn: children must not inherit torch/OpenMP thread pools from a fork
        ctx = mp.get_context("spawn")
        queue = list(reversed(units))
        running: dict[Any, tuple[Unit, Connection, float]] = {}
        try:
            while queue or running:
                while queue and len(running) < self.jobs:
                    unit = queue.pop()
                    recv, send = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_child, args=(unit, env, send), daemon=True)
                    proc.start()
                    send.close()
                    deadline = time.monotonic() + (self.unit_timeout or float("inf"))
                    running[proc] = (unit, recv, deadline)
                ready = wait([c for _, c, _ in running.values()] +
                             [p.sentinel for p in running], timeout=0.5)
                now = time.monotonic()
                for proc, (unit, conn, deadline) in list(running.items()):
                    record = None
                    if conn in ready or proc.sentinel in ready:
                        try:
                            record = conn.recv()
                        except (EOFError, OSError):
                            proc.join(5)
                            code = proc.exitcode
                            why = (f"killed by signal {-code}" if code and code < 0
                                   else f"exit code {code}")
                            hint = " (out of memory?)" if code == -9 else ""
                            record = failed_record(unit, f"WorkerDied: the unit's process "
                                                   f"ended without a result, {why}{hint}")
                    elif now > deadline:
                        proc.kill()
                        record = failed_record(unit, f"UnitTimeout: no result after "
                                               f"{self.unit_timeout:g} s (--unit-timeout); "
                                               "the unit was killed")
                    if record is not None:
                        proc.join(5)
                        conn.close()
                        del running[proc]
                        on_result(unit, record)
        finally:
            for proc in running:
                proc.kill()


class DaskExecutor:
    """Runs units as tasks on a Dask distributed cluster (``address``) or a LocalCluster.

    Records come back to this process, which alone writes them. A unit whose worker is lost is
    rescheduled by Dask (``retries``). Units of models that declare ``accelerator=True`` ask for
    one ``GPU`` resource when some worker offers it, so GPU models queue for GPUs while CPU
    models run beside them.
    """

    def __init__(self, address: str | None = None, n_workers: int = 2, retries: int = 2,
                 threads_per_worker: int = 1) -> None:
        self.address, self.n_workers = address, n_workers
        self.retries, self.threads_per_worker = retries, threads_per_worker

    def run(self, units: Iterable[Unit], on_result: OnResult, env: Environment) -> None:
        try:
            from distributed import Client, LocalCluster, as_completed
        except ImportError as exc:
            from .errors import GpbenchError

            raise GpbenchError("--executor dask needs the distributed package: "
                               "pip install 'dask[distributed]'") from exc
        units = list(units)
        if not units:
            return
        cluster = None
        if self.address:
            client = Client(self.address)
        else:
            cluster = LocalCluster(n_workers=self.n_workers,
                                   threads_per_worker=self.threads_per_worker,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        try:
            workers = client.scheduler_info().get("workers", {}).values()
            has_gpu = any(w.get("resources", {}).get("GPU") for w in workers)
            registry = env.get_registry()
            futures = {}
            for unit in units:
                wants_gpu = (has_gpu and unit.device != "cpu"
                             and registry.model(unit.model).accelerator)
                fut = client.submit(run_unit, unit, env, key=f"gpbench-{unit.unit_id}",
                                    pure=False, retries=self.retries,
                                    resources={"GPU": 1} if wants_gpu else None)
                futures[fut] = unit
            for fut in as_completed(futures):
                unit = futures[fut]
                try:
                    record = fut.result()
                except Exception as exc:  # noqa: BLE001 - lost workers after all retries
                    record = failed_record(unit, f"WorkerLost: {exc!r}")
                on_result(unit, record)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
