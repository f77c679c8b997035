"""RKHS weight searches against the exhaustive grid on development traits, from one pass.

For each (trait, fold) every point of the simplex grid (15 for 3 kernels at step 1/4) is fitted
once by REML (the tridiagonal path RKHS uses) and its REML log-likelihood and test R² kept; a
search that only visits grid points then chooses exactly what the model would, so each search's
R² and number of reductions follow from that table without refitting::

    PYTHONPATH=benchmark:plugins nice -n 19 python docs/scripts/rkhs_search.py \
        --dataset soynam --traits protein,oil --folds 0,1 --data-dir ../shared/data --out t.jsonl

Folds are those of the host's 5-fold plan with seed 0; design effects (trial records,
covariates) are fitted on the training fold and marker QC (MAF 0.01) as a run does. Refuses the
traits a committed board scores. ``--summary FILE...`` prints the table of searches from earlier
``--out`` files.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from rkhs_combine import load_development  # this folder: the scripts run as files

from gpbench.data.preprocess import FoldPreprocessor
from gpbench.plugins import load_registry
from gpbench.running.design import design_inputs, fit_design
from gpbench.running.protocol import make_folds
from gpbench.running.threads import limit_threads
from gpbench_linear.tridiagonal import TridiagonalKernel
from gpbench_zoo.kernels import CentredRows, gaussian
from gpbench_zoo.rkhs import edge_search, weight_candidates

BANDWIDTHS = (0.2, 1.0, 5.0)
STEPS = 4


def unit_table(ds, trait: str, fold: int) -> dict:
    """Every grid candidate's REML log-likelihood and test R² for one (trait, fold)."""
    test = make_folds(ds.sample_ids, 5, seed=0).test_mask(0, fold)
    Y = ds.traits[[trait]].to_numpy(np.float64)
    covariates, records = design_inputs(ds)
    design = fit_design(Y, [trait], ds.sample_ids, ~test, covariates, records)
    measured = ~np.isnan(design.fit[:, 0])
    tr, te = ~test & measured, test & measured
    pre = FoldPreprocessor.fit(ds.genotypes[tr], maf=0.01)
    Xtr, Xte = pre.transform(ds.genotypes[tr]), pre.transform(ds.genotypes[te])
    y = design.fit[tr, 0]
    target = design.target[te, 0]
    fixed = 0.0 if design.fixed is None else design.fixed[te, 0]
    cpu = time.process_time()
    rows = CentredRows(Xtr)
    D2, med = rows.train_sq_dist()
    kernels = [gaussian(D2, h, med) for h in BANDWIDTHS]
    del D2
    D2te = rows.sq_dist_to(Xte)
    kte = [gaussian(D2te, h, med) for h in BANDWIDTHS]
    setup_s = time.process_time() - cpu
    out = []
    for w in weight_candidates(len(BANDWIDTHS), "grid", STEPS):
        cpu = time.process_time()
        K = sum(wk * Kk for wk, Kk in zip(w, kernels, strict=True) if wk > 0)
        kfit = TridiagonalKernel(K).fit(y)
        fit_s = time.process_time() - cpu
        pred = kfit.predict(sum(wk * Kk for wk, Kk in zip(w, kte, strict=True) if wk > 0))
        pred = pred + fixed
        r2 = 1 - np.sum((target - pred) ** 2) / np.sum((target - target.mean()) ** 2)
        out.append({"w": [round(float(v) * STEPS) for v in w], "loglik": kfit.reml_loglik,
                    "r2": float(r2), "delta": kfit.delta, "fit_s": fit_s})
    return {"trait": trait, "fold": fold, "n_train": int(tr.sum()), "setup_s": setup_s,
            "candidates": out}


def searches(table: dict) -> dict[str, tuple[float, int, tuple[int, ...]]]:
    """R², reductions and chosen weights (in grid steps) of each search on one unit's table."""
    ll = {tuple(c["w"]): c["loglik"] for c in table["candidates"]}
    r2 = {tuple(c["w"]): c["r2"] for c in table["candidates"]}
    res = {}

    def pick(name: str, pool: list[tuple[int, ...]]) -> None:
        w = max(pool, key=lambda k: ll[k])
        res[name] = (r2[w], len(pool), w)

    pick("grid", list(ll))
    pick("best", [w for w in ll if max(w) == STEPS])
    seen: list[tuple[int, ...]] = []

    def evaluate(w: np.ndarray) -> float:
        key = tuple(int(round(v * STEPS)) for v in w)
        seen.append(key)
        return ll[key]

    w = edge_search(len(BANDWIDTHS), STEPS, evaluate)
    key = tuple(int(round(v * STEPS)) for v in w)
    res["edge"] = (r2[key], len(seen), key)
    # for comparison: the whole edge between the two best single kernels (k + steps - 1 fits),
    # and a hill climb on the grid from the best single kernel (moves 1/steps of weight)
    singles = sorted((w for w in ll if max(w) == STEPS), key=lambda k: -ll[k])
    a, b = np.array(singles[0]), np.array(singles[1])
    pick("edge_all", singles + [tuple(int(v) for v in (a * (STEPS - j) + b * j) // STEPS)
                                for j in range(1, STEPS)])
    visited, cur = set(singles), singles[0]
    while True:
        near = [tuple(int(v) for v in np.array(cur) + np.eye(3, dtype=int)[i]
                      - np.eye(3, dtype=int)[j])
                for i in range(3) for j in range(3) if i != j and cur[j] > 0]
        visited.update(near)
        nxt = max(near, key=lambda k: ll[k])
        if not ll[nxt] > ll[cur]:
            break
        cur = nxt
    res["climb"] = (r2[cur], len(visited), cur)
    return res


def summary(tables: list[dict]) -> None:
    names = list(searches(tables[0]))
    print("| dataset | trait | fold | n | " + " | ".join(f"{n} R² (w)" for n in names) + " |")
    print("|---|---|---|---|" + "---|" * len(names))
    tot = {n: [0.0, 0] for n in names}
    for t in tables:
        res = searches(t)
        cells = []
        for n in names:
            r2, k, w = res[n]
            tot[n][0] += r2
            tot[n][1] += k
            cells.append(f"{r2:.4f} {w}" + (f" [{k}]" if n in ("edge", "climb") else ""))
        print(f"| {t['dataset']} | {t['trait']} | {t['fold']} | {t['n_train']} | "
              + " | ".join(cells) + " |")
    m = len(tables)
    print(f"| mean of {m} | | | | " + " | ".join(
        f"{tot[n][0] / m:.4f} [{tot[n][1] / m:.2f} reductions]" for n in names) + " |")
    same = sum(searches(t)["edge"][2] == searches(t)["grid"][2] for t in tables)
    print(f"edge chose the grid's weights in {same} of {m} units")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="yeast")
    ap.add_argument("--traits", default="YPD,Caffeine,Maltose")
    ap.add_argument("--folds", default="0,1")
    ap.add_argument("--data-dir", default=os.environ.get("GPBENCH_DATA_DIR", "../shared/data"))
    ap.add_argument("--out", type=Path, help="append one JSON line per unit")
    ap.add_argument("--summary", type=Path, nargs="+", help="summarise earlier --out files")
    args = ap.parse_args()
    if args.summary:
        summary([json.loads(line) for f in args.summary for line in f.read_text().splitlines()])
        return
    limit_threads(1)  # one core, as `gpbench run --threads 1`
    ds, traits = load_development(load_registry(), args.dataset, args.traits, args.data_dir)
    tables = []
    for trait in traits:
        for fold in map(int, args.folds.split(",")):
            table = {"dataset": args.dataset, **unit_table(ds, trait, fold)}
            tables.append(table)
            if args.out:
                with args.out.open("a") as fh:
                    fh.write(json.dumps(table) + "\n")
            fit = sum(c["fit_s"] for c in table["candidates"])
            print(f"{args.dataset} {trait} fold {fold}: n {table['n_train']}, setup "
                  f"{table['setup_s']:.1f} s, 15 reductions {fit:.1f} CPU s", flush=True)
    summary(tables)


if __name__ == "__main__":
    main()
