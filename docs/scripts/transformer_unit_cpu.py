"""CPU seconds of one transformer unit on yeast, in-process, with its predictions saved.

Plans the unit as ``gpbench run`` does (5 folds, ``--seed`` fold seed, inner validation from
the training fold), then times ``fit_predict`` with ``time.process_time`` on one torch thread
(what a unit gets with 2 workers on 2 cores). Used by docs/notes/transformer-speed.md:

    PYTHONPATH=benchmark:plugins nice -n 19 python docs/scripts/transformer_unit_cpu.py \\
        YPD 0 /tmp/pred.npy [--opts '{"max_epochs": 10}'] [--prof /tmp/unit.prof]

Development traits only (docs/notes/dev-traits.md). Compare two code versions by pointing
PYTHONPATH's plugin folder at each in turn and ``np.array_equal`` on the saved predictions.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from gpbench.api.types import ModelContext
from gpbench.plugins import load_registry
from gpbench.running.fitting import _fit_rows, fit_predict, unit_data
from gpbench.running.plan import RunConfig, plan_run
from gpbench.running.units import Environment


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("trait", help="a yeast development trait (comma-separated for -mt)")
    ap.add_argument("fold", type=int)
    ap.add_argument("out", help="where to save the test-fold predictions (.npy)")
    ap.add_argument("--model", default="transformer")
    ap.add_argument("--seed", type=int, default=1, help="fold seed")
    ap.add_argument("--prof", default=None, help="write a cProfile of the fit here")
    ap.add_argument("--opts", default="{}", help="model options as JSON")
    ap.add_argument("--data-dir", default="/work/shared/data/yeast")
    a = ap.parse_args()
    torch.set_num_threads(1)
    reg = load_registry()
    traits = a.trait.split(",")
    cfg = RunConfig(models=[a.model], dataset="yeast", traits=traits, k=5, seed=a.seed,
                    out=Path(f"/tmp/transformer-unit-cpu-seed{a.seed}"),
                    data_dir=Path(a.data_dir), n_threads=1, device="cpu",
                    model_options={a.model: json.loads(a.opts)})
    plan = plan_run(cfg, reg)
    unit = next(u for u in plan.units if u.fold == a.fold and list(u.traits) == traits)
    d = unit_data(unit, Environment(registry=reg))
    fit_rows, valid_rows = _fit_rows(d.measured, d.train, d.inner, d.spec.uses_validation)
    ctx = ModelContext(seed=unit.model_seed, markers=d.dataset.markers, n_threads=1,
                       device="cpu", get_model=reg.model)
    prof = None
    if a.prof:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    c0, w0 = time.process_time(), time.perf_counter()
    pred, info, _ = fit_predict(d.spec, dict(unit.options), ctx, d.X, d.Y, fit_rows,
                                valid_rows, d.test, d.who, maf=unit.maf,
                                min_call_rate=unit.min_call_rate)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    if prof is not None:
        prof.disable()
        prof.dump_stats(a.prof)
    np.save(a.out, pred)
    print(json.dumps({"trait": a.trait, "fold": a.fold, "cpu_s": round(cpu, 2),
                      "wall_s": round(wall, 2),
                      "epochs": [m["epochs_run"] for m in info.get("members", [info])]}))


if __name__ == "__main__":
    main()
