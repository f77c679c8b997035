"""Test plugin: models that misbehave on purpose or report their process from inside it.

``probe`` reports the worker's thread pools (threadpoolctl, torch) and pid in ``fit_info``;
``segv`` kills its own process with SIGSEGV, like a crashing C extension; ``raises`` fails in
``fit``; ``shaped`` returns its predictions as the ``output`` option says (list, 1-D, row,
transposed, ragged); ``child`` (a file path) starts a long-lived child process, writes its pid
to that file and then sleeps, like a model that runs helper processes.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import numpy as np

from gpbench import ModelSpec, hookimpl


class Probe:
    def __init__(self, options: dict[str, Any], context: Any) -> None:
        self.options, self.context = options, context
        self.fit_info: dict[str, Any] = {}

    def fit(self, X: np.ndarray, Y: np.ndarray, valid: Any = None) -> None:
        if self.options.get("segv"):
            os.kill(os.getpid(), signal.SIGSEGV)
        if self.options.get("child"):
            import subprocess
            import sys
            import time
            from pathlib import Path

            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
            Path(self.options["child"]).write_text(str(child.pid))
            time.sleep(300)
        if self.options.get("raises"):
            raise ValueError("this model fails in fit on purpose")
        if self.options.get("report"):
            import lightgbm  # noqa: F401 - loads its OpenMP runtime after the limits were set
            import torch
            from threadpoolctl import threadpool_info

            self.fit_info = {"pools": [{"api": p["internal_api"], "threads": p["num_threads"]}
                                       for p in threadpool_info()],
                             "torch_threads": torch.get_num_threads(), "pid": os.getpid(),
                             "context_threads": self.context.n_threads}
        self.mean = np.nanmean(Y, axis=0)

    def predict(self, X: np.ndarray) -> Any:
        out = np.tile(self.mean, (len(X), 1))
        kind = self.options.get("output", "")
        if kind == "list":
            return out[:, 0].tolist()
        if kind == "1d":
            return out[:, 0]
        if kind == "row":
            return out.T  # (1, n) instead of (n, 1)
        if kind == "short":
            return out[:-1]
        if kind == "ragged":
            return [[1.0], [1.0, 2.0]]
        return out


@hookimpl
def register_models(register: Any) -> None:
    opts = {"segv": False, "raises": False, "report": False, "output": "", "child": ""}
    register(ModelSpec("probe", Probe, opts))
    register(ModelSpec("probe-mt", Probe, opts, multi_trait=True))
