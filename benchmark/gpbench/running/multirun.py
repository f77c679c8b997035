"""A run over several datasets: one run directory per dataset, then the cross-dataset board.

Each dataset gets its own ``plan_run``/``execute`` (its own folds, resume and leaderboard);
a dataset that cannot be loaded or planned is reported and the others still run. Traits are
chosen per dataset (see ``parse_traits``); without a choice a dataset's documented
``default_traits`` are used, else all its traits.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gpbench.api.errors import GpbenchError, UnknownNameError
from gpbench.api.types import DataConfig
from gpbench.plugins import Registry
from gpbench.running.executors import Executor
from gpbench.running.plan import RunConfig, RunSummary, execute, plan_run
from gpbench.running.units import Environment
from gpbench.storage.records import holds_results

ALL = "all"
CROSS_DIR = "cross"


def is_multi_dataset(text: str | None) -> bool:
    """Whether a ``--dataset`` value names several datasets (a list or ``all``)."""
    return text is not None and (text.strip().lower() == ALL or "," in text)


def dataset_list(text: str, available: Sequence[str],
                 collection: Sequence[str] | None = None) -> list[str]:
    """``wheat,rice`` -> those names; ``all`` -> the datasets of the collection (``collection``,
    default every registered one); ``-name`` drops one (``all,-mice``). Unknown names raise with
    suggestions."""
    chosen: list[str] = []
    drop: set[str] = set()
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        name = item[1:].strip() if item.startswith("-") else item
        if name.lower() == ALL:
            new = list(available if collection is None else collection)
        elif name in available:
            new = [name]
        else:
            raise UnknownNameError("dataset", name, available)
        if item.startswith("-"):
            drop.update(new)
        else:
            chosen += [n for n in new if n not in chosen]
    out = [n for n in chosen if n not in drop]
    if not out:
        raise GpbenchError(f"--dataset {text!r} selects no dataset")
    return out


@dataclass(frozen=True)
class TraitChoice:
    """``--envs`` over several datasets: ``wheat:1,2;rice:Plant.height`` and/or plain names.

    ``per_dataset`` maps a dataset to its traits; ``plain`` names apply to every other dataset
    that has them (case-insensitive).
    """

    per_dataset: dict[str, list[str]] = field(default_factory=dict)
    plain: list[str] = field(default_factory=list)


def parse_traits(text: str | None, datasets: Sequence[str]) -> TraitChoice:
    """Parse ``--envs`` for a multi-dataset run; groups are separated by ``;``."""
    if text is None:
        return TraitChoice()
    per: dict[str, list[str]] = {}
    plain: list[str] = []
    for group in (g.strip() for g in text.split(";")):
        if not group:
            continue
        head, sep, rest = group.partition(":")
        names = [s.strip() for s in (rest if sep else group).split(",") if s.strip()]
        if sep:
            ds = head.strip()
            if ds not in datasets:
                raise GpbenchError(f"--envs names dataset {ds!r}, which is not among the "
                                   f"datasets of this run ({', '.join(datasets)})")
            if not names:
                raise GpbenchError(f"--envs {ds}: names no trait; write {ds}:TRAIT[,TRAIT]")
            per.setdefault(ds, []).extend(n for n in names if n not in per.get(ds, []))
        else:
            plain += [n for n in names if n not in plain]
    if not per and not plain:
        raise GpbenchError("the trait list is empty; name at least one trait with --envs")
    return TraitChoice(per, plain)


def split_dataset_options(options: Mapping[str, str],
                          datasets: Sequence[str]) -> dict[str, dict[str, str]]:
    """``KEY=VALUE`` goes to every dataset, ``DATASET:KEY=VALUE`` to that dataset only."""
    out: dict[str, dict[str, str]] = {d: {} for d in datasets}
    for key, value in options.items():
        ds, sep, name = key.partition(":")
        if not sep:
            for d in datasets:
                out[d][key] = value
        elif ds in out:
            out[ds][name] = value
        else:
            raise GpbenchError(f"--dataset-option {key}={value}: {ds!r} is not among the "
                               f"datasets of this run ({', '.join(datasets)})")
    return out


@dataclass
class DatasetOutcome:
    """What happened to one dataset of a multi-dataset run."""

    dataset: str
    run_dir: Path | None = None
    summary: RunSummary | None = None
    error: str | None = None  # could not be loaded, planned or run
    skipped: str | None = None  # deliberately not run (none of the requested traits)


@dataclass
class MultiRunSummary:
    outcomes: list[DatasetOutcome]
    cross: Path | None  # the cross-dataset leaderboard.md, if any dataset has results

    @property
    def failed_datasets(self) -> list[DatasetOutcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def failed_units(self) -> list[dict[str, Any]]:
        return [rec for o in self.outcomes if o.summary for rec in o.summary.failed]


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, GpbenchError) else f"{type(exc).__name__}: {text}"


def _plain_matches(base: RunConfig, datasets: Sequence[str], choice: TraitChoice,
                   options: Mapping[str, dict[str, str]], registry: Registry,
                   outcomes: dict[str, DatasetOutcome]) -> dict[str, list[str]]:
    """The plain ``--envs`` names each dataset has (loads the datasets that need it)."""
    found: dict[str, list[str]] = {}
    every: set[str] = set()
    for ds in datasets:
        if ds in choice.per_dataset or outcomes[ds].error:
            continue
        try:
            data = registry.dataset(ds).load(DataConfig(base.cache_dir, base.data_dir,
                                                        dict(options[ds])))
        except Exception as exc:  # noqa: BLE001 - one dataset's failure must not stop the rest
            outcomes[ds].error = _message(exc)
            continue
        folded = {t.lower(): t for t in data.trait_names}
        every.update(data.trait_names)
        found[ds] = [folded[n.lower()] for n in choice.plain if n.lower() in folded]
    matched = {n.lower() for names in found.values() for n in names}
    for name in choice.plain:
        if name.lower() not in matched and found:
            raise UnknownNameError("trait", name, every)
    return found


def run_many(base: RunConfig, datasets: Sequence[str], traits: str | None,
             registry: Registry, *, out_base: Path | None = None,
             executor: Executor | None = None, env: Environment | None = None,
             stream: Any = None, meta: dict[str, Any] | None = None,
             report: bool = True) -> MultiRunSummary:
    """Run ``base`` (models, folds, seeds, ...) on each of ``datasets``, then the cross board.

    Run directories are ``out_base/<dataset>`` (default: each dataset's usual
    ``runs/<dataset>-kK-seedS-repR``); the cross-dataset board goes to ``out_base/cross``
    (default ``runs/cross``). ``traits`` is the raw ``--envs`` text (see ``parse_traits``).
    """
    from gpbench.boards.publish import write_cross_board

    stream = stream or sys.stderr
    for name in base.models:  # wrong names or options fail once, before any data are loaded
        try:
            registry.model(name).check_options(base.model_options.get(name, {}))
        except ValueError as exc:
            raise GpbenchError(str(exc)) from exc
    choice = parse_traits(traits, datasets)
    options = split_dataset_options(base.dataset_options, datasets)
    outcomes = {ds: DatasetOutcome(ds) for ds in datasets}
    plain = (_plain_matches(base, datasets, choice, options, registry, outcomes)
             if choice.plain else {})
    for i, ds in enumerate(datasets, 1):
        outcome = outcomes[ds]
        if outcome.error:
            print(f"gpbench: dataset {ds} ({i}/{len(datasets)}) failed: {outcome.error}",
                  file=stream, flush=True)
            continue
        if ds in choice.per_dataset:
            wanted: list[str] | None = choice.per_dataset[ds]
        elif choice.plain:
            wanted = plain.get(ds) or None
            if wanted is None:
                outcome.skipped = f"has none of the traits {', '.join(choice.plain)}"
                print(f"gpbench: dataset {ds} skipped: {outcome.skipped}", file=stream)
                continue
        else:
            wanted = list(getattr(registry.dataset(ds), "default_traits", ()) or ()) or None
        config = replace(base, dataset=ds, traits=wanted, dataset_options=options[ds],
                         out=(Path(out_base) / ds) if out_base is not None else None)
        try:
            plan = plan_run(config, registry)
            print(f"gpbench: dataset {ds} ({i}/{len(datasets)}): {len(plan.units)} units -> "
                  f"{plan.store.run_dir}", file=stream, flush=True)
            outcome.run_dir = plan.store.run_dir
            outcome.summary = execute(plan, executor=executor, env=env, stream=stream,
                                      meta=meta)
            del plan  # one dataset in memory at a time
            if report:
                from gpbench.boards.report import write_report

                write_report(outcome.run_dir)
        except Exception as exc:  # noqa: BLE001 - one dataset's failure must not stop the rest
            outcome.error = _message(exc)
            print(f"gpbench: dataset {ds} ({i}/{len(datasets)}) failed: {outcome.error}",
                  file=stream, flush=True)
    run_dirs = [o.run_dir for o in outcomes.values()
                if o.run_dir is not None and holds_results(o.run_dir)]
    cross = None
    if run_dirs:
        cross_dir = (Path(out_base) if out_base is not None else Path("runs")) / CROSS_DIR
        cross = write_cross_board(run_dirs, cross_dir)
    return MultiRunSummary(list(outcomes.values()), cross)
