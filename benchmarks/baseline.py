"""The committed timing baseline of ``test_bench_fold.py`` and the ratios reported against it.

``baseline.json`` holds, per ``dataset/model``, the CPU seconds one outer fold took (fit and
predict, one thread) when it was written, and the seconds of a fixed numpy workload
(:func:`calibrate`) on the machine that wrote it. A bench run reports for each unit
``ratio = cpu_s / baseline cpu_s`` and ``normalised = ratio / (calibration now / calibration
then)``: below 1 is faster than the baseline; the normalised ratio discounts a slower or faster
machine. Absolute seconds are never compared with a limit.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

BASELINE = Path(__file__).with_name("baseline.json")


def calibrate(rounds: int = 3) -> float:
    """CPU seconds of a fixed single-threaded workload like the models' own (a 1,500 x 1,500
    ``eigh`` and a 2,000 x 2,000 x 2,000 matrix product); the fastest of ``rounds``."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2000, 2000))
    S = A[:1500, :1500] @ A[:1500, :1500].T
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        np.linalg.eigh(S)
        A @ A
        best = min(best, time.process_time() - t0)
    return best


def read_baseline(path: Path = BASELINE) -> dict[str, Any]:
    """The committed baseline, or an empty one when there is none yet."""
    if not path.exists():
        return {"calibration_s": None, "units": {}}
    return json.loads(path.read_text())


def write_baseline(measured: dict[str, dict[str, Any]], calibration_s: float,
                   path: Path = BASELINE) -> None:
    """Merge ``measured`` units into the baseline file. Units measured before under another
    calibration are rescaled to this one, so every entry is on one machine's scale."""
    old = read_baseline(path)
    scale = (calibration_s / old["calibration_s"]) if old.get("calibration_s") else 1.0
    units = {k: {**v, "cpu_s": round(v["cpu_s"] * scale, 3)} for k, v in old["units"].items()}
    units.update({k: {**v, "cpu_s": round(v["cpu_s"], 3)} for k, v in measured.items()})
    path.write_text(json.dumps({"calibration_s": round(calibration_s, 4),
                                "machine": f"{platform.machine()} {platform.processor()}".strip(),
                                "written": time.strftime("%Y-%m-%d"),
                                "units": dict(sorted(units.items()))}, indent=1) + "\n")


def ratio_rows(measured: dict[str, dict[str, Any]], baseline: dict[str, Any],
               calibration_s: float) -> list[list[Any]]:
    """Rows ``unit, ratio, normalised ratio`` (None where the baseline lacks the unit)."""
    machine = (calibration_s / baseline["calibration_s"]) if baseline.get("calibration_s") \
        else None
    rows = []
    for unit, m in sorted(measured.items()):
        base = baseline["units"].get(unit)
        ratio = m["cpu_s"] / base["cpu_s"] if base and base["cpu_s"] > 0 else None
        norm = ratio / machine if ratio is not None and machine else None
        rows.append([unit, None if ratio is None else round(ratio, 2),
                     None if norm is None else round(norm, 2)])
    return rows
