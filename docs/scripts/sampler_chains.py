"""Chain length of the Bayesian samplers (issue #28, docs/notes/sampler-chains.md): run the
same units with several chains (``n_iter/burn_in/thin``) and compare test R², convergence
diagnostics and CPU seconds against the default chain.

    PYTHONPATH=benchmark:plugins nice -n 19 python docs/scripts/sampler_chains.py \
        --units yeast:YPD:0,yeast:YPD:1 --out /tmp/chains/yeast.jsonl
    PYTHONPATH=benchmark:plugins python docs/scripts/sampler_chains.py \
        --table /tmp/chains/yeast.jsonl /tmp/chains/collection.jsonl

A unit is ``DATASET:TRAIT:FOLD`` of the plan ``gpbench run --dataset DATASET --envs TRAIT
--folds 5 --seed SEED --threads 1`` makes (fold seed 1 by default, not the boards' 0); it runs
through ``run_unit`` as a worker runs it, once per model and chain, with the chains in an
order rotated from model to model (the machine's load drifts). CPU seconds are the process's
(``time.process_time``) over the whole unit, after an untimed 20-iteration unit that loads
the data and numba's cache. Each result is one JSON line of ``--out``; a
rerun skips the lines already there. Use development traits only (docs/notes/dev-traits.md).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from statistics import mean, median
from tempfile import TemporaryDirectory
from typing import Any

from gpbench.plugins import load_registry
from gpbench.running.plan import RunConfig, plan_run
from gpbench.running.runner import run_unit
from gpbench.running.threads import limit_threads

MODELS = ("brr", "bayesa", "bayesb", "bayesc", "bl")
DEFAULT_CHAIN = "3000/1000/5"
CHAINS = (DEFAULT_CHAIN, "1500/500/5", "1500/500/1", "2000/500/5")
INFO = ("ess_g_median", "ess_g_min", "ess_var_g", "geweke_z_var_g", "n_samples", "prob_in")


def _chain_options(chain: str) -> dict[str, int]:
    n_iter, burn_in, thin = (int(v) for v in chain.split("/"))
    return {"n_iter": n_iter, "burn_in": burn_in, "thin": thin}


def run(units: list[str], models: list[str], chains: list[str], seed: int, data_dir: Path,
        out: Path) -> None:
    """Run every unit x model x chain not yet in ``out`` and append its JSON line."""
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["unit"], r["model"], r["chain"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    registry = load_registry()
    with TemporaryDirectory() as tmp:
        for spec in units:
            dataset, trait, fold = spec.rsplit(":", 2)
            config = RunConfig(models=models, dataset=dataset, traits=[trait], seed=seed,
                               out=Path(tmp) / spec.replace(":", "-"), data_dir=data_dir,
                               n_threads=1, jobs=1)
            plan = [u for u in plan_run(config, registry).units if u.fold == int(fold)]
            # untimed: load the dataset, its fold and numba's cache once, outside the timings
            run_unit(replace(plan[0], options={**plan[0].options, **_chain_options("20/10/1")}))
            for i, unit in enumerate(plan):
                order = chains[i % len(chains):] + chains[:i % len(chains)]
                for chain in order:
                    if (spec, unit.model, chain) in done:
                        continue
                    options = {**unit.options, **_chain_options(chain)}
                    limit_threads(unit.n_threads)
                    t0, c0 = time.perf_counter(), time.process_time()
                    record = run_unit(replace(unit, options=options))
                    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                    if record["status"] != "ok":
                        raise SystemExit(f"{spec} {unit.model} {chain}: {record['error']}")
                    info = record["fit_info"]
                    row: dict[str, Any] = {
                        "unit": spec, "seed": seed, "model": unit.model, "chain": chain,
                        "r2": record["metrics"][trait]["r2"], "cpu_s": round(cpu, 2),
                        "wall_s": round(wall, 2), "fit_s": round(record["timing"]["fit_s"], 2),
                        "warnings": len(info.get("warnings", ())),
                        **{k: info.get(k) for k in INFO}}
                    with out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)


def table(paths: list[Path]) -> None:
    """Print, per model and chain, the mean test-R² change against the default chain over the
    units both ran, the diagnostics, and the CPU ratio (sum and median per unit)."""
    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines()]
    by = {(r["unit"], r["model"], r["chain"]): r for r in rows}
    chains = [DEFAULT_CHAIN] + sorted({r["chain"] for r in rows} - {DEFAULT_CHAIN})
    print("| model | chain | units | mean ΔR² | min ΔR² | ess_g_median (min over units) | "
          "median ess_g_median | ess_g_min (min) | ess_var_g (median) | max abs Geweke z | "
          "units warned | CPU ratio (sums) | CPU ratio (median) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for model in MODELS:
        for chain in chains:
            pairs = [(by[(u, m, chain)], by[(u, m, DEFAULT_CHAIN)])
                     for (u, m, c) in by if m == model and c == chain
                     and (u, m, DEFAULT_CHAIN) in by]
            if not pairs:
                continue
            cand = [a for a, _ in pairs]
            d = [a["r2"] - b["r2"] for a, b in pairs]
            ratios = [a["cpu_s"] / b["cpu_s"] for a, b in pairs]
            print(f"| {model} | {chain} | {len(pairs)} | {mean(d):+.4f} | {min(d):+.4f} | "
                  f"{min(a['ess_g_median'] for a in cand):.0f} | "
                  f"{median(a['ess_g_median'] for a in cand):.0f} | "
                  f"{min(a['ess_g_min'] for a in cand):.0f} | "
                  f"{median(a['ess_var_g'] for a in cand):.0f} | "
                  f"{max(abs(a['geweke_z_var_g']) for a in cand):.1f} | "
                  f"{sum(a['warnings'] > 0 for a in cand)} | "
                  f"{sum(a['cpu_s'] for a in cand) / sum(b['cpu_s'] for _, b in pairs):.2f} | "
                  f"{median(ratios):.2f} |")
    units = list(dict.fromkeys(r["unit"] for r in rows))
    for chain in chains[1:]:
        print("\n| unit | " + " | ".join(f"{m} {DEFAULT_CHAIN} (Δ {chain})" for m in MODELS)
              + " |")
        print("|---" * (len(MODELS) + 1) + "|")
        for u in units:
            cells = []
            for m in MODELS:
                d, c = by.get((u, m, DEFAULT_CHAIN)), by.get((u, m, chain))
                cells.append(f"{d['r2']:.3f} ({c['r2'] - d['r2']:+.3f})" if d and c else "")
            if any(cells):
                print(f"| {u} | " + " | ".join(cells) + " |")

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", default="", help="DATASET:TRAIT:FOLD,...")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--chains", default=",".join(CHAINS), help="N_ITER/BURN_IN/THIN,...")
    ap.add_argument("--seed", type=int, default=1, help="fold seed (the boards use 0)")
    ap.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/chains/results.jsonl"))
    ap.add_argument("--table", type=Path, nargs="*", help="summarise these JSON-lines files")
    args = ap.parse_args()
    if args.table:
        table(args.table)
        return
    run([u for u in args.units.split(",") if u], args.models.split(","),
        args.chains.split(","), args.seed, args.data_dir, args.out)


if __name__ == "__main__":
    main()
