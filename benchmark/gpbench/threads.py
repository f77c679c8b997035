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

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")


def limit_threads(n: int) -> dict[str, Any]:
    """Cap this process's BLAS/OpenMP/torch threads at ``n``; returns what was set.

    Call it in a worker process (it changes process-wide state), before each unit: plugins may
    have loaded new libraries since the last call.
    """
    n = max(1, int(n))
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
