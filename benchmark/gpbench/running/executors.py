"""Executors run units and hand each record back, in this process, as soon as it is ready.

Only the calling process writes results, whatever the executor, so the results store never
sees concurrent writers. Units are independent and seeded, so the records do not depend on the
executor or the number of workers.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from gpbench.running.runner import failed_record, run_unit
from gpbench.running.threads import limit_threads
from gpbench.running.units import Environment, Unit

OnResult = Callable[[Unit, dict[str, Any]], None]


class Executor(Protocol):
    def run(self, units: Iterable[Unit], on_result: OnResult, env: Environment) -> None: ...


class InlineExecutor:
    """Runs units one after another in this process: no isolation (a crash ends the run, no
    timeout, no thread limits), for tests and debugging (``--executor inline``)."""

    def run(self, units: Iterable[Unit], on_result: OnResult, env: Environment) -> None:
        for unit in units:
            on_result(unit, run_unit(unit, env))


def run_unit_in_worker(unit: Unit, env: Environment) -> dict[str, Any]:
    """``run_unit`` with this process's threads capped at the unit's share (``n_threads``);
    what every worker process (local pool or Dask) runs."""
    limit_threads(unit.n_threads)
    return run_unit(unit, env)


def _worker_main(conn: Connection, env: Environment) -> None:
    """A pool worker: runs the units it receives until it gets ``None``.

    Plugins and datasets are loaded once per worker (cached). For each unit it sends
    ``("start", None)`` once they are loaded, so the unit's timeout counts from then, and then
    ``("done", record)``.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if hasattr(os, "setpgrp"):  # own process group: killing a unit kills what it started
        os.setpgrp()
    while True:
        try:
            unit = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if unit is None:
            return
        try:  # cached per process; a failure here is recorded by run_unit below
            env.get_registry()
            env.get_dataset(unit)
        except Exception:  # noqa: BLE001, S110
            pass
        conn.send(("start", None))
        record = run_unit_in_worker(unit, env)
        try:
            conn.send(("done", record))
        except (EOFError, OSError):
            return


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    unit: Unit | None = None
    deadline: float = math.inf


def _exit_text(code: int | None) -> str:
    if code == -signal.SIGKILL:
        return "killed by signal 9 (out of memory?)"
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-code} ({name})"
    return f"exit code {code}"


class LocalExecutor:
    """Runs units on this machine in a pool of ``jobs`` long-lived worker processes.

    Each worker is spawned once, loads the plugins and the dataset once, caps its BLAS/OpenMP/
    torch threads at the unit's share, and runs unit after unit sent over a pipe. A unit that
    runs past ``unit_timeout`` seconds (counted from its start in the worker, once the data are
    loaded) is killed with its worker; a unit that crashes its worker (segfault, out-of-memory
    kill) becomes a failed record. Either way a fresh worker takes the next unit and the run
    goes on.
    """

    def __init__(self, jobs: int = 1, unit_timeout: float | None = None) -> None:
        self.jobs = max(1, jobs)
        self.unit_timeout = unit_timeout

    def run(self, units: Iterable[Unit], on_result: OnResult, env: Environment) -> None:
        queue = deque(units)
        # spawn: workers must not inherit torch/OpenMP thread pools from a fork
        ctx = mp.get_context("spawn")
        workers: list[_Worker] = []
        clean = False
        try:
            while queue or any(w.unit is not None for w in workers):
                for w in workers:
                    if w.unit is None and queue:
                        self._assign(w, queue.popleft())
                while queue and len(workers) < self.jobs:
                    w = self._start(ctx, env)
                    workers.append(w)
                    self._assign(w, queue.popleft())
                busy = [w for w in workers if w.unit is not None]
                wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.5)
                for w in busy:
                    unit = w.unit
                    record, lost = self._poll(w, env)
                    if record is None:
                        continue
                    w.unit, w.deadline = None, math.inf
                    if lost:
                        workers.remove(w)
                    on_result(unit, record)
            clean = True
        finally:
            self._stop(workers, clean)

    @staticmethod
    def _start(ctx: Any, env: Environment) -> _Worker:
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_worker_main, args=(child, env), name="gpbench-worker")
        proc.start()
        child.close()
        return _Worker(proc, parent)

    @staticmethod
    def _assign(w: _Worker, unit: Unit) -> None:
        w.unit, w.deadline = unit, math.inf
        w.conn.send(unit)

    def _poll(self, w: _Worker, env: Environment) -> tuple[dict[str, Any] | None, bool]:
        """A finished unit's record (or None) and whether its worker is gone."""
        assert w.unit is not None
        try:
            while w.conn.poll():
                kind, payload = w.conn.recv()
                if kind == "start":
                    w.deadline = time.monotonic() + (self.unit_timeout or math.inf)
                else:
                    return payload, False
        except (EOFError, OSError):
            pass  # the worker is gone
        else:
            if w.proc.is_alive():
                if time.monotonic() <= w.deadline:
                    return None, False
                self._kill(w)
                return failed_record(w.unit, f"UnitTimeout: no result after "
                                     f"{self.unit_timeout:g} s (--unit-timeout); the unit "
                                     "was killed"), True
        self._kill(w)
        return failed_record(w.unit, f"WorkerDied: {_who(w.unit, env)} ended its worker "
                             f"process without a result, {_exit_text(w.proc.exitcode)}"), True

    @staticmethod
    def _kill(w: _Worker) -> None:
        _kill_group(w.proc)
        w.proc.join(5)
        w.conn.close()

    @staticmethod
    def _stop(workers: list[_Worker], clean: bool) -> None:
        """Clean end: ask idle workers to exit; otherwise (an error, Ctrl-C) kill them."""
        for w in workers:
            if clean:
                try:
                    w.conn.send(None)
                except (EOFError, OSError):
                    pass
            else:
                _kill_group(w.proc)
        for w in workers:
            w.proc.join(10)
            if w.proc.is_alive():
                _kill_group(w.proc)
                w.proc.join(5)
            w.conn.close()


def _kill_group(proc: Any) -> None:
    """Kill a worker and the processes it started (tuning workers, a model's helpers): the
    worker leads its own process group. Before it has made that group, kill it alone."""
    if hasattr(os, "killpg") and proc.pid:
        try:
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, signal.SIGKILL)
                return
        except (ProcessLookupError, PermissionError):
            pass
    if proc.is_alive():
        proc.kill()


def _who(unit: Unit, env: Environment) -> str:
    try:
        plugin = env.get_registry().entry("model", unit.model).plugin
        return f"model {unit.model!r} of {plugin.describe()}"
    except Exception:  # noqa: BLE001 - a failure message must not fail
        return f"model {unit.model!r}"


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
            from gpbench.api.errors import GpbenchError

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
                fut = client.submit(run_unit_in_worker, unit, env, key=f"gpbench-{unit.unit_id}",
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
