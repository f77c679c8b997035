"""What a unit of work is: its key, its model seed, and the per-process environment.

A unit is (dataset, model, options, traits, repeat, fold, tuning): everything needed to
reproduce one fitted model and its test-fold scores. Its key hashes the declared versions of
the protocol, the model and the dataset together with the options, data checksum and folds,
never plugin source, so results evolve by version bumps, not by edits.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from gpbench.api.types import DataConfig, Dataset, ModelContext, ModelSpec
from gpbench.plugins import Registry, load_registry

# Bumped when the host changes what a unit computes (preprocessing, splitting, fitting rows,
# scoring): every result keyed on an older protocol is then rerun.
PROTOCOL_VERSION = 1


def model_seed(seed: int, repeat: int = 0, fold: int = 0) -> int:
    """The seed of the model fitted in outer fold ``fold`` of repeat ``repeat`` of a run with
    fold seed ``seed`` (``gpbench predict`` fits on all rows: repeat 0, fold 0)."""
    return seed * 1000 + repeat * 100 + fold


def config_hash(config: Mapping[str, Any]) -> str:
    """sha256 of a unit's key (:meth:`Unit.config`), as stored in its record."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def unit_id(model: str, traits: Sequence[str], repeat: int, fold: int, key_hash: str) -> str:
    """A unit's file-safe id: model, trait(s), repeat and fold, and its key's first 12 hex."""
    what = traits[0] if len(traits) == 1 else f"{len(traits)}traits"

    def safe(text: str) -> str:  # a file name: no separators, nothing hidden
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).lstrip(".")

    return f"{safe(model)}--{safe(what)}--r{repeat}f{fold}--{key_hash[:12]}"


def uses_of(registry: Registry, spec: ModelSpec, options: dict[str, Any],
          context: ModelContext, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The declared version and default options of every model ``spec`` builds
    (``uses_models``), recursively: a stack keys on its members' versions, so a bump of a
    member reruns the stack."""
    if spec.uses_models is None:
        return {}
    used = {}
    for name in sorted(set(spec.uses_models(options)) & set(registry.names("model"))):
        if name == spec.name or name in seen:
            continue
        base = registry.model(name)
        base_options = base.effective_options({}, context)
        used[name] = {"version": base.version, "options": base_options,
                      "uses": uses_of(registry, base, base_options, context,
                                    seen | {spec.name})}
    return used


# what keys a unit's result, besides the protocol's version (see :meth:`Unit.config`)
KEY_FIELDS = ("dataset", "dataset_version", "dataset_checksum", "dataset_options", "model",
              "model_version", "options", "uses", "traits", "repeat", "fold", "k", "seed",
              "fold_sha256", "tune", "inner_fraction", "maf", "min_call_rate", "device_kind")
# what keys a unit only where it differs from its default, so that units planned before the
# field existed keep their keys
OPTIONAL_KEY_FIELDS: dict[str, Any] = {"cv": "random", "train_fraction": 1.0}


def unit_key(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A unit's key: the protocol's version and ``fields`` (:data:`KEY_FIELDS`), mappings as
    plain sorted dicts and traits as a list, so a planned unit and a stored record that
    describe the same result give the same key. ``fields["design"]`` (covariates and trial
    adjustment, :func:`gpbench.running.design.design_key`) joins the key only when it is not
    empty, so units without design effects keep the keys they had before it existed."""
    key = {"protocol_version": PROTOCOL_VERSION, **{f: fields[f] for f in KEY_FIELDS}}
    for name, default in OPTIONAL_KEY_FIELDS.items():
        value = fields.get(name)
        if value is not None and value != default:
            key[name] = value
    for name in ("dataset_options", "options"):
        key[name] = dict(sorted((key[name] or {}).items()))
    key["uses"] = {k: dict(v) for k, v in sorted((key["uses"] or {}).items())}
    key["traits"] = list(key["traits"])
    if fields.get("design"):
        key["design"] = dict(sorted(fields["design"].items()))
    return key


def record_key(rec: Mapping[str, Any], registry: Registry,
               options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The key the current code gives the unit a stored record describes: the record's data,
    folds and settings with today's protocol, model and dataset versions, the built models'
    versions, and ``options`` (default: the record's own). Equal to the record's key exactly
    when nothing that keys it has changed since it was computed."""
    spec = registry.model(rec["model"])
    context = ModelContext(seed=rec.get("seed", 0), device=rec.get("device_kind", "cpu"))
    options = dict(rec["options"] if options is None else options)
    return unit_key({**{f: rec.get(f) for f in (*KEY_FIELDS, *OPTIONAL_KEY_FIELDS)},
                     "design": rec.get("design"),
                     "dataset_version": registry.dataset(rec["dataset"]).version,
                     "model_version": spec.version, "options": options,
                     "uses": uses_of(registry, spec, options, context)})


@dataclass(frozen=True)
class TuneConfig:
    """Nested tuning inside each outer training fold (see :mod:`gpbench.running.tuning`)."""

    n_trials: int
    storage: str | None = None
    metric: str = "r2"  # the leaderboard's metric; --tune-metric changes it
    timeout_s: float | None = None
    jobs: int = 1  # processes sharing one study through the storage


@dataclass(frozen=True)
class Unit:
    """One model fitted on one outer training fold and scored on its test fold."""

    dataset: str
    data_config: DataConfig
    dataset_checksum: str
    model: str
    options: Mapping[str, Any]
    traits: tuple[str, ...]
    repeat: int
    fold: int
    k: int
    seed: int
    fold_file: str
    fold_sha256: str
    tune: TuneConfig | None = None
    n_threads: int = 1
    device: str = "auto"
    inner_fraction: float = 0.2
    maf: float = 0.01  # marker QC on the training fold (gpbench.data.preprocess)
    min_call_rate: float = 0.5
    # the outer CV scheme (--cv): "random", or "group:COLUMN" (whole groups per fold)
    cv: str = "random"
    # share of the training fold fitted on (--train-fraction): a nested subset, see
    # gpbench.running.protocol.training_subset_mask; 1.0 is the whole fold
    train_fraction: float = 1.0
    extra: Mapping[str, Any] = field(default_factory=dict)
    device_kind: str = "cpu"  # the resolved device, "cpu" or "cuda"
    # declared versions that key the result: the model's, and for a model that builds others
    # (a stack) each built model's version and default options
    model_version: str = "1"
    uses: Mapping[str, Any] = field(default_factory=dict)
    dataset_version: str = "1"
    # where the code came from (plugin name, distribution, version, source sha256): recorded
    # with the result as provenance, never part of its key
    plugin: Mapping[str, Any] = field(default_factory=dict)
    # design effects estimated on the training fold (gpbench.running.design.design_key); empty:
    # none (the v1 protocol). The covariates come from the dataset, or from ``covariates_file``
    # (--covariates FILE, checked against the sha256 in ``design``), or are off
    design: Mapping[str, Any] = field(default_factory=dict)
    covariates: str = "auto"  # "auto" (the dataset's), "none" or a file's path
    trials: str = "auto"  # "auto" (the dataset's trial records) or "none"

    def config(self) -> dict[str, Any]:
        """Everything that determines the result: the protocol's version, the model's and
        dataset's declared versions, the resolved options, device kind, data and folds.
        Paths, thread counts and the plugins' source hashes are not part of it, so a refactor
        or a comment re-keys nothing; a change of results is declared by bumping a version."""
        tune = None
        if self.tune:  # where the study is stored does not change the result
            tune = {k: v for k, v in asdict(self.tune).items() if k != "storage"}
        fields = {f: getattr(self, f) for f in (*KEY_FIELDS, *OPTIONAL_KEY_FIELDS)
                  if f != "dataset_options"}
        return unit_key({**fields, "dataset_options": self.data_config.options, "tune": tune,
                         "design": self.design})

    @property
    def model_seed(self) -> int:
        """The seed a model is built with in this unit (see :func:`model_seed`)."""
        return model_seed(self.seed, self.repeat, self.fold)

    @property
    def config_hash(self) -> str:
        return config_hash(self.config())

    @property
    def unit_id(self) -> str:
        return unit_id(self.model, self.traits, self.repeat, self.fold, self.config_hash)

    def label(self) -> str:
        what = self.traits[0] if len(self.traits) == 1 else f"{len(self.traits)} traits"
        size = f" at {self.train_fraction:g} of its training fold" \
            if self.train_fraction < 1.0 else ""
        return f"{self.model} {what} repeat {self.repeat} fold {self.fold}{size}"


# ------------------------------------------------------------------ per-process environment


@functools.lru_cache(maxsize=4)
def _registry(extra_plugins: tuple[str, ...], load_entrypoints: bool) -> Registry:
    import importlib

    extra = [(name, importlib.import_module(name)) for name in extra_plugins]
    return load_registry(extra, load_entrypoints=load_entrypoints)


class _FrozenDict(dict):
    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


@functools.lru_cache(maxsize=4)
def _dataset(registry: Registry, name: str, config: DataConfig) -> Dataset:
    return registry.dataset(name).load(config)


@dataclass(frozen=True)
class Environment:
    """How a process finds plugins: entry points and/or importable plugin modules.

    It is small and picklable so that worker processes and cluster workers rebuild the same
    registry; registries and loaded datasets are cached per process.
    """

    extra_plugins: tuple[str, ...] = ()
    load_entrypoints: bool = True
    # a registry already built in this process (not sent to other processes)
    registry: Registry | None = field(default=None, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        origin = getattr(self.registry, "origin", None)
        if origin is not None:  # workers rebuild the registry this process was given
            return {"extra_plugins": origin[0], "load_entrypoints": origin[1]}
        return {"extra_plugins": self.extra_plugins, "load_entrypoints": self.load_entrypoints}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in {**state, "registry": None}.items():
            object.__setattr__(self, key, value)

    def get_registry(self) -> Registry:
        if self.registry is not None:
            return self.registry
        return _registry(tuple(self.extra_plugins), self.load_entrypoints)

    def get_dataset(self, unit: Unit) -> Dataset:
        # lru_cache needs a hashable key; options arrive as a dict
        config = DataConfig(unit.data_config.cache_dir, unit.data_config.data_dir,
                            _FrozenDict(unit.data_config.options))
        return _dataset(self.get_registry(), unit.dataset, config)
