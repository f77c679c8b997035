"""Units of work and the pure function that evaluates one.

A unit (:mod:`gpbench.running.units`) holds everything needed to reproduce one fitted model
and its test-fold predictions. ``run_unit`` turns a unit into a result
record and never raises (a failure becomes a record with its traceback), so any executor —
in-process, a process pool, a cluster — can run units and hand records back to the one
process that writes them.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from gpbench import __version__
from gpbench.api.errors import GpbenchError
from gpbench.api.types import ModelContext
from gpbench.running.design import record_summary
from gpbench.running.fitting import (
    _fit_rows,
    constant_trait,
    describe_error,
    fit_predict,
    unit_data,
)
from gpbench.running.tuning import is_tunable, tune
from gpbench.running.units import Environment, Unit
from gpbench.storage.pack import float32_precision


def _versions(entry_plugin: Any, libraries: tuple[str, ...] = ()) -> dict[str, Any]:
    """Versions behind a result: Python, numpy, scikit-learn, scipy and torch where loaded,
    and the libraries the model declares (``ModelSpec.libraries``), e.g. its boosting library."""
    import sklearn

    loaded = {name: str(getattr(sys.modules[name], "__version__", "?"))
              for name in ("scipy", "torch", *libraries) if name in sys.modules}
    return {"gpbench": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "sklearn": sklearn.__version__, "libraries": loaded,
            "plugin": {"name": entry_plugin.name, "distribution": entry_plugin.distribution,
                       "version": entry_plugin.version}}


@functools.cache  # constant for the process; read once, not for every unit's record
def cpu_model() -> str:
    """The CPU's model name and widest vector extension (Linux: /proc/cpuinfo, e.g. "AMD EPYC
    [avx512f]": virtual machines often report only the vendor's family name), else what
    :mod:`platform` reports."""
    name, flags = "", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not name:
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    if not name:
        return platform.processor() or platform.machine()
    widest = next((f for f in ("amx_tile", "avx512f", "avx2", "avx") if f in flags), None)
    return f"{name} [{widest}]" if widest else name


def _host(unit: Unit) -> dict[str, Any]:
    """Where a unit ran. The thread count is kept because float sums in another order can
    change an SGD-trained model's predictions in the last digits (``gpbench verify`` reruns
    a unit with it); the CPU and torch's kernel set because other vector kernels can too."""
    host = {"machine": platform.machine(), "node": platform.node(), "pid": os.getpid(),
            "cpu": cpu_model(), "threads": unit.n_threads}
    if "torch" in sys.modules:
        host["torch_cpu_capability"] = str(sys.modules["torch"].backends.cpu
                                           .get_cpu_capability())
    if unit.device_kind == "cuda":
        host.update(gpu_model())
    return host


def gpu_model() -> dict[str, str]:
    """The CUDA device a unit ran on, as ``{"gpu": name, "cuda": version}``; empty where torch
    or CUDA is not loaded. Kernels differ between GPU models as they do between CPUs."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return {}
    return {"gpu": torch.cuda.get_device_name(torch.cuda.current_device()),
            "cuda": str(torch.version.cuda)}


def record_header(unit: Unit) -> dict[str, Any]:
    """The fields every record of ``unit`` starts with, whoever writes it."""
    return {"unit_id": unit.unit_id, "config_hash": unit.config_hash, **unit.config(),
            "train_fraction": unit.train_fraction,
            "plugin": dict(unit.plugin), "fold_file": Path(unit.fold_file).name,
            "cv": unit.cv}


def failed_record(unit: Unit, error: str) -> dict[str, Any]:
    """A record for a unit that produced none of its own (killed, timed out, worker lost)."""
    return {**record_header(unit), "status": "failed", "error": error, "traceback": "",
            "elapsed_s": float("nan"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}


def run_unit(unit: Unit, env: Environment | None = None) -> dict[str, Any]:
    """Evaluate one unit; always returns a record (``status`` ok or failed)."""
    env = env or Environment()
    started = time.perf_counter()
    record: dict[str, Any] = record_header(unit)
    try:
        record.update(_evaluate(unit, env))
        record["status"] = "ok"
    except BaseException as exc:  # noqa: BLE001 - a unit's failure must not stop the run
        if isinstance(exc, KeyboardInterrupt):
            raise
        record["status"] = "failed"
        record["error"] = describe_error(exc)
        record["traceback"] = traceback.format_exc()
    record["host"] = _host(unit)
    record["elapsed_s"] = time.perf_counter() - started
    record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return record


def _evaluate(unit: Unit, env: Environment) -> dict[str, Any]:
    registry = env.get_registry()
    d = unit_data(unit, env)
    spec, who, ds, X, Y, ids = d.spec, d.who, d.dataset, d.X, d.Y, d.ids
    train, test, measured = d.train, d.test, d.measured
    fit_rows, valid_rows = _fit_rows(measured, train, d.inner, spec.uses_validation)
    if fit_rows.sum() < 2:
        raise GpbenchError(f"only {int(fit_rows.sum())} measured training samples for "
                           f"{', '.join(unit.traits)}")
    if spec.multi_trait:
        unmeasured = [t for t, n in zip(unit.traits, (~np.isnan(Y[fit_rows])).sum(axis=0),
                                        strict=True) if n == 0]
        if unmeasured:
            raise GpbenchError(f"trait(s) {', '.join(unmeasured)} have no measured value among "
                               f"the training samples of fold {unit.fold}, so {who} cannot "
                               "learn them: drop them from --envs or use fewer --folds")
    if constant := constant_trait(Y, fit_rows, unit.traits):
        raise GpbenchError(f"trait {constant[0]!r} takes the one value {constant[1]:g} in all "
                           f"{constant[2]} measured training samples of fold {unit.fold}, "
                           f"so {who} has nothing to learn: drop it from --envs")
    if valid_rows is not None and valid_rows.sum() < 2:
        raise GpbenchError(f"the inner validation split of fold {unit.fold} holds "
                           f"{int(valid_rows.sum())} measured samples of "
                           f"{', '.join(unit.traits)}; {who} early-stops on it and needs at "
                           "least 2: use fewer --folds or a larger dataset")

    options = dict(unit.options)
    out: dict[str, Any] = {}
    timing: dict[str, float] = {}
    # CPU seconds of this process over the same spans: the cost of a unit on a shared machine,
    # where wall seconds also count the time other processes held the cores
    cpu: dict[str, float] = {}
    if unit.tune and unit.tune.n_trials > 0:
        if not is_tunable(spec):
            out["tuning_note"] = ("not tuned: the model declares no search space, so it ran "
                                  "once with its options")
        else:
            t0, c0 = time.perf_counter(), time.process_time()
            tuned = tune(unit, env, d, base_options=options)
            timing["tune_s"] = time.perf_counter() - t0
            cpu["tune_s"] = time.process_time() - c0
            options.update(tuned["best_params"])
            out["tuning"] = tuned
    context = ModelContext(seed=unit.model_seed,
                           markers=ds.markers, n_threads=unit.n_threads, device=unit.device,
                           get_model=registry.model)
    pred, info, t = fit_predict(spec, options, context, X, Y, fit_rows, valid_rows, test, who,
                                maf=unit.maf, min_call_rate=unit.min_call_rate)
    for name, seconds in t.items():
        if name.startswith("cpu_"):
            cpu[name.removeprefix("cpu_")] = seconds
        else:
            timing[name] = seconds

    metrics: dict[str, dict[str, float]] = {}
    predictions: dict[str, dict[str, list]] = {}
    truth: dict[str, list] = {}  # true genetic values of a simulation, in prediction order
    y_test = Y[test]
    if d.design is not None:  # scored on the target, with the covariate part added back
        y_test = d.design.target[test]
        if d.design.fixed is not None:
            pred = pred + d.design.fixed[test]
        out["design_fit"] = record_summary(d.design.summary)
    for j, trait in enumerate(unit.traits):
        m = ~np.isnan(y_test[:, j])
        # predictions kept to float32 precision (7 significant digits, far below any model's
        # error): the results pack stores them in half the bytes, and the metrics are computed
        # from exactly what is stored
        yt, yp = y_test[m, j], float32_precision(pred[m, j])
        scores: dict[str, float] = {"n_test": int(m.sum()),
                                    "n_train": int((train & ~np.isnan(Y[:, j])).sum())}
        for metric in registry.metrics():
            scores[metric.name] = float(metric.fn(yt, yp)) if len(yt) > 1 else float("nan")
        metrics[trait] = scores
        predictions[trait] = {"sample": ids[test][m].tolist(), "y_true": yt.tolist(),
                              "y_pred": yp.tolist()}
        if ds.truth is not None and trait in ds.truth.columns:
            truth[trait] = ds.truth[trait].to_numpy(dtype=np.float64)[test][m].tolist()
    out.update({"status": "ok", "metrics": metrics, "predictions": predictions,
                "timing": timing, "cpu": cpu, "fit_info": info, "used_options": options,
                "multi_trait": spec.multi_trait, "versions": _versions(d.plugin, spec.libraries),
                # rows the final model was trained on (a model that refits on its validation
                # rows, or carves its own, says so in fit_info["n_fit"]) and validation rows
                "n_fit": int(info.get("n_fit", fit_rows.sum())),
                "n_valid": int(info.get("n_valid", 0 if valid_rows is None
                                        else valid_rows.sum())),
                "data_release": ds.version})
    if truth:
        out["g_true"] = truth
    return out
