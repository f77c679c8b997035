"""The ``gpbench`` command line: run, list, plugins, leaderboard."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gpbench import __version__
from gpbench.api.errors import GpbenchError
from gpbench.storage.records import holds_results

EPILOG = """\
environment:
  GPBENCH_DATA_DIR   directory holding a dataset's raw files (same as --data-dir)
  GPBENCH_CACHE      cache for downloads and converted data (default ~/.cache/gpbench)
  GPBENCH_PLUGINS    comma-separated plugins to load (entry-point or distribution names)
  GPBENCH_TRACE=1    log every hook call and what it registered
"""


def _csv(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _key_values(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise GpbenchError(f"{what} must look like key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _parse_value(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def _model_options(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in _key_values(items, "--model-option").items():
        if "." not in key:
            raise GpbenchError(f"--model-option needs MODEL.OPTION=VALUE, got {key}={value}")
        model, opt = key.split(".", 1)
        out.setdefault(model, {})[opt] = _parse_value(value)
    return out


def _own_data_arguments(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    parser.add_argument("--geno", type=Path, default=None, metavar="FILE",
                        help="your genotype file: PLINK .bed (+ .bim/.fam), VCF / VCF.gz or a "
                        "CSV/TSV matrix (id column + one dosage column per marker); same as "
                        "--dataset files --dataset-option geno=FILE")
    parser.add_argument("--pheno", type=Path, default=None, metavar="FILE",
                        help="your phenotype CSV/TSV: an id column and one column per trait; "
                        "an empty cell, NA, NaN, N/A, NULL, '.' or '-' is missing; columns "
                        "without numbers (names, notes) are skipped with a note")
    parser.add_argument("--id-column", default=None, metavar="NAME",
                        help="id column of the phenotype file (default: its first column; "
                        "when its ids are not the genotype ids, the error names the column "
                        "that holds them)")
    parser.add_argument("--ignore-columns", default=None, type=_csv, metavar="A,B",
                        help="phenotype columns that are not traits (comma-separated)")


def _files_options(geno: Path, pheno: Path | None, id_column: str | None,
                   ignore_columns: Sequence[str] | None = None) -> dict[str, str]:
    """Dataset options of the ``files`` dataset (absolute paths, so workers find them)."""
    opts = {"geno": str(Path(geno).expanduser().absolute())}
    if pheno is not None:
        opts["pheno"] = str(Path(pheno).expanduser().absolute())
    if id_column:
        opts["id_column"] = id_column
    if ignore_columns:
        opts["ignore_columns"] = ",".join(ignore_columns)
    return opts


def _fractions(text: str) -> tuple[float, ...]:
    """``--train-fraction 0.1,0.5,1``: shares of the training fold (range checked by the plan)."""
    try:
        return tuple(float(part) for part in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers, e.g. 0.1,0.2,0.4,0.7,1.0"
        ) from None


def _folds(text: str) -> int | str:
    """``--folds``: a number of folds, or ``published``."""
    if text.strip().lower() == "published":
        return "published"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of folds or 'published', got "
                                         f"{text!r}") from None


def _dataset_choice(args: argparse.Namespace, registry: Any, flag: str = "--dataset"
                    ) -> tuple[str, dict[str, str]]:
    """(dataset name, options) from --dataset/--dataset-option or the --geno/--pheno shorthand
    (``flag``: the option that named the dataset, for messages); the registry says which
    dataset is the default and which reads own files."""
    options = _key_values(args.dataset_option, "--dataset-option")
    if args.geno is None:
        if args.pheno is not None or args.id_column or args.ignore_columns:
            raise GpbenchError("--pheno, --id-column and --ignore-columns go with --geno FILE "
                               "(your genotypes)")
        return args.dataset or registry.dataset_with_role("default"), options
    own = registry.dataset_with_role("own-files")
    if args.dataset not in (None, own):
        raise GpbenchError(f"--geno reads your own files; it cannot be combined with "
                           f"{flag} {args.dataset}")
    if args.pheno is None:
        raise GpbenchError("--geno needs --pheno FILE: a CSV/TSV with an id column and one "
                           "column per trait")
    return own, {**options, **_files_options(args.geno, args.pheno, args.id_column,
                                                 args.ignore_columns)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpbench", description="Benchmark genomic prediction models with one identical, "
        "leakage-free cross-validation protocol.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gpbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run models on a dataset and write the leaderboard",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--models", required=True, type=_csv,
                     help="comma-separated model names (see `gpbench list`)")
    run.add_argument("--envs", "--traits", dest="traits", type=_csv, default=None,
                     help="comma-separated traits (case-insensitive); default: the dataset's "
                     "default traits (`gpbench list --traits DATASET` marks them), else all; "
                     "with several datasets, per dataset: 'wheat:E1,E2;rice:Plant.height'")
    run.add_argument("--dataset", default=None,
                     help="dataset name (default: yeast); several (wheat,rice) or `all` run "
                     "each into its own directory and write the cross-dataset board")
    _own_data_arguments(run)
    run.add_argument("--data-dir", type=Path, default=None,
                     help="directory with the dataset's raw files (else GPBENCH_DATA_DIR, "
                     "else download into the cache)")
    run.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                     help="dataset-specific option, e.g. n_strains=500 for sim; with several "
                     "datasets KEY=VALUE goes to all of them, DATASET:KEY=VALUE to one")
    run.add_argument("--model-option", action="append", default=[], metavar="MODEL.KEY=VALUE",
                     help="override a model option, e.g. gbm.learning_rate=0.05")
    run.add_argument("--folds", type=_folds, default=5,
                     help="outer CV folds (default 5), or `published`: the fold assignment "
                     "published with the dataset (e.g. wheat's 10 folds of Crossa et al. 2010)")
    run.add_argument("--seed", type=int, default=0, help="seed of the fold assignment")
    run.add_argument("--cv", default="random", metavar="SCHEME",
                     help="outer CV scheme: `random` (default: samples shuffled into folds) or "
                     "`group:COLUMN`: whole groups of a dataset grouping dealt into folds, "
                     "e.g. group:family (leave-family-out: predict new families) or "
                     "group:cage; for your own files, a text column of --pheno")
    run.add_argument("--repeats", type=int, default=1, help="repeated CV (default 1)")
    run.add_argument("--out", type=Path, default=None,
                     help="run directory (default runs/DATASET-kK-seedS-repR); rerunning the "
                     "same command there resumes")
    run.add_argument("--maf", type=float, default=0.01,
                     help="drop markers whose minor-allele frequency in the training fold is "
                     "below this (default 0.01; 0 keeps all but constant markers)")
    run.add_argument("--min-call-rate", type=float, default=0.5, metavar="RATE",
                     help="drop markers called in fewer than this share of the training fold's "
                     "samples (default 0.5); other missing calls get the training-fold mean")
    run.add_argument("--covariates", default="auto", metavar="auto|none|FILE",
                     help="fixed effects fitted on each training fold and added back to "
                          "predictions: auto (default) uses the dataset's (mice: sex), none "
                          "reproduces the v1 protocol, FILE is a CSV of sample id + covariate "
                          "columns; FILE:A,B takes only columns A and B (e.g. of the "
                          "phenotype file: list them in --ignore-columns too, so they are "
                          "not traits)")
    run.add_argument("--trials", default="auto", choices=["auto", "none"],
                     help="auto (default): where a dataset has per-trial records (barley, soynam, "
                          "maize-drops), "
                          "estimate trial effects on each training fold's records and score "
                          "trial-adjusted targets; none: plain means as in the v1 protocol")
    run.add_argument("--train-fraction", type=_fractions, default=(1.0,), metavar="F1,F2,...",
                     help="also fit each unit on these shares of its training fold (nested "
                     "subsets, the same test fold) for a learning curve, e.g. "
                     "0.1,0.2,0.4,0.7,1.0 (default 1.0: the whole fold)")
    run.add_argument("--tune", type=int, default=0, metavar="N",
                     help="N Optuna trials inside each outer training fold (default 0: "
                     "defaults)")
    run.add_argument("--optuna-storage", default=None,
                     help="Optuna storage URL, e.g. sqlite:///tuning.db (default in-memory)")
    run.add_argument("--tune-jobs", type=int, default=1, metavar="N",
                     help="processes sharing each unit's Optuna study through the storage")
    run.add_argument("--tune-metric", default="r2", metavar="METRIC",
                     help="metric the tuning maximises on the inner split (default r2, the "
                     "leaderboard's; see `gpbench list`)")
    run.add_argument("--jobs", type=int, default=None,
                     help="units in parallel, each in its own long-lived worker process "
                     "(default: the usable CPU cores, each worker capped at cores/jobs threads)")
    run.add_argument("--keep-history", action="store_true",
                     help="store each model's training history (e.g. validation loss per "
                     "boosting round) in its record; off by default: no board needs it")
    run.add_argument("--unit-timeout", type=float, default=None, metavar="SECONDS",
                     help="kill a unit that runs longer, counted from its start in its worker "
                     "(it is recorded as failed and the run goes on)")
    run.add_argument("--executor", choices=["local", "dask", "inline"], default="local",
                     help="local: worker processes on this machine (default; a crashing "
                     "plugin cannot take the run down); dask: a Dask distributed cluster; "
                     "inline: every unit in this process, one at a time (debugging)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler address, e.g. tcp://host:8786 (default: start a "
                     "LocalCluster with --jobs workers)")
    run.add_argument("--threads", type=int, default=None,
                     help="threads per unit (default: CPU cores / jobs)")
    run.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                     help="device for models that can use a GPU (auto: the GPU when torch "
                     "sees one; cuda without a GPU is refused before the run starts)")
    run.add_argument("--cache-dir", type=Path, default=None, help="override GPBENCH_CACHE")
    run.add_argument("--no-report", action="store_true",
                     help="skip the plots (RUN_DIR/report); leaderboard.md is always written")

    pred = sub.add_parser(
        "predict", help="fit a model on all measured individuals and predict new ones",
        description="Fit MODEL on every measured individual of your files (--geno/--pheno) "
        "or of a dataset, then predict the individuals of --new; or reuse a model saved "
        "with --save through --load.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    pred.add_argument("--model", default=None, help="model name (see `gpbench list`)")
    _own_data_arguments(pred)
    pred.add_argument("--dataset", default=None,
                      help="train on a registered dataset instead of --geno/--pheno")
    pred.add_argument("--data-dir", type=Path, default=None,
                      help="directory with the dataset's raw files")
    pred.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                      help="dataset-specific option of --dataset, e.g. n_strains=500 for sim")
    pred.add_argument("--model-option", action="append", default=[], metavar="MODEL.KEY=VALUE",
                      help="override a model option, e.g. gbm.learning_rate=0.05")
    pred.add_argument("--envs", "--traits", dest="traits", type=_csv, default=None,
                      help="traits to predict (default: all)")
    pred.add_argument("--new", type=Path, required=True, metavar="NEW_GENO",
                      help="genotypes of the individuals to predict (PLINK, VCF or CSV/TSV)")
    pred.add_argument("--out", type=Path, required=True, metavar="CSV",
                      help="predictions: one row per new individual, id + one column per trait")
    pred.add_argument("--save", type=Path, default=None, metavar="DIR",
                      help="also save the fitted model to DIR (reuse it with --load DIR)")
    pred.add_argument("--load", type=Path, default=None, metavar="DIR",
                      help="predict with a model saved by --save instead of fitting one")
    pred.add_argument("--tune", type=int, default=0, metavar="N",
                      help="N Optuna trials inside the training set before the final fit")
    pred.add_argument("--tune-metric", default=None, metavar="METRIC",
                      help="metric the tuning maximises on the inner split (default r2)")
    # None = not given (--load refuses them); _cmd_predict applies run's defaults
    pred.add_argument("--maf", type=float, default=None,
                      help="marker QC on the training individuals (as in `run`; default 0.01)")
    pred.add_argument("--min-call-rate", type=float, default=None, metavar="RATE",
                      help="marker QC on the training individuals (as in `run`; default 0.5)")
    pred.add_argument("--seed", type=int, default=None,
                      help="seed of the inner split and model (default 0)")
    pred.add_argument("--covariates", default=None, metavar="auto|none|FILE",
                      help="fixed effects fitted on the training individuals, as in `run`: "
                           "auto (default) the dataset's (mice: sex), none, or FILE / "
                           "FILE:A,B; their effects are added back from --new-covariates")
    pred.add_argument("--trials", default=None, choices=["auto", "none"],
                      help="as in `run`: auto (default) fits trial-adjusted targets where the "
                           "dataset has per-trial records, so predictions are individual "
                           "(genetic + line) effects; none: plain means")
    pred.add_argument("--new-covariates", default=None, metavar="FILE",
                      help="covariates of the --new individuals (CSV: id column, then the "
                           "training covariates; FILE:A,B takes columns A and B), needed when "
                           "the model was fitted with covariates")
    pred.add_argument("--threads", type=int, default=None, help="threads for the model")
    pred.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                      help="device for models that can use a GPU")
    pred.add_argument("--cache-dir", type=Path, default=None, help="override GPBENCH_CACHE")

    lst = sub.add_parser("list", help="list datasets, models, metrics (or a dataset's traits)")
    lst.add_argument("--traits", metavar="DATASET", default=None,
                     help="list only the traits of DATASET (loads it)")
    lst.add_argument("--data-dir", type=Path, default=None,
                     help="directory with the dataset's raw files (else GPBENCH_DATA_DIR, "
                     "else download into the cache)")
    lst.add_argument("--cache-dir", type=Path, default=None, help="override GPBENCH_CACHE")
    lst.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                     help="dataset-specific option of the --traits dataset")
    _own_data_arguments(lst)  # `gpbench list --geno G --pheno P`: the traits of your files

    sub.add_parser("plugins", help="list plugins, versions and what each registers")

    rep = sub.add_parser("report", help="write the leaderboard with plots (observed vs "
                         "predicted, learning curves, R² chart) from stored results")
    rep.add_argument("run_dir", type=Path, help="a run directory written by `gpbench run`")
    rep.add_argument("-o", "--output", type=Path, default=None,
                     help="output directory (default RUN_DIR/report)")

    board = sub.add_parser("leaderboard", help="render the leaderboard of a run directory "
                           "from its stored results (nothing is rerun)")
    board.add_argument("run_dir", type=Path, nargs="+", metavar="RUN_DIR",
                       help="a run directory; several give the board across datasets")
    board.add_argument("-o", "--output", type=Path, default=None,
                       help="markdown file (default RUN_DIR/leaderboard.md); with several "
                       "run directories the output directory (default runs/cross)")
    board.add_argument("--print", action="store_true", help="also print it")
    board.add_argument("--params", action="store_true",
                       help="add the options chosen by --tune in every fold")
    board.add_argument("--reference", default=None, metavar="MODEL",
                       help="the model every other one is compared with beside the best "
                       "(default: the one a plugin declares, GBLUP)")

    site = sub.add_parser("site", help="build a static results website of run directories "
                          "(opens from files, works offline; nothing is rerun)")
    site.add_argument("run_dir", type=Path, nargs="+", metavar="RUN_DIR",
                      help="run directories; several add the board across datasets")
    site.add_argument("-o", "--output", type=Path, default=Path("site"),
                      help="output directory (default ./site)")

    stat = sub.add_parser("status", help="what run directories hold: units done, failed and "
                          "missing per model (nothing is run)")
    stat.add_argument("run_dir", type=Path, nargs="+", metavar="RUN_DIR",
                      help="run directories written by `gpbench run`")
    stat.add_argument("--check", action="store_true",
                      help="exit with status 1 unless every listed unit has an ok record")
    stat.add_argument("--prune", action="store_true",
                      help="also drop the records of units run.json no longer lists (made "
                      "by an older model version or another configuration; they count for "
                      "nothing) from each directory's results.parquet")
    stat.add_argument("--costs", action="store_true",
                      help="instead: unit-seconds of the ok records per model and run "
                      "directory, with totals (the cost table of docs/notes/costs.md): CPU "
                      "seconds where a record has them, else wall seconds")

    cmp_ = sub.add_parser("compare", help="run a new model on a committed board's own folds "
                          "and protocol, beside its stored results, and write the boards")
    cmp_.add_argument("--models", type=_csv, required=True,
                      help="the model(s) to add, e.g. your plugin's")
    cmp_.add_argument("--board", type=Path, default=Path("leaderboard/collection"),
                      help="a board: a directory of run directories or one run directory "
                      "(default leaderboard/collection)")
    cmp_.add_argument("-o", "--out", type=Path, required=True,
                      help="new directory for the copy of the board with your model in it")
    cmp_.add_argument("--data-dir", type=Path, default=None,
                      help="the datasets' raw files (else GPBENCH_DATA_DIR, else the cache)")
    cmp_.add_argument("--cache-dir", type=Path, default=None, help="override GPBENCH_CACHE")
    cmp_.add_argument("--jobs", type=int, default=None,
                      help="units in parallel (default: the usable CPU cores)")
    cmp_.add_argument("--executor", choices=["local", "inline"], default="local",
                      help="local: worker processes (default); inline: this process")

    mig = sub.add_parser("migrate", help="bring run directories of an older gpbench up to "
                         "today's results store (keys by declared versions, one results.parquet)")
    mig.add_argument("run_dir", type=Path, nargs="+", metavar="RUN_DIR",
                     help="run directories written by `gpbench run`")

    ver = sub.add_parser("verify", help="rerun a sample of a run directory's stored units and "
                         "compare their predictions with the records (nothing is written)")
    ver.add_argument("run_dir", type=Path, help="a run directory written by `gpbench run`")
    ver.add_argument("--models", type=_csv, default=None,
                     help="comma-separated models to check (default: all in the directory)")
    ver.add_argument("--sample", type=int, default=3, metavar="N",
                     help="units to rerun, drawn at random (default 3)")
    ver.add_argument("--all", action="store_true", help="rerun every recomputable unit")
    ver.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    ver.add_argument("--tolerance", type=float, default=1e-6, metavar="T",
                     help="largest prediction difference accepted, as a share of the sd of "
                     "the observed test values (default 1e-6)")
    ver.add_argument("--jobs", type=int, default=1, help="units rerun in parallel")
    ver.add_argument("--threads", type=int, default=1, metavar="N",
                     help="threads of a rerun whose record does not store the count it ran "
                     "with (default 1; others rerun with their own)")
    ver.add_argument("--data-dir", type=Path, default=None,
                     help="the dataset's raw files (else GPBENCH_DATA_DIR, else the run's "
                     "recorded --data-dir when it exists here, else the cache/download)")
    ver.add_argument("--cache-dir", type=Path, default=None, help="override GPBENCH_CACHE")
    return parser


def _data_dir(args: argparse.Namespace) -> Path | None:
    """--data-dir, else GPBENCH_DATA_DIR, else None (the dataset downloads into the cache)."""
    if args.data_dir:
        return args.data_dir
    env = os.environ.get("GPBENCH_DATA_DIR")
    return Path(env) if env else None


def _usable_cores() -> int:
    """CPU cores this process may run on (its affinity, e.g. under a container's limit)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _check_executor_flags(args: argparse.Namespace) -> None:
    """Refuse flags that the chosen --executor would silently ignore (before any work)."""
    if args.executor == "inline" and (args.jobs not in (None, 1)
                                      or args.unit_timeout is not None):
        raise GpbenchError("--executor inline runs one unit at a time in this process; "
                           "drop --jobs/--unit-timeout or use --executor local")
    if args.executor == "dask" and args.unit_timeout is not None:
        raise GpbenchError("--unit-timeout needs --executor local (Dask runs units as "
                           "tasks it cannot kill); drop it or use --executor local")
    if args.executor != "dask" and args.scheduler is not None:
        raise GpbenchError("--scheduler is the address of a Dask cluster; add --executor dask "
                           "or drop --scheduler")


def _executor(args: argparse.Namespace) -> Any:
    """The executor --executor names; None: the default local worker pool."""
    if args.executor == "inline":
        from gpbench.running.executors import InlineExecutor

        return InlineExecutor()
    if args.executor == "dask":
        from gpbench.running.executors import DaskExecutor

        jobs = args.jobs if args.jobs is not None else _usable_cores()
        return DaskExecutor(args.scheduler, n_workers=max(1, jobs))
    return None


def _check_device(device: str, remote: bool = False) -> None:
    """Refuse ``--device cuda`` where torch sees no GPU (before any data are read or any unit
    runs); ``remote``: the units run on a Dask cluster elsewhere, whose GPUs are not seen here."""
    if device != "cuda" or remote:
        return
    try:
        import torch
    except ImportError:
        raise GpbenchError("--device cuda needs PyTorch with CUDA, which is not installed; "
                           "use --device auto or cpu") from None
    if not torch.cuda.is_available():
        raise GpbenchError("--device cuda: torch sees no CUDA GPU on this machine; use "
                           "--device auto (GPU when there is one) or --device cpu")


def _cmd_run(args: argparse.Namespace) -> int:
    from gpbench.plugins import load_registry
    from gpbench.running.multirun import is_multi_dataset
    from gpbench.running.plan import RunConfig, default_cache_dir, execute, plan_run
    from gpbench.running.units import Environment, TuneConfig

    _check_executor_flags(args)
    _check_device(args.device, remote=args.scheduler is not None)
    data_dir = _data_dir(args)
    registry = load_registry()
    dataset, dataset_options = _dataset_choice(args, registry)
    config = RunConfig(
        models=args.models, dataset=dataset, traits=args.traits,
        k=5 if args.folds == "published" else args.folds,
        published_folds=args.folds == "published", keep_history=args.keep_history,
        seed=args.seed, repeats=args.repeats, out=args.out, data_dir=data_dir,
        cache_dir=args.cache_dir or default_cache_dir(),
        dataset_options=dataset_options,
        model_options=_model_options(args.model_option),
        tune=(TuneConfig(args.tune, args.optuna_storage, metric=args.tune_metric,
                         jobs=args.tune_jobs) if args.tune else None),
        jobs=(args.jobs if args.jobs is not None
              else 1 if args.executor == "inline" else _usable_cores()),
        unit_timeout=args.unit_timeout,
        n_threads=args.threads,
        device=args.device, maf=args.maf, min_call_rate=args.min_call_rate,
        covariates=args.covariates, trials=args.trials, cv=args.cv,
        train_fractions=args.train_fraction)
    if is_multi_dataset(args.dataset):
        return _cmd_run_many(args, config, registry)
    plan = plan_run(config, registry)
    print(f"gpbench: {len(plan.units)} units ({', '.join(config.models)} on "
          f"{plan.dataset.name}, {config.k} folds x {config.repeats} repeat(s)) -> "
          f"{plan.store.run_dir}", file=sys.stderr)
    command = "gpbench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    executor = _executor(args)
    summary = execute(plan, executor=executor, env=Environment(registry=registry),
                      meta={"command": command})
    print(summary.leaderboard.read_text() if summary.leaderboard else "")
    print(f"leaderboard: {summary.leaderboard}", file=sys.stderr)
    if not args.no_report:
        from gpbench.boards.report import write_report

        print(f"report with plots: {write_report(summary.run_dir)}", file=sys.stderr)
    if summary.failed:
        print(f"gpbench: {len(summary.failed)} unit(s) failed:", file=sys.stderr)
        for rec in summary.failed:
            print(f"  {rec['unit_id']}: {rec['error'].splitlines()[0]}", file=sys.stderr)
        print("their tracebacks are in the result files; rerun the same command to retry "
              "them (finished units are kept)", file=sys.stderr)
        return 1
    return 0


def model_options_text(reg: Any) -> str:
    """Each model's options with their defaults (``--model-option MODEL.KEY=VALUE``)."""
    import textwrap

    lines = ["model options (defaults; change with --model-option MODEL.KEY=VALUE; None: "
             "chosen by the model, e.g. from its profile):"]
    for name in reg.names("model"):
        spec = reg.entry("model", name).spec
        opts = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                         for k, v in spec.options.items()) or "(none)"
        tuned = "" if spec.search_space else "  [no search space: --tune runs it untuned]"
        lines += textwrap.wrap(f"{name}: {opts}{tuned}", width=100, initial_indent="  ",
                               subsequent_indent="      ")
    return "\n".join(lines) + "\n"


def _load_new(registry: Any, args: argparse.Namespace, cache_dir: Path) -> Any:
    """The --new genotypes, read by the ``files`` dataset plugin (genotypes only)."""
    from gpbench.api.types import DataConfig

    spec = registry.dataset(registry.dataset_with_role("own-files"))
    return spec.load(DataConfig(cache_dir, None, _files_options(args.new, None,
                                                                 args.id_column)))


def _new_covariates(args: argparse.Namespace) -> Any:
    """The --new-covariates table (indexed by id), or None when not given."""
    from gpbench.running.design import read_covariate_table

    if not args.new_covariates:
        return None
    return read_covariate_table(args.new_covariates, "--new-covariates")


def _cmd_predict(args: argparse.Namespace) -> int:
    from gpbench.api.types import DataConfig
    from gpbench.plugins import load_registry
    from gpbench.running import predict
    from gpbench.running.plan import RunConfig, default_cache_dir, resolve_traits
    from gpbench.running.units import TuneConfig

    _check_device(args.device)
    registry = load_registry()
    cache_dir = args.cache_dir or default_cache_dir()
    n_threads = args.threads or max(1, os.cpu_count() or 1)
    if args.load is not None:
        given = [f for f, v in (("--model", args.model), ("--geno", args.geno),
                                ("--pheno", args.pheno), ("--dataset", args.dataset),
                                ("--save", args.save), ("--tune", args.tune),
                                ("--tune-metric", args.tune_metric),
                                ("--envs", args.traits), ("--data-dir", args.data_dir),
                                ("--dataset-option", args.dataset_option),
                                ("--model-option", args.model_option),
                                ("--maf", args.maf is not None),
                                ("--min-call-rate", args.min_call_rate is not None),
                                ("--seed", args.seed is not None),
                                ("--covariates", args.covariates is not None),
                                ("--trials", args.trials is not None)) if v]
        if given:
            raise GpbenchError(f"--load DIR predicts with a saved model; drop {', '.join(given)}"
                               " (they were fixed when the model was fitted)")
        trained = predict.load(args.load, registry, n_threads, args.device)
        new = _load_new(registry, args, cache_dir)
        new_covariates = _new_covariates(args)
    else:
        if not args.model:
            raise GpbenchError("name the model to fit with --model MODEL, or give a saved "
                               "model with --load DIR")
        entry = registry.entry("model", args.model)
        if args.save is not None:
            predict.check_savable(entry.spec, entry.plugin)
        if args.geno is None and args.dataset is None:
            raise GpbenchError("give the training data: --geno FILE --pheno FILE, or "
                               "--dataset NAME")
        dataset, options = _dataset_choice(args, registry)
        data_config = DataConfig(cache_dir, _data_dir(args), options)
        try:
            registry.dataset(dataset).check_options(options)
        except ValueError as exc:
            raise GpbenchError(str(exc)) from exc
        model_options = _model_options(args.model_option)
        unknown = sorted(set(model_options) - {entry.spec.name})
        if unknown:
            raise GpbenchError(f"--model-option names model(s) {unknown}, but predict fits "
                               f"{entry.spec.name!r} only")
        try:  # option names and values fail before any data are read or any model is fitted
            entry.spec.check_options(model_options.get(entry.spec.name, {}))
        except ValueError as exc:
            raise GpbenchError(str(exc)) from exc
        new = _load_new(registry, args, cache_dir)  # a bad --new fails before any fit
        ds = registry.dataset(dataset).load(data_config)
        traits = resolve_traits(args.traits, ds.trait_names)
        predict.check_new(new, ds.markers, args.new.name)
        covariates = args.covariates or RunConfig.covariates
        new_covariates = _new_covariates(args)
        predict.check_new_covariates(ds, covariates, new_covariates, new.sample_ids,
                                     f"--new-covariates {args.new_covariates}")
        trained = predict.train(
            registry, ds, entry.spec.name, traits, model_options.get(entry.spec.name, {}),
            tune=TuneConfig(args.tune, metric=args.tune_metric or "r2") if args.tune else None,
            # flags not given take `run`'s defaults (RunConfig's)
            seed=RunConfig.seed if args.seed is None else args.seed, n_threads=n_threads,
            device=args.device, maf=RunConfig.maf if args.maf is None else args.maf,
            min_call_rate=(RunConfig.min_call_rate if args.min_call_rate is None
                           else args.min_call_rate),
            data_config=data_config, covariates=covariates,
            trials=args.trials or RunConfig.trials)
        if args.save is not None:
            print(f"saved model: {predict.save(trained, args.save)}", file=sys.stderr)
    frame = predict.predict(trained, new, args.new.name, new_covariates,
                            f"--new-covariates {args.new_covariates}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out)
    print(f"predictions for {len(frame)} individuals x {frame.shape[1]} trait(s) of "
          f"{trained.model}: {args.out}", file=sys.stderr)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from gpbench.plugins import load_registry

    reg = load_registry()
    if args.traits or args.geno is not None:
        return _list_traits(args, reg)
    for kind, attr in (("dataset", "description"), ("model", "description"),
                       ("metric", "description")):
        rows = []
        for name in reg.names(kind):
            e = reg.entry(kind, name)
            extra = ""
            if kind == "model":
                extra = "multi-trait" if e.spec.multi_trait else "single-trait"
            if kind == "metric":
                extra = "higher is better" if e.spec.higher_is_better else "lower is better"
            rows.append([name, extra, getattr(e.spec, attr), e.plugin.name])
        print(f"{kind}s:")
        print(tabulate(rows, headers=["name", "", "description", "plugin"], tablefmt="simple"))
        print()
        if kind == "model":
            print(model_options_text(reg))
    return 0


def _list_traits(args: argparse.Namespace, reg: Any) -> int:
    """``gpbench list --traits DATASET`` (or ``--geno/--pheno``): that dataset's traits only."""
    from tabulate import tabulate

    from gpbench.api.types import DataConfig
    from gpbench.running.plan import default_cache_dir

    args.dataset = args.traits
    name, options = _dataset_choice(args, reg, "--traits")
    spec = reg.dataset(name)
    try:
        spec.check_options(options)
    except ValueError as exc:
        raise GpbenchError(str(exc)) from exc
    ds = spec.load(DataConfig(args.cache_dir or default_cache_dir(), _data_dir(args),
                              options))
    counts = ds.traits.notna().sum()
    n, p = ds.genotypes.shape
    print(f"{ds.name}: {n} samples x {p} markers"
          + (f", coding {ds.coding}" if ds.coding else "") + f"; version {ds.version}")
    default = set(spec.default_traits)
    print(f"traits of {ds.name} ({len(ds.trait_names)}; measured samples"
          + ("; * = default trait" if default else "") + "):")
    print(tabulate([[t, int(counts[t]), "*" if t in default else ""]
                    for t in ds.trait_names], tablefmt="simple"))
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from gpbench.plugins import load_registry

    reg = load_registry()
    rows = []
    for info in reg.plugins:
        owns = []
        for kind in ("dataset", "model", "metric"):
            names = [n for n in reg.names(kind) if reg.entry(kind, n).plugin.name == info.name]
            if names:
                owns.append(f"{kind}s: {', '.join(names)}")
        rows.append([info.name, info.distribution or "-", info.version or "-",
                     "; ".join(owns) or "(nothing registered)"])
    print(tabulate(rows, headers=["plugin", "distribution", "version", "registers"],
                   tablefmt="simple"))
    return 0


def _glob_run_dirs(paths: list[Path]) -> list[Path]:
    """The run directories of ``paths``. A shell glob such as ``leaderboard/v2/*/`` also
    matches folders beside the runs that are not runs (a cross board's ``cross/``, a
    ``tables/``): those, holding no ``run.json`` and no results, are skipped with a note."""
    skipped = [d for d in paths if not holds_results(d) and not (Path(d) / "run.json").exists()
               and Path(d).is_dir()]
    run_dirs = [d for d in paths if d not in skipped]
    if skipped and run_dirs:
        print("gpbench: skipped " + ", ".join(f"{Path(d).name}/" for d in skipped)
              + " (no run.json: not run directories)", file=sys.stderr)
    for run_dir in run_dirs or paths:
        if not holds_results(run_dir):
            raise GpbenchError(f"{run_dir} holds no results; pass the --out "
                               "directories of `gpbench run`")
    return run_dirs


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from gpbench.boards.publish import write_leaderboard

    if len(args.run_dir) > 1:
        return _cmd_cross_leaderboard(args)
    args.run_dir = args.run_dir[0]
    if not holds_results(args.run_dir):
        raise GpbenchError(f"{args.run_dir} holds no results; pass the --out "
                           "directory of a `gpbench run`")
    path = write_leaderboard(args.run_dir, args.output, show_params=args.params,
                             reference=args.reference)
    if args.print:
        print(path.read_text())
    print(f"leaderboard: {path}", file=sys.stderr)
    return 0


def _cmd_site(args: argparse.Namespace) -> int:
    from gpbench.site import build_site

    site = build_site(_glob_run_dirs(args.run_dir), args.output)
    print(f"site: {site.index} ({len(site.datasets)} dataset page(s), {len(site.models)} "
          "model page(s)); open it in a browser, no server needed", file=sys.stderr)
    return 0


def _cmd_cross_leaderboard(args: argparse.Namespace) -> int:
    from gpbench.boards.publish import write_cross_board
    from gpbench.running.multirun import CROSS_DIR

    path = write_cross_board(_glob_run_dirs(args.run_dir),
                             args.output or Path("runs") / CROSS_DIR, reference=args.reference)
    if args.print:
        print(path.read_text())
    print(f"leaderboard across datasets: {path}", file=sys.stderr)
    return 0


def _cmd_run_many(args: argparse.Namespace, base: Any, registry: Any) -> int:
    """``gpbench run --dataset a,b`` / ``--dataset all``: one run per dataset, then the board."""
    from gpbench.running.multirun import dataset_list, run_many
    from gpbench.running.units import Environment

    names = registry.names("dataset")
    datasets = dataset_list(args.dataset, names,
                            [n for n in names if registry.dataset(n).in_collection])
    executor = _executor(args)
    command = "gpbench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(f"gpbench: {', '.join(base.models)} on {len(datasets)} "
          f"dataset{'s' if len(datasets) != 1 else ''} "
          f"({', '.join(datasets)})", file=sys.stderr)
    summary = run_many(base, datasets, ",".join(args.traits) if args.traits else None,
                       registry, out_base=args.out, executor=executor,
                       env=Environment(registry=registry), meta={"command": command},
                       report=not args.no_report)
    if summary.cross is not None:
        print(summary.cross.read_text())
        print(f"leaderboard across datasets: {summary.cross}", file=sys.stderr)
    for o in summary.outcomes:
        state = (f"FAILED: {o.error}" if o.error else f"skipped: {o.skipped}" if o.skipped
                 else f"{o.run_dir}")
        print(f"  {o.dataset}: {state}", file=sys.stderr)
    if summary.failed_units:
        print(f"gpbench: {len(summary.failed_units)} unit(s) failed:", file=sys.stderr)
        for rec in summary.failed_units:
            print(f"  {rec['unit_id']}: {rec['error'].splitlines()[0]}", file=sys.stderr)
    if summary.failed_datasets or summary.failed_units:
        print("rerun the same command to retry (finished units are kept)", file=sys.stderr)
        return 1
    return 0


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _cmd_report(args: argparse.Namespace) -> int:
    from gpbench.boards.report import write_report

    if not holds_results(args.run_dir):
        raise GpbenchError(f"{args.run_dir} holds no results; pass the --out "
                           "directory of a `gpbench run`")
    path = write_report(args.run_dir, args.output)
    print(f"report: {path}", file=sys.stderr)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from gpbench.boards.status import render_costs, render_status, run_status
    from gpbench.plugins import load_registry

    # costs need no staleness check, which recomputes every record's key
    registry = None if args.costs else load_registry()
    statuses, skipped = [], []
    for run_dir in args.run_dir:
        try:
            statuses.append(run_status(run_dir, registry))
        except GpbenchError as exc:  # e.g. the cross board's directory in runs/*/
            if len(args.run_dir) == 1:
                raise
            skipped.append(str(exc))
    if not statuses:
        raise GpbenchError("none of these is a run directory; pass the --out directories of "
                           "`gpbench run`")
    print((render_costs if args.costs else render_status)(statuses), end="")
    if args.prune:
        from gpbench.boards.publish import write_leaderboard
        from gpbench.boards.status import prune_strays

        for status in statuses:
            if status.stray:
                kept = prune_strays(status.run_dir)
                board = Path(status.run_dir) / "leaderboard.md"
                if board.exists():  # its footnote counted the dropped records
                    write_leaderboard(status.run_dir, board)
                print(f"gpbench: {status.run_dir}: dropped {status.stray} record(s) of "
                      f"unlisted units; {kept} kept", file=sys.stderr)
    for why in skipped:
        print(f"gpbench: skipped: {why}", file=sys.stderr)
    complete = all(m.complete for s in statuses for m in s.models)
    return 1 if args.check and not complete else 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from gpbench.plugins import load_registry
    from gpbench.running.compare import compare
    from gpbench.running.executors import InlineExecutor, LocalExecutor
    from gpbench.running.plan import default_cache_dir
    from gpbench.running.units import Environment

    registry = load_registry()
    executor = (InlineExecutor() if args.executor == "inline"
                else LocalExecutor(args.jobs or _usable_cores(), None))
    runs, cross = compare(args.board, args.models, args.out, registry, _data_dir(args),
                          args.cache_dir or default_cache_dir(), executor=executor,
                          env=Environment(registry=registry))
    for run_dir in runs:
        print(f"leaderboard: {run_dir / 'leaderboard.md'}", file=sys.stderr)
    if cross is not None:
        print(f"leaderboard across datasets: {cross}", file=sys.stderr)
    print(f"website: gpbench site {args.out}/*/ -o {args.out / 'site'}", file=sys.stderr)
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from gpbench.plugins import load_registry
    from gpbench.running.migrate import migrate

    registry = load_registry()
    for run_dir in args.run_dir:
        n, listed = migrate(run_dir, registry)
        print(f"{run_dir}: {n} record(s) packed into results.parquet ({listed} units listed)")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from gpbench.running.verify import render_verify, verify_run

    if args.sample < 1 and not args.all:
        raise GpbenchError("--sample must be at least 1 (or use --all)")
    if args.threads < 1:
        raise GpbenchError(f"--threads must be at least 1, got {args.threads}")
    result = verify_run(args.run_dir, models=args.models,
                        sample=None if args.all else args.sample, seed=args.seed,
                        data_dir=_data_dir(args), cache_dir=args.cache_dir, jobs=args.jobs,
                        threads=args.threads)
    print(render_verify(result, args.tolerance), end="")
    if not result.checks:
        print("gpbench: nothing to verify: no stored record matches a unit this gpbench "
              "plans (see above)", file=sys.stderr)
        return 1
    agree = all(c.agrees(args.tolerance) for c in result.checks)
    return 0 if agree and not result.untrusted else 1


COMMANDS = {"run": _cmd_run, "predict": _cmd_predict, "list": _cmd_list, "plugins": _cmd_plugins,
            "leaderboard": _cmd_leaderboard, "report": _cmd_report, "status": _cmd_status,
            "verify": _cmd_verify, "migrate": _cmd_migrate, "site": _cmd_site,
            "compare": _cmd_compare}


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwind like Ctrl-C: finished units are already on disk


class _StderrHandler(logging.Handler):
    """Log lines of gpbench and its plugins (loggers ``gpbench.*``) on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr, flush=True)


def _setup_logging() -> None:
    log = logging.getLogger("gpbench")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("gpbench: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        # printed here once; bed-reader's logging.info() call gives the root logger a handler
        # of its own (logging.basicConfig), which would print every line a second time
        log.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    import signal

    from gpbench.running.threads import passive_openmp

    passive_openmp()  # before any plugin loads OpenMP (LightGBM, torch)
    _setup_logging()
    if threading_is_main():
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except GpbenchError as exc:
        print(f"gpbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gpbench: interrupted; finished units are saved, rerun the same command to "
              "resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
