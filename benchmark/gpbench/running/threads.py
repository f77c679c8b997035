"""Limits on the threads of a worker process: BLAS, OpenMP and torch.

Several units running side by side on one machine must share its cores; left alone, every
worker's BLAS and OpenMP pools start one thread per core and the machine is oversubscribed.
``limit_threads(n)`` caps the pools already loaded (through threadpoolctl), sets the environment
variables that libraries loaded later read when they start, and caps torch if it is imported.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def passive_openmp() -> None:
    """Let idle OpenMP threads sleep instead of spinning, unless the user chose otherwise.

    Spinning threads made LightGBM pathologically slow on a loaded machine (a 2-thread fit
    took 285 s instead of 4 s beside one other busy process on 2 cores) and torch ~20x slower
    per epoch; passive waiting costs nothing when idle. OpenMP reads it when its runtime
    starts, so the command line sets it first thing and workers inherit it; the host sets it,
    not the plugins (importing a plugin changes no environment variable).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")


def limit_threads(n: int) -> dict[str, Any]:
    """Cap this process's BLAS/OpenMP/torch threads at ``n``; returns what was set.

    Call it in a worker process (it changes process-wide state), before each unit: plugins may
    have loaded new libraries since the last call.
    """
    n = max(1, int(n))
    passive_openmp()
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    done: dict[str, Any] = {"threads": n}
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: the environment variables still reach new libraries
        done["threadpoolctl"] = False
    else:
        threadpool_limits(limits=n)
        done["threadpoolctl"] = True
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
        done["torch"] = n
    return done
