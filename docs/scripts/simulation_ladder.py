"""The simulation ladder of docs/notes/simulation-ladder.md: run its cells, then summarise them.

    PYTHONPATH=benchmark:plugins python docs/scripts/simulation_ladder.py \
        --sizes 1000,4000,16000 [--models ridge,gblup] [--jobs 2] [--out leaderboard/ladder]
    PYTHONPATH=benchmark:plugins python docs/scripts/simulation_ladder.py --summary-only

Each cell (architecture, size, replicate) is one ``gpbench run`` of the ``sim`` dataset into
``OUT/<architecture>-n<size>-rep<seed>`` (resumable: finished units are skipped). The summary,
``OUT/README.md`` and one ``OUT/<architecture>.png`` per architecture, is derived from the
stored predictions and true genetic values of every run directory under ``OUT``. The design
(sizes, architectures, options, models, the "wins" rule) is fixed in the note; do not edit the
constants below without a new note and a new ladder name.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

import pandas as pd

# the design (docs/notes/simulation-ladder.md); fixed before any model ran on it
POPULATION = {"n_markers": 2000, "n_chrom": 10, "n_traits": 1, "h2": 0.5, "missing": 0}
ARCHITECTURES = {"additive": {"n_qtl": 200, "epistasis": 0.0},
                 "epistatic": {"n_qtl": 200, "epistasis": 0.5},
                 "few-qtl": {"n_qtl": 5, "epistasis": 0.0}}
SIZES = (1000, 4000, 16000)  # and 64,000 on a GPU only
GPU_SIZES = (64000,)
REPLICATES = (1, 2)  # the sim's seed
FAMILIES = {"linear": ("ridge", "gblup", "lasso", "elasticnet", "bayesb"),
            "kernels": ("rkhs", "svr"), "trees": ("gbm", "xgboost", "rf"),
            "transformer": ("transformer",), "baseline": ("mean",)}
FOLDS, FOLD_SEED = 5, 0
WIN_SHARE = 0.9  # a family wins a cell when it beats every other in >= 90% of paired folds


def family(model: str) -> str:
    return next((f for f, models in FAMILIES.items() if model in models), "other")


def cell_name(arch: str, size: int, rep: int) -> str:
    return f"{arch}-n{size}-rep{rep}"


def run_cell(arch: str, size: int, rep: int, models: list[str], out: Path, jobs: int,
             device: str = "auto") -> int:
    """Run (or resume) one cell; returns the number of failed units."""
    from gpbench.plugins import load_registry
    from gpbench.running.plan import RunConfig, execute, plan_run

    options = {**POPULATION, **ARCHITECTURES[arch], "n_strains": size, "seed": rep}
    config = RunConfig(models=models, dataset="sim", traits=["trait1"], k=FOLDS,
                       seed=FOLD_SEED, out=out / cell_name(arch, size, rep), jobs=jobs,
                       n_threads=1, device=device,
                       dataset_options={k: f"{v:g}" for k, v in options.items()})
    summary = execute(plan_run(config, load_registry()))
    return len(summary.failed)


def collect(out: Path) -> pd.DataFrame:
    """One row per (architecture, size, replicate, model, fold): r and R² against the truth
    and against the phenotype, derived from the stored records."""
    from gpbench.boards.leaderboard import load_run
    from gpbench.boards.truth import truth_frame

    frames = []
    for run_dir in sorted(p for p in out.iterdir() if (p / "run.json").exists()):
        arch, size, rep = run_dir.name.rsplit("-", 2)
        df = truth_frame(load_run(run_dir)[1])
        frames.append(df.assign(architecture=arch, size=int(size[1:]), rep=int(rep[3:])))
    if not frames:
        return pd.DataFrame(columns=["architecture", "size", "rep", "model", "fold", "r_g",
                                     "r2_g", "r_y", "r2_y"])
    return pd.concat(frames, ignore_index=True)


def _mean_or_nan(values: pd.Series) -> float:
    """The mean, undefined (NaN) when any fold's value is (r of a constant prediction)."""
    return float(values.mean(skipna=False))


def winner(cell: pd.DataFrame) -> str:
    """The note's rule: the family of the best model by mean r against the truth wins when it
    beats the best model of every other family in >= 90% of the paired (replicate, fold)
    scores; otherwise the families within reach tie."""
    means = cell.groupby("model")["r_g"].mean()
    best = {f: m.idxmax() for f, m in means.groupby(means.index.map(family))
            if f != "baseline"}
    if not best:
        return "–"
    top_family = max(best, key=lambda f: means[best[f]])
    wide = cell.pivot_table(index=["rep", "fold"], columns="model", values="r_g")
    tied = [top_family]
    for f, model in best.items():
        if f == top_family:
            continue
        diff = (wide[best[top_family]] - wide[model]).dropna()
        if len(diff) == 0 or (diff > 0).mean() < WIN_SHARE:
            tied.append(f)
    return tied[0] if len(tied) == 1 else "tie: " + ", ".join(sorted(tied))


def summarise(out: Path, commands: list[str]) -> Path:
    """Write OUT/README.md and one figure per architecture from the stored results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    from tabulate import tabulate

    df = collect(out)
    md = ["# Simulation ladder: accuracy against the true genetic values", "",
          "Design: [docs/notes/simulation-ladder.md](../../docs/notes/simulation-ladder.md) "
          "(fixed before any run). r (truth): correlation of test predictions with the true "
          "genetic values; r (phenotype): with the noisy phenotype (ceiling sqrt(h²) = "
          f"{math.sqrt(POPULATION['h2']):.2f}). Mean over {FOLDS} folds and the replicates "
          "run (column reps); – where undefined in a fold (r of a constant prediction, as the "
          "`mean` baseline's). Derived from the stored predictions of the run directories "
          "beside this file.", "", "Made with (every invocation, in order, from OUT/commands.txt):",
          "", "```", *commands, "```", ""]
    if df.empty:
        md += ["No cell has been run yet.", ""]
    for arch in ARCHITECTURES:
        sub = df[df.architecture == arch]
        md += [f"## {arch}", ""]
        if sub.empty:
            md += ["Not run.", ""]
            continue
        g = sub.groupby(["size", "model"])
        means = {c: g[c].agg(_mean_or_nan) for c in ("r_g", "r2_g", "r_y")}
        table = pd.DataFrame({**means, "reps": g["rep"].nunique(),
                              "folds": g.size()}).reset_index()
        table = table.sort_values(["size", "r_g"], ascending=[True, False])
        def fmt(x: float) -> str:
            return f"{x:.3f}" if math.isfinite(x) else "–"

        rows = [[f"{int(r['size']):,}", r["model"], family(r["model"]), fmt(r["r_g"]),
                 fmt(r["r2_g"]), fmt(r["r_y"]), int(r["reps"]), int(r["folds"])]
                for _, r in table.iterrows()]
        md += [tabulate(rows, headers=["size", "model", "family", "r (truth)", "R² (truth)",
                                       "r (phenotype)", "reps", "folds"],
                        tablefmt="github", disable_numparse=True), ""]
        wins = [[f"{size:,}", winner(cell)] for size, cell in sub.groupby("size")]
        md += ["Which family wins (rule of the note):", "",
               tabulate(wins, headers=["size", "winner"], tablefmt="github",
                        disable_numparse=True), "", f"![{arch}]({arch}.png)", ""]
        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110, layout="constrained")
        cmap = plt.get_cmap("tab10")
        for i, (model, m) in enumerate(table.groupby("model")):
            ax.plot(m["size"], m["r_g"], marker="o", color=cmap(i % 10),
                    label=f"{model} ({family(model)})")
        ax.set_xscale("log")
        ticks = sorted({*SIZES, *table["size"]})  # the design's rungs, run or not
        ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
        ax.set_xlim(ticks[0] / 1.4, ticks[-1] * 1.4)
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_xlabel("population size (strains; 80% of them train each fold)")
        ax.set_ylabel("r with the true genetic values (test folds)")
        ax.set_title(f"simulation ladder: {arch}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        fig.savefig(out / f"{arch}.png")
        plt.close(fig)
    missing = [cell_name(a, s, r) for a in ARCHITECTURES for s in SIZES for r in REPLICATES
               if not (out / cell_name(a, s, r) / "run.json").exists()]
    if missing:
        md += ["## Not run", "", "Cells of the design without results here: "
               + ", ".join(f"`{m}`" for m in missing) + f" (and every {GPU_SIZES[0]:,} cell, "
               "GPU only).", ""]
    design = [m for ms in FAMILIES.values() for m in ms]
    absent = [m for m in design if df.empty or m not in set(df["model"])]
    if absent:
        md += [f"Models of the design not run here: {', '.join(absent)}.", ""]
    target = out / "README.md"
    target.write_text("\n".join(md))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--architectures", default=",".join(ARCHITECTURES))
    parser.add_argument("--replicates", default=",".join(str(r) for r in REPLICATES))
    parser.add_argument("--models", default=",".join(m for ms in FAMILIES.values()
                                                      for m in ms))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (the GPU rungs)")
    parser.add_argument("--out", type=Path, default=Path("leaderboard/ladder"))
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    archs = args.architectures.split(",")
    reps = [int(r) for r in args.replicates.split(",")]
    wrong = ([s for s in sizes if s not in (*SIZES, *GPU_SIZES)]
             + [a for a in archs if a not in ARCHITECTURES]
             + [r for r in reps if r not in REPLICATES])
    if wrong:
        parser.error(f"{wrong} are not in the ladder's design (docs/notes/"
                     "simulation-ladder.md); it is fixed")
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    if not args.summary_only:
        for arch in archs:
            for size in sizes:
                for rep in reps:
                    failed += run_cell(arch, size, rep, args.models.split(","), args.out,
                                       args.jobs, args.device)
    log = args.out / "commands.txt"
    with log.open("a") as f:  # the summary shows how every cell was made
        print("PYTHONPATH=benchmark:plugins python docs/scripts/simulation_ladder.py "
              + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
              file=f)
    commands = list(dict.fromkeys(log.read_text().splitlines()))
    print(f"summary: {summarise(args.out, commands)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
