"""The registry entries plugins hand to the host: datasets, models, metrics.

The host decides what an entry is; plugins only build them and call ``register``.
Nothing here knows about cross-validation, files or the runner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class Dataset:
    """Genotypes and phenotypes of one population, rows aligned by sample.

    Attributes:
        name: registry name, e.g. ``"yeast"``.
        genotypes: ``(n_samples, n_markers)`` array (any numeric dtype, usually 0/1 int8).
        traits: ``(n_samples, n_traits)`` frame indexed by sample id; NaN = not measured.
        markers: frame indexed by marker id with columns ``chrom`` and ``pos`` (NaN if unknown).
        version: a version string for the data (shown in reports).
        checksum: a digest of the underlying files (recorded with every result).
        citation: how to cite the data.
        coding: how genotypes are coded, e.g. ``"0/1 inbred"``, ``"0/1/2"``, ``"-1/0/1"``,
            ``"0-4 tetraploid dosage"`` (NaN = missing call); empty when not stated.
        published_folds: folds published with the data (index = sample id, value = fold number
            ``0..k-1``), or ``None``.
        groups: design groupings of the samples (index = sample id, one text column per
            grouping, e.g. ``family`` or ``cage``; None = unknown label), or ``None``.
            ``--cv group:COLUMN`` deals whole groups into folds.
        covariates: fixed effects recorded with the data (index = sample id, one column per
            covariate, numeric or categorical; NaN = unknown), or ``None``. The host estimates
            them on each training fold and adds them back to predictions
            (:mod:`gpbench.running.design`); they are never traits.
        trial_records: per-trial records (columns ``sample``, ``trial``, ``trait``,
            ``value``; a sample may be outside the dataset, e.g. a check variety), or
            ``None``. The host estimates trial effects on each training fold's records and
            adjusts the targets of the traits they cover.
        truth: the true genetic values where the data are simulated (same index as
            ``traits``, a column per trait it knows), or ``None``; boards score predictions
            against them too (:mod:`gpbench.boards.truth`). Never shown to a model.
    """

    name: str
    genotypes: np.ndarray
    traits: pd.DataFrame
    markers: pd.DataFrame
    version: str
    checksum: str
    citation: str = ""
    coding: str = ""
    published_folds: pd.Series | None = None
    groups: pd.DataFrame | None = None
    covariates: pd.DataFrame | None = None
    trial_records: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        n, p = self.genotypes.shape
        if len(self.traits) != n:
            raise ValueError(
                f"dataset {self.name!r}: {n} genotype rows but {len(self.traits)} phenotype rows"
            )
        if len(self.markers) != p:
            raise ValueError(
                f"dataset {self.name!r}: {p} genotype columns but {len(self.markers)} markers"
            )
        if self.traits.index.has_duplicates:
            dup = self.traits.index[self.traits.index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"dataset {self.name!r}: duplicate sample ids {dup}")
        if self.truth is not None and not self.truth.index.equals(self.traits.index):
            raise ValueError(f"dataset {self.name!r}: the true genetic values' samples differ "
                             "from the phenotypes'; index them by the same sample ids")

    @property
    def sample_ids(self) -> list[str]:
        return [str(s) for s in self.traits.index]

    @property
    def trait_names(self) -> list[str]:
        return [str(c) for c in self.traits.columns]


@dataclass(frozen=True)
class DataConfig:
    """Where a dataset loader finds or caches its files.

    ``data_dir`` is a user-provided directory holding the raw files (skip downloading);
    ``cache_dir`` is where downloads and converted forms are kept; ``options`` are
    dataset-specific settings from the command line (``--dataset-option key=value``).
    """

    cache_dir: Path
    data_dir: Path | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset a plugin offers; ``load`` is only called when the dataset is used.

    ``references`` are published figures shown on leaderboards as labelled reference rows
    (never as results): dicts with ``trait``, ``source``, ``what``, ``metric`` ("R2", or "r"
    for a Pearson correlation), ``value``, ``protocol`` (as published, e.g. "10-fold CV", or
    "unknown"), ``citation``, and optionally ``folds: "published"`` when the figure was
    obtained on the dataset's published folds (a ``--folds published`` run then says its rows
    share the folds). ``default_traits`` are the traits a run
    uses when none are named (empty: all traits). ``options`` are the ``--dataset-option``
    names the loader accepts, with their defaults (a dataset that declares none takes none).
    ``in_collection``: part of the public collection that ``--dataset all`` runs (real data
    with pinned files; not simulated data nor a user's own files). ``version``: bump it when
    a change to the loader changes the data a model sees (parsing, coding, filtering, fills):
    results keyed on the old version are then rerun (the files' checksum is keyed as well).
    """

    name: str
    load: Callable[[DataConfig], Dataset]
    description: str = ""
    citation: str = ""
    references: tuple[Mapping[str, Any], ...] = ()
    default_traits: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    in_collection: bool = False
    version: str = "1"
    # "default": the dataset `gpbench run` uses when none is named; "own-files": the dataset
    # that reads a user's --geno/--pheno files. The host knows datasets only by these roles.
    role: str = ""

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise ValueError naming an option this dataset does not declare (did you mean)."""
        import difflib

        for key in options:
            if key in self.options:
                continue
            close = difflib.get_close_matches(key, list(self.options), n=2, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            valid = ", ".join(sorted(self.options)) or "none"
            raise ValueError(f"dataset {self.name!r} has no option {key!r}.{hint} Its options: "
                             f"{valid}")


# --------------------------------------------------------------------------- models


@dataclass
class ModelContext:
    """What the host tells a model when it is built.

    Attributes:
        seed: seed for every random choice the model makes.
        markers: marker table of the dataset (``chrom``, ``pos``), for models that use the map.
        n_threads: CPU threads the model may use.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        report: for tuning with pruning: ``report(step, value)`` with the model's current
            validation score (higher is better); raises if the trial should stop.
        get_model: ``get_model(name) -> ModelSpec``, a lookup in the host's model registry, so
            that a model (e.g. a stacked ensemble) can build other models; raises the registry's
            unknown-name error. None when the host offers no registry.
    """

    seed: int = 0
    markers: pd.DataFrame | None = None
    n_threads: int = 1
    device: str = "auto"
    report: Callable[[int, float], None] | None = None
    get_model: Callable[[str], ModelSpec] | None = None


@runtime_checkable
class Model(Protocol):
    """What a model plugin's factory returns.

    ``Y`` is always 2-D ``(n, n_traits)``. For single-trait models ``n_traits == 1`` and ``Y``
    has no NaN. For multi-trait models ``Y`` may contain NaN (not measured): mask them.
    ``valid`` is an inner validation split carved from the training fold by the host, for
    early stopping; ``None`` when the model does not ask for one.
    """

    def fit(
        self, X: np.ndarray, Y: np.ndarray, valid: tuple[np.ndarray, np.ndarray] | None = None
    ) -> Any: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class SavableModel(Model, Protocol):
    """A model that can write itself to a directory (optional; see ``ModelSpec.load``)."""

    def save(self, directory: Path) -> None: ...


@runtime_checkable
class OutOfFoldModel(Model, Protocol):
    """A model that gives out-of-fold predictions of its training rows from one fit (optional).

    An ensemble that needs out-of-fold predictions of a model can call ``fit_oof`` when the
    model has it, and otherwise fit the model once per inner fold (the stack uses it under
    ``scheme=crossfit`` only: docs/notes/stack-oof.md). ``fit_oof(X, Y, fold)`` fits the
    model on all rows of ``X, Y`` as ``fit(X, Y)`` would (a model that chooses a
    hyperparameter by inner CV uses ``fold``'s folds for it) and returns ``(n, n_traits)``
    predictions in which row ``i`` is predicted by the model fitted without the rows of fold
    ``fold[i]`` (``fold``: ``(n,)`` integer labels). A hyperparameter chosen on all rows
    (penalty, variance ratio) may be kept fixed across folds; say so in the model's docs.
    """

    def fit_oof(self, X: np.ndarray, Y: np.ndarray, fold: np.ndarray) -> np.ndarray: ...


SearchSpace = Callable[[Any], dict[str, Any]]
"""``space(trial) -> options``: suggests options on an Optuna trial."""


@dataclass(frozen=True)
class ModelSpec:
    """A model a plugin offers.

    Attributes:
        name: registry name used on the command line.
        factory: ``factory(options, context) -> Model``.
        options: option names with defaults (the only options the model accepts). A value
            given for an option must be of its default's type (bool, int, float -- ints
            accepted --, str, list, dict; anything when the default is None): checked before
            any unit runs.
        multi_trait: fitted once on all requested traits instead of once per trait.
        uses_validation: wants the host's inner validation split in ``fit``.
        search_space: for ``--tune``: suggests options on an Optuna trial.
        description: one line for ``gpbench list``.
        accelerator: can use a GPU (schedulers give its units a GPU when they have one).
        resolve_options: ``resolve_options(options, context) -> options``: the options the
            model will effectively use, given its defaults merged with the user's options and
            the context (``context.device`` is the resolved device kind, "cpu" or "cuda"); e.g.
            the transformer turns ``profile="auto"`` into "fast" or "paper". The host records
            these and keys resumed results on them. None: the merged options are effective.
        load: ``load(directory, context) -> Model`` rebuilds a fitted model that its
            ``save(directory)`` wrote (arrays, JSON, text or state-dict files, never pickle);
            None when the model cannot be saved (``gpbench predict`` then fits and predicts
            in one go).
        uses_models: ``uses_models(options) -> names`` of the other registered models this
            model builds through ``context.get_model`` (e.g. a stack's base models). The host
            keys this model's results on their versions and default options too, so a change
            to a base model reruns the ensemble instead of reusing stale results.
        version: the model's results version. Bump it whenever a change alters what the model
            predicts (defaults, algorithm, numerics); results keyed on the old version are then
            rerun. A refactor or a comment needs no bump (``gpbench verify`` and the committed-
            results test catch a change of output without one).
        option_types: for an option that takes values of several types, the types it takes
            instead of its default's, e.g. ``{"base": (str, list)}`` for a comma-separated
            string or a list (``type(None)`` admits null, ``object`` anything).
    """

    name: str
    factory: Callable[[dict[str, Any], ModelContext], Model]
    options: Mapping[str, Any] = field(default_factory=dict)
    multi_trait: bool = False
    uses_validation: bool = False
    search_space: SearchSpace | None = None
    description: str = ""
    accelerator: bool = False
    resolve_options: Callable[[dict[str, Any], ModelContext], dict[str, Any]] | None = None
    load: Callable[[Path, ModelContext], Model] | None = None
    uses_models: Callable[[Mapping[str, Any]], Sequence[str]] | None = None
    version: str = "1"
    # import names of the libraries that compute the model's predictions (e.g. "lightgbm"):
    # their versions are recorded with each result
    libraries: tuple[str, ...] = ()
    # kind of method, for filters on boards and the site: "linear", "kernel", "bayesian",
    # "trees", "neural", "ensemble" ("" is shown as "other")
    family: str = ""
    option_types: Mapping[str, type | tuple[type, ...]] = field(default_factory=dict)
    # what boards do with the model: "reference" (the declared model every other one is
    # compared with, e.g. GBLUP), "null" (a null model: shown, but left out of rank tests);
    # "" for every other model. The host knows these models only by this role.
    board_role: str = ""

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise ValueError, in one line, on an option this model does not declare (with a
        did-you-mean) or on a value of the wrong type (see :func:`check_option_value`)."""
        self.normalize_options(options)

    def normalize_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` checked like :meth:`check_options`, with integral floats given for
        integer options turned into ints (``3.0`` -> ``3``)."""
        import difflib

        out = {}
        for key, value in options.items():
            if key not in self.options:
                close = difflib.get_close_matches(key, list(self.options), n=2, cutoff=0.6)
                hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                valid = ", ".join(sorted(self.options)) or "none"
                raise ValueError(f"model {self.name!r} has no option {key!r}.{hint} Its "
                                 f"options: {valid}")
            out[key] = check_option_value(self.name, key, value, self.options[key],
                                          self.option_types.get(key))
        return out

    def effective_options(self, options: Mapping[str, Any],
                          context: ModelContext) -> dict[str, Any]:
        """Defaults merged with ``options``, then resolved by the plugin's ``resolve_options``."""
        merged = {**self.options, **self.normalize_options(options)}
        if self.resolve_options is not None:
            merged = dict(self.resolve_options(merged, context))
        return merged

    def build(self, options: Mapping[str, Any], context: ModelContext) -> Model:
        return self.factory({**self.options, **self.normalize_options(options)}, context)


_TYPE_WORDS: dict[type, str] = {bool: "true or false", int: "a whole number", float: "a number",
                                str: "a string", list: "a list", tuple: "a list",
                                dict: "a JSON object", type(None): "null"}


def _show(value: Any) -> str:
    """An option value as the user typed it (JSON for non-strings)."""
    import json

    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _is_type(value: Any, kind: type) -> bool:
    """``value`` belongs to the type family ``kind`` (bool is not a number; a list is a tuple;
    an int is a float; numpy scalars count as Python numbers)."""
    import numbers

    if kind is bool:
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real)
    if kind in (list, tuple):
        return isinstance(value, (list, tuple))
    if kind is dict:
        return isinstance(value, Mapping)
    return isinstance(value, kind)


def _family(default: Any) -> type:
    """The type family of a default: bool, int, float, str, list, dict or its own type."""
    import numbers

    for kind, cls in ((bool, (bool, np.bool_)), (int, numbers.Integral), (float, numbers.Real),
                      (str, str), (list, (list, tuple)), (dict, Mapping)):
        if isinstance(default, cls):
            return kind
    return type(default)


def check_option_value(model: str, key: str, value: Any, default: Any,
                       types: type | tuple[type, ...] | None = None) -> Any:
    """``value`` when it fits option ``key`` of ``model``, else ValueError in one line.

    A value must be of the type family of the option's ``default``: bool for bool, int for int
    (an integral float such as ``3.0`` is accepted and returned as ``3``), a number for a float
    (ints too), a string for a string, a list for a list or tuple, a dict for a dict; any value
    for a default of None. ``types`` (a ``ModelSpec.option_types`` entry) replaces the default's
    type: the value must belong to one of them (``type(None)`` admits null; ``object`` admits
    anything).
    """
    if types is None:
        if default is None:
            return value
        kinds: tuple[type, ...] = (_family(default),)
    else:
        kinds = types if isinstance(types, tuple) else (types,)
    if object in kinds:
        return value
    for kind in kinds:
        if _is_type(value, kind):
            return value
    if (int in kinds and float not in kinds and isinstance(value, float)
            and value.is_integer()):
        return int(value)
    words = sorted({_TYPE_WORDS.get(k, k.__name__) for k in kinds})
    hint = (" (to give a number as text, quote it as JSON: "
            f"{model}.{key}='\"{_show(value)}\"')"
            if str in kinds and isinstance(value, (int, float))
            and not isinstance(value, bool) else "")
    shown = repr(default) if isinstance(default, str) else _show(default)
    raise ValueError(f"model {model!r}: option {key}={_show(value)} is not "
                     f"{' or '.join(words)} (default {shown}){hint}")


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class MetricSpec:
    """A metric ``fn(y_true, y_pred) -> float`` on one trait of one test fold.

    Boards compute metrics from stored predictions, so a metric needs no rerun of any model;
    ``version`` is recorded with every board that shows it (bump it when ``fn`` changes).
    """

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool = True
    description: str = ""
    version: str = "1"
