"""Plan and execute a benchmark run: the glue between the CLI and the runner.

``plan_run`` resolves names, loads the dataset, makes and saves the outer folds and lists the
units; ``execute`` runs the units that are not finished yet (resume), writes each record as it
arrives, and renders the leaderboard.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gpbench.api.errors import DataError, GpbenchError, UnknownNameError
from gpbench.api.types import DataConfig, Dataset, ModelContext, ModelSpec
from gpbench.plugins import Registry, code_sha256
from gpbench.running.design import design_inputs, design_key
from gpbench.running.executors import Executor, LocalExecutor
from gpbench.running.protocol import (
    RANDOM,
    FoldPlan,
    cv_scheme,
    group_labels,
    make_folds,
    make_group_folds,
    published_fold_plan,
)
from gpbench.running.runconfig import check_compatible, merge, merge_units
from gpbench.running.units import Environment, TuneConfig, Unit, uses_of
from gpbench.storage.atomic import atomic_write_json
from gpbench.storage.records import ResultStore


def default_cache_dir() -> Path:
    env = os.environ.get("GPBENCH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gpbench"


@dataclass
class RunConfig:
    """What ``gpbench run`` was asked to do."""

    models: list[str]
    dataset: str | None = None  # None: the registry's default dataset (role "default")
    traits: list[str] | None = None  # None: every trait of the dataset
    k: int = 5
    seed: int = 0
    repeats: int = 1
    out: Path | None = None
    data_dir: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    dataset_options: dict[str, str] = field(default_factory=dict)
    model_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    tune: TuneConfig | None = None
    jobs: int = 1
    unit_timeout: float | None = None
    n_threads: int | None = None
    device: str = "auto"
    inner_fraction: float = 0.2
    published_folds: bool = False  # --folds published: the dataset's own fold assignment
    keep_history: bool = False  # --keep-history: store models' training histories
    maf: float = 0.01
    min_call_rate: float = 0.5
    # --cv: "random" (samples shuffled into folds) or "group:COLUMN" (whole groups per fold)
    cv: str = RANDOM
    # design effects (gpbench.running.design): "auto" uses what the dataset declares; "none"
    # reproduces the v1 protocol; --covariates may also name a covariate file
    covariates: str = "auto"
    trials: str = "auto"
    # --train-fraction: each unit is also fitted on these shares of its training fold (nested
    # subsets, the same test fold): a learning curve; (1.0,) is the whole fold only
    train_fractions: tuple[float, ...] = (1.0,)

    def run_dir(self) -> Path:
        if self.out is not None:
            return Path(self.out)
        if self.published_folds:
            return Path("runs") / f"{self.dataset}-published-folds"
        return Path("runs") / f"{self.dataset}-{self.fold_stem()}"

    def fold_stem(self) -> str:
        """``k5-seed0-rep1``, with ``-group-COLUMN`` for grouped CV: names the run directory
        and the fold file."""
        stem = f"k{self.k}-seed{self.seed}-rep{self.repeats}"
        if self.cv == RANDOM:
            return stem
        return stem + "-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in self.cv)


@dataclass
class Plan:
    config: RunConfig
    dataset: Dataset
    folds: FoldPlan
    fold_file: Path
    units: list[Unit]
    store: ResultStore
    references: tuple[dict[str, Any], ...] = ()
    run_config: dict[str, Any] = field(default_factory=dict)
    dataset_plugin: dict[str, Any] = field(default_factory=dict)


def resolve_traits(requested: list[str] | None, available: list[str]) -> list[str]:
    """Match trait names case-insensitively; unknown names raise with suggestions."""
    if requested is None:
        return list(available)
    if not requested:
        raise DataError("the trait list is empty; name at least one trait with --envs")
    folded = {a.lower(): a for a in available}
    out = []
    for name in requested:
        match = folded.get(name.strip().lower())
        if match is None:
            raise UnknownNameError("trait", name.strip(), available)
        if match not in out:
            out.append(match)
    return out


def check_same_data(run_dir: Path, ds: Dataset) -> None:
    """Refuse to resume in ``run_dir`` when its earlier run used other data (changed files)."""
    import json

    try:
        before = json.loads((run_dir / "run.json").read_text()).get("dataset", {})
    except (OSError, ValueError):
        return  # a new run directory (or no readable record of the old one)
    old = before.get("checksum")
    if old and old != ds.checksum:
        raise DataError(f"{run_dir} holds results of dataset {before.get('name')!r} with "
                        f"checksum {old[:12]}, but the data now have checksum "
                        f"{ds.checksum[:12]} (changed input files?); use a new --out "
                        "directory, or restore the original files to resume")


def check_numbers(config: RunConfig) -> None:
    """Out-of-range numbers of a run configuration, each a one-line error."""
    checks = [
        (config.published_folds or config.k >= 2, f"--folds must be at least 2, got {config.k}"),
        (not config.published_folds or config.repeats == 1,
         "--folds published is one fixed assignment; drop --repeats"),
        (not config.published_folds or config.cv == RANDOM,
         "--folds published is one fixed assignment; drop --cv"),
        (config.repeats >= 1, f"--repeats must be at least 1, got {config.repeats}"),
        (config.seed >= 0, f"--seed must be 0 or more, got {config.seed}"),
        (config.jobs >= 1, f"--jobs must be at least 1, got {config.jobs}"),
        (config.unit_timeout is None or config.unit_timeout > 0,
         f"--unit-timeout must be positive, got {config.unit_timeout}"),
        (config.n_threads is None or config.n_threads >= 1,
         f"--threads must be at least 1, got {config.n_threads}"),
        (0.0 <= config.maf <= 0.5, f"--maf must lie in [0, 0.5], got {config.maf}"),
        (0.0 <= config.min_call_rate <= 1.0,
         f"--min-call-rate must lie in [0, 1], got {config.min_call_rate}"),
        (0.0 < config.inner_fraction < 1.0,
         f"the inner validation fraction must lie in (0, 1), got {config.inner_fraction}"),
        (all(0.0 < f <= 1.0 for f in config.train_fractions) and config.train_fractions,
         "--train-fraction takes shares in (0, 1], e.g. 0.1,0.2,0.4,0.7,1.0; got "
         f"{','.join(f'{f:g}' for f in config.train_fractions) or 'none'}"),
        (len(set(config.train_fractions)) == len(config.train_fractions),
         "--train-fraction names a share twice; list each once"),
        (config.tune is None or config.tune.n_trials >= 0,
         f"--tune must be 0 or more, got {config.tune.n_trials if config.tune else 0}"),
        (config.tune is None or config.tune.jobs >= 1,
         f"--tune-jobs must be at least 1, got {config.tune.jobs if config.tune else 1}"),
    ]
    for ok, message in checks:
        if not ok:
            raise GpbenchError(message)


def check_writable(run_dir: Path) -> None:
    """Create ``run_dir`` and write a probe file in it, or raise naming the directory."""
    import tempfile

    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=run_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise GpbenchError(f"cannot write to run directory {run_dir} "
                           f"({exc.strerror or exc}); choose another --out") from exc


def check_test_folds(ds: Dataset, traits: list[str], folds: FoldPlan) -> None:
    """Every test fold must hold at least 2 measured samples of every trait (a score needs 2)."""
    for t in traits:
        measured = ds.traits[t].notna().to_numpy()
        for repeat in range(folds.repeats):
            for fold in range(folds.k):
                n = int((measured & folds.test_mask(repeat, fold)).sum())
                if n < 2:
                    raise DataError(f"with --folds {folds.k}, test fold {fold} (repeat "
                                    f"{repeat}) holds {n} measured sample(s) of trait {t!r}; "
                                    "at least 2 are needed: use fewer --folds or drop the "
                                    "trait")


def _check_option_targets(config: RunConfig, registry: Registry) -> None:
    for name in config.model_options:
        if name not in registry.names("model"):
            raise UnknownNameError("model", name, registry.names("model"))
        if name not in config.models:
            raise GpbenchError(f"--model-option names model {name!r}, which is not in --models "
                               f"({', '.join(config.models)}); add it or drop the option")
    spec = registry.dataset(config.dataset)
    try:
        spec.check_options(config.dataset_options)
    except ValueError as exc:
        raise GpbenchError(f"--dataset-option: {exc}") from exc


def resolve_device_kind(device: str, needed: bool) -> str | None:
    """"cpu" or "cuda" for ``--device`` (auto: cuda when torch sees a GPU); None when no model
    of the run can use a device (``needed`` False), so the device does not matter."""
    kind = (device or "auto").lower().split(":")[0]
    if kind != "auto":
        return kind
    if not needed:
        return None
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def plan_run(config: RunConfig, registry: Registry) -> Plan:
    """:func:`_plan_run`; a refused run leaves no run directory behind that it created."""
    if config.dataset is None:
        config.dataset = registry.dataset_with_role("default")
    run_dir = config.run_dir()
    top = None  # the outermost directory of run_dir's path that does not exist yet
    path = run_dir
    while not path.exists() and path != path.parent:
        top, path = path, path.parent
    try:
        return _plan_run(config, registry)
    except BaseException:
        if top is not None:
            _remove_new_run_dir(run_dir, top)
        raise


def _remove_new_run_dir(run_dir: Path, top: Path) -> None:
    """Remove the fold file a refused plan wrote into the new ``run_dir``, then ``run_dir`` and
    its parents up to ``top`` while they are empty (anything else in them is kept)."""
    folds = run_dir / "folds"
    for f in folds.glob("*.csv") if folds.is_dir() else ():
        f.unlink(missing_ok=True)
    path = folds if folds.is_dir() else run_dir
    while True:
        try:
            path.rmdir()
        except OSError:
            return
        if path == top or path == path.parent:
            return
        path = path.parent


def _plan_run(config: RunConfig, registry: Registry) -> Plan:
    """Check the configuration (before any data are loaded), resolve names and options, load
    the dataset, check the run directory's configuration, save the folds and list the units
    (nothing runs)."""
    config.cv = cv_scheme(config.cv)
    check_numbers(config)
    specs = [registry.model(m) for m in config.models]  # unknown names fail before loading data
    if not specs:
        raise GpbenchError("no models given; name at least one with --models")
    _check_option_targets(config, registry)
    for spec in specs:  # unknown options fail before the data are loaded or any unit runs
        try:
            spec.check_options(config.model_options.get(spec.name, {}))
        except ValueError as exc:
            raise GpbenchError(str(exc)) from exc
    if config.tune is not None and config.tune.n_trials > 0:
        registry.metric(config.tune.metric)  # an unknown --tune-metric fails before any work
    run_dir = config.run_dir()
    check_writable(run_dir)
    data_config = DataConfig(config.cache_dir, config.data_dir, dict(config.dataset_options))
    ds = registry.dataset(config.dataset).load(data_config)
    requested = config.traits
    if requested is None:  # the dataset's documented default traits, else all of them
        requested = list(registry.dataset(config.dataset).default_traits) or None
    traits = resolve_traits(requested, ds.trait_names)
    if config.published_folds:
        folds = published_fold_plan(ds)
        config.k = folds.k
    elif config.cv != RANDOM:
        folds = make_group_folds(group_labels(ds, config.cv), config.k, config.seed,
                                 config.repeats, config.cv)
    else:
        folds = make_folds(ds.sample_ids, config.k, config.seed, config.repeats)
    if not traits:
        raise DataError(f"dataset {ds.name!r} has no traits to benchmark (for your own files, "
                        "give the phenotypes with --pheno FILE)")
    for t in traits:
        n = int(ds.traits[t].notna().sum())
        if n < 2 * config.k:
            raise DataError(f"trait {t!r} has only {n} measured samples, too few for "
                            f"{config.k}-fold CV; use fewer --folds or drop the trait")
    check_same_data(run_dir, ds)
    store = ResultStore(run_dir, keep_history=config.keep_history)
    check_test_folds(ds, traits, folds)
    covariates, records = design_inputs(ds, config.covariates, config.trials)
    covariates_setting = (config.covariates if config.covariates in ("auto", "none")
                          else str(Path(config.covariates).resolve()))
    design = design_key(covariates, records, traits)
    device_kind = resolve_device_kind(config.device, any(s.accelerator for s in specs))
    run_config = {
        "dataset": ds.name, "dataset_options": dict(sorted(config.dataset_options.items())),
        "dataset_checksum": ds.checksum, "traits": list(traits), "k": config.k,
        "seed": config.seed, "repeats": config.repeats, "inner_fraction": config.inner_fraction,
        "published_folds": config.published_folds,
        "tune": _tune_config(config.tune), "device": config.device, "device_kind": device_kind,
        "maf": config.maf, "min_call_rate": config.min_call_rate,
        "fold_sha256": folds.sha256, "models": [s.name for s in specs],
        "model_options": {s.name: dict(config.model_options[s.name]) for s in specs
                          if config.model_options.get(s.name)}}
    if config.cv != RANDOM:  # absent otherwise: older run.json match
        run_config["cv"] = config.cv
    # recorded only when not neutral, so run directories of the v1 protocol stay compatible
    run_config.update({k: v for k, v in (("design", design), ("covariates", config.covariates
                       if config.covariates != "auto" else None), ("trials", config.trials
                       if config.trials != "auto" else None)) if v})
    if tuple(config.train_fractions) != (1.0,):  # absent otherwise: older run.json match
        run_config["train_fractions"] = sorted(config.train_fractions)
    check_compatible(run_dir, run_config)  # before anything is written into run_dir
    fold_name = (f"{ds.name}-published-k{config.k}.csv" if config.published_folds
                 else f"{ds.name}-{config.fold_stem()}.csv")
    fold_file = run_dir / "folds" / fold_name
    if fold_file.exists():
        saved = FoldPlan.load(fold_file, config.k, config.seed)
        if saved.sha256 != folds.sha256:
            raise GpbenchError(f"{fold_file} differs from the folds this run would use (the "
                               "dataset changed?); use a new --out directory")
    else:
        folds.save(fold_file)
    n_threads = config.n_threads or max(1, (os.cpu_count() or 1) // max(1, config.jobs))
    units = []
    for spec in specs:
        entry = registry.entry("model", spec.name)
        kind = (device_kind or "cpu") if spec.accelerator else "cpu"
        context = ModelContext(seed=config.seed, markers=ds.markers, n_threads=n_threads,
                               device=kind)
        try:
            options = spec.effective_options(config.model_options.get(spec.name, {}), context)
        except (ValueError, TypeError) as exc:
            raise GpbenchError(f"model {spec.name!r} of {entry.plugin.describe()}: {exc}") \
                from exc
        plugin = _provenance(registry, spec)
        uses = uses_of(registry, spec, options, context)
        dataset_version = registry.dataset(config.dataset).version
        groups = [tuple(traits)] if spec.multi_trait else [(t,) for t in traits]
        for fraction in sorted(config.train_fractions, reverse=True):
            for repeat in range(config.repeats):
                for fold in range(config.k):
                    for group in groups:
                        units.append(Unit(
                            dataset=ds.name, data_config=data_config,
                            dataset_checksum=ds.checksum, model=spec.name,
                            options=dict(options), traits=group, repeat=repeat, fold=fold,
                            k=config.k, seed=config.seed, fold_file=str(fold_file),
                            fold_sha256=folds.sha256, tune=config.tune, n_threads=n_threads,
                            device=kind if spec.accelerator else config.device,
                            inner_fraction=config.inner_fraction, device_kind=kind,
                            plugin=plugin, maf=config.maf, min_call_rate=config.min_call_rate,
                            model_version=spec.version, uses=uses,
                            dataset_version=dataset_version, train_fraction=float(fraction),
                            design=design_key(covariates, records, group),
                            covariates=covariates_setting, trials=config.trials,
                            cv=config.cv))
    refs = tuple(r for r in registry.dataset(config.dataset).references
                 if r.get("trait") in traits)
    info = registry.entry("dataset", config.dataset).plugin
    dataset_plugin = {"name": info.name, "distribution": info.distribution,
                      "version": info.version}
    return Plan(config, ds, folds, fold_file, units, store, refs, run_config, dataset_plugin)


def _provenance(registry: Registry, spec: ModelSpec) -> dict[str, Any]:
    """Where a model's code came from: its plugin's name, distribution, version and source
    hash. Recorded with each result for information; never part of its key."""
    entry = registry.entry("model", spec.name)
    return {"name": entry.plugin.name, "distribution": entry.plugin.distribution,
            "version": entry.plugin.version, "code_sha256": code_sha256(spec.factory)}


def _tune_config(tune: TuneConfig | None) -> dict[str, Any] | None:
    """The tuning settings that change results (not the storage's location)."""
    if tune is None or tune.n_trials <= 0:
        return None
    return {"n_trials": tune.n_trials, "metric": tune.metric, "timeout_s": tune.timeout_s,
            "jobs": tune.jobs}


@dataclass
class RunSummary:
    run_dir: Path
    done: int
    skipped: int
    failed: list[dict[str, Any]]
    leaderboard: Path | None


def _progress(pending: list[Unit], stream: Any) -> Callable[[Unit, dict[str, Any]], None]:
    """A progress line per finished unit. The time to go weighs each unit left by its model's
    mean unit time so far (the overall mean for a model with none done yet), scaled by the
    run's parallelism (wall time per unit-second so far): a transformer left costs more than
    a ridge left."""
    import math
    from collections import Counter

    total = len(pending)
    left = Counter(u.model for u in pending)
    spent: dict[str, list[float]] = {}
    state = {"n": 0, "t0": time.perf_counter(), "busy": 0.0}

    def show(unit: Unit, record: dict[str, Any]) -> None:
        state["n"] += 1
        n = state["n"]
        left[unit.model] -= 1
        secs = float(record.get("elapsed_s") or 0.0)
        secs = secs if math.isfinite(secs) else 0.0
        spent.setdefault(unit.model, []).append(secs)
        state["busy"] += secs
        elapsed = time.perf_counter() - state["t0"]
        if state["busy"] > 0:
            overall = state["busy"] / n
            cost = sum(k * (sum(spent[m]) / len(spent[m]) if m in spent else overall)
                       for m, k in left.items() if k > 0)
            eta = cost * elapsed / state["busy"]
        else:
            eta = elapsed / n * (total - n)
        if record["status"] == "ok":
            scores = "  ".join(f"{t}: r2={m.get('r2', float('nan')):.3f}"
                               for t, m in list(record["metrics"].items())[:3])
            scores += "".join(f"  [{t}: {text}]" for t, text in _dropped_test_records(record))
        else:
            scores = f"FAILED: {record['error'].splitlines()[0][:160]}"
        print(f"[{n:>{len(str(total))}}/{total}] {unit.label()}  {scores}  "
              f"({record['elapsed_s']:.1f}s, {total - n} left, ~{eta:.0f}s to go)",
              file=stream, flush=True)

    return show


def _dropped_test_records(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(trait, note) where the trial adjustment dropped over half of a unit's test records:
    their trials had no training record (e.g. trials nested in the groups of ``--cv group:``),
    so few test individuals are scored."""
    trials = (record.get("design_fit") or {}).get("trials") or {}
    return [(t, f"trial adjustment dropped {i['test_records_dropped']:,} of "
                f"{i['test_records']:,} test records (their trials have no training record; "
                "see docs/protocol.md, grouped CV)")
            for t, i in trials.items()
            if i.get("test_records") and i.get("test_records_dropped", 0) > i["test_records"] / 2]


def machine_description() -> str:
    import platform

    text = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"
    try:
        import torch

        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


def git_commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=Path(__file__).parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def execute(plan: Plan, executor: Executor | None = None, env: Environment | None = None,
            stream: Any = None, meta: dict[str, Any] | None = None) -> RunSummary:
    """Run every unfinished unit of ``plan``; finished units (same config) are skipped.

    ``meta`` (e.g. the command line) is stored in run.json for the leaderboard header.
    """
    from gpbench.boards.publish import write_leaderboard

    stream = stream or sys.stderr
    store = plan.store
    with store.lock():
        # checked again under the lock: another command may have written run.json meanwhile
        previous = check_compatible(store.run_dir, plan.run_config) or {}
        new_units: dict[str, list[str]] = {}
        for u in plan.units:
            new_units.setdefault(u.model, []).append(u.unit_id)
        units = merge_units(previous.get("units_by_model"), new_units)
        run_config = merge(previous.get("run_config") or {}, plan.run_config)
        atomic_write_json(store.run_dir / "run.json", {
            "run_config": run_config,
            "config": {k: v for k, v in asdict(plan.config).items()},
            "dataset": {"name": plan.dataset.name, "version": plan.dataset.version,
                        "checksum": plan.dataset.checksum, "citation": plan.dataset.citation,
                        "plugin": plan.dataset_plugin},
            "references": list(plan.references),
            "fold_file": plan.fold_file.name, "fold_sha256": plan.folds.sha256,
            "units_by_model": units,
            "units": [uid for model in run_config["models"] for uid in units.get(model, [])],
            "git_commit": git_commit(), "machine": machine_description(), **(meta or {})})
        done = store.done_ids()
        pending = [u for u in plan.units if u.unit_id not in done]
        skipped = len(plan.units) - len(pending)
        if skipped:
            print(f"resuming: {skipped} of {len(plan.units)} units already done in "
                  f"{store.run_dir}", file=stream, flush=True)
        failed: list[dict[str, Any]] = []
        show = _progress(pending, stream)

        def on_result(unit: Unit, record: dict[str, Any]) -> None:
            store.write(record)
            if record["status"] != "ok":
                failed.append(record)
            show(unit, record)

        executor = executor or LocalExecutor(plan.config.jobs, plan.config.unit_timeout)
        executor.run(pending, on_result, env or Environment())
        store.pack()  # one compact file; a killed run resumes from the journal instead
        board = write_leaderboard(store.run_dir)
    return RunSummary(store.run_dir, len(pending) - len(failed), skipped, failed, board)

