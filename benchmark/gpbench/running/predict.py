"""Predictions for new individuals: fit on every measured individual, save, load, predict.

``train`` fits a model on all measured individuals of a dataset (once per trait for
single-trait models, once for all traits for multi-trait ones), with the marker QC and mean
imputation of a CV fold fitted on those individuals and, when asked, tuning inside them on the
same inner split as in CV. Design effects are estimated on those individuals as inside a CV
fold (:mod:`gpbench.running.final_design`): the model fits the trait adjusted for them, the
covariate effects are added back from the new individuals' covariates, and a trial-adjusted
trait is predicted as individual effects. ``predict`` aligns new genotypes to the training
markers by marker id (markers the new file lacks are imputed with the training mean; extra
markers are ignored; when both marker tables name the counted allele, a marker counted by the
other allele is flipped and one with other alleles is treated as missing) and returns one row
per new individual. ``save`` writes a versioned model directory (JSON manifest + each model's
own ``save`` payload: arrays, text or state-dict files, never pickle); ``load`` reads it back,
refusing a format version it does not read or a model whose plugin is missing.
"""

from __future__ import annotations

import json
import logging
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpbench import __version__
from gpbench.api.errors import GpbenchError, UnknownNameError
from gpbench.api.types import DataConfig, Dataset, ModelContext, ModelSpec
from gpbench.data.preprocess import FoldPreprocessor
from gpbench.plugins import PluginInfo, Registry
from gpbench.running.design import covariate_coding, design_inputs, design_key, fit_design
from gpbench.running.final_design import FinalDesign
from gpbench.running.fitting import UnitData, _check_predictions, _fit_rows, constant_trait
from gpbench.running.protocol import inner_validation_mask
from gpbench.running.units import Environment, TuneConfig, Unit, model_seed

log = logging.getLogger("gpbench.predict")

FORMAT = "gpbench-model"
FORMAT_VERSION = 2  # 2: the design effects of the fit ("design"); 1 had none
READS = (1, 2)


@dataclass
class FittedGroup:
    """One fitted model: its traits, options, marker preprocessing and model object."""

    traits: tuple[str, ...]
    options: dict[str, Any]
    preprocessor: FoldPreprocessor
    model: Any
    n_train: int
    tuning: dict[str, Any] | None = None


@dataclass
class Trained:
    """Everything needed to predict new individuals."""

    model: str
    spec: ModelSpec
    plugin: PluginInfo
    markers: pd.DataFrame  # training markers (index = marker id), in training column order
    groups: list[FittedGroup]
    training: dict[str, Any] = field(default_factory=dict)
    design: FinalDesign | None = None  # None: fitted on the traits as the dataset gives them

    @property
    def traits(self) -> list[str]:
        return [t for g in self.groups for t in g.traits]


def _context(seed: int, markers: pd.DataFrame, pre: FoldPreprocessor, n_threads: int,
             device: str) -> ModelContext:
    kept = markers if pre.keep.all() else markers.iloc[np.flatnonzero(pre.keep)]
    return ModelContext(seed=seed, markers=kept, n_threads=n_threads, device=device)


def train(registry: Registry, ds: Dataset, model: str, traits: list[str],
          options: dict[str, Any] | None = None, tune: TuneConfig | None = None,
          seed: int = 0, n_threads: int = 1, device: str = "auto", maf: float = 0.0,
          min_call_rate: float = 0.0, inner_fraction: float = 0.2,
          data_config: DataConfig | None = None, covariates: str = "auto",
          trials: str = "auto") -> Trained:
    """Fit ``model`` on every measured individual of ``ds`` for ``traits``, adjusted for the
    design effects ``covariates`` and ``trials`` select (as ``gpbench run``'s flags: "auto"
    takes the dataset's, "none" none, or a covariate file)."""
    entry = registry.entry("model", model)
    spec: ModelSpec = entry.spec
    who = f"model {spec.name!r} of {entry.plugin.describe()}"
    options = dict(options or {})
    try:
        spec.check_options(options)
    except ValueError as exc:
        raise GpbenchError(str(exc)) from exc
    ids = np.asarray(ds.sample_ids)
    targets, design = _final_targets(ds, traits, covariates, trials)
    groups = [tuple(traits)] if spec.multi_trait else [(t,) for t in traits]
    fitted = []
    for group in groups:
        Y = targets[:, [traits.index(t) for t in group]]
        measured = ~np.isnan(Y).all(axis=1) if spec.multi_trait else ~np.isnan(Y[:, 0])
        if measured.sum() < 2:
            raise GpbenchError(f"only {int(measured.sum())} measured individuals for "
                               f"{', '.join(group)}; nothing to fit on")
        if constant := constant_trait(Y, measured, group):
            raise GpbenchError(f"trait {constant[0]!r} takes the one value {constant[1]:g} in "
                               f"all {constant[2]} measured individuals, so there is nothing "
                               "to learn: drop it from --envs")
        train_rows = np.ones(len(ids), dtype=bool)
        inner = inner_validation_mask(ids, seed, 0, 0, inner_fraction)
        chosen = dict(options)
        tuning = None
        if tune is not None and tune.n_trials > 0:
            tuning = _tune(registry, ds, spec, entry.plugin, who, group, Y, ids, train_rows,
                           inner, measured, options, tune, seed, n_threads, device,
                           inner_fraction, maf, min_call_rate, data_config)
            chosen.update(tuning["best_params"])
        fit_rows, valid_rows = _fit_rows(measured, train_rows, inner, spec.uses_validation)
        rows = fit_rows if valid_rows is None else fit_rows | valid_rows
        X = ds.genotypes
        pre = FoldPreprocessor.fit(X[rows], maf=maf, min_call_rate=min_call_rate)
        ctx = _context(model_seed(seed), ds.markers, pre, n_threads, device)
        m = spec.build(chosen, ctx)
        valid = ((pre.transform(X[valid_rows]), Y[valid_rows]) if valid_rows is not None
                 else None)
        t0 = time.perf_counter()
        m.fit(pre.transform(X[fit_rows]), Y[fit_rows], valid=valid)
        log.info("%s fitted on %d individuals for %s (%.1f s)", spec.name, int(rows.sum()),
                 ", ".join(group), time.perf_counter() - t0)
        used = {**spec.options, **chosen}
        resolve = getattr(spec, "resolve_options", None)  # e.g. a profile "auto" -> "fast"
        if callable(resolve):
            used = dict(resolve(used, ctx))
        fitted.append(FittedGroup(group, used, pre, m, int(rows.sum()),
                                  tuning))
    return Trained(spec.name, spec, entry.plugin, ds.markers, fitted,
                   {"dataset": ds.name, "version": ds.version, "checksum": ds.checksum,
                    "n_individuals": len(ids), "seed": seed, "maf": maf,
                    "min_call_rate": min_call_rate}, design)


def _final_targets(ds: Dataset, traits: list[str], covariates: str,
                   trials: str) -> tuple[np.ndarray, FinalDesign | None]:
    """What the final model fits for ``traits`` (every individual trains), and the design
    effects predictions need; the traits as they are when no design effect applies."""
    Y = ds.traits[list(traits)].to_numpy(dtype=np.float64)
    cov, records = design_inputs(ds, covariates, trials)
    key = design_key(cov, records, traits)
    if not key:
        return Y, None
    fit = fit_design(Y, traits, ds.sample_ids, np.ones(len(Y), dtype=bool), cov, records)
    return fit.fit, FinalDesign.of(fit, key)


def _tune(registry: Registry, ds: Dataset, spec: ModelSpec, plugin: PluginInfo, who: str,
          group: tuple[str, ...], Y: np.ndarray, ids: np.ndarray, train_rows: np.ndarray,
          inner: np.ndarray, measured: np.ndarray, options: dict[str, Any], tune: TuneConfig,
          seed: int, n_threads: int, device: str, inner_fraction: float, maf: float,
          min_call_rate: float, data_config: DataConfig | None) -> dict[str, Any]:
    """Tuning inside the training set, exactly as inside one outer CV training fold."""
    from gpbench.running.tuning import tune as run_tuning

    unit = Unit(dataset=ds.name, data_config=data_config or DataConfig(Path(".")),
                dataset_checksum=ds.checksum, model=spec.name, options=options,
                traits=group, repeat=0, fold=0, k=1, seed=seed, fold_file="", fold_sha256="",
                tune=replace(tune, jobs=1), n_threads=n_threads, device=device,
                inner_fraction=inner_fraction, maf=maf, min_call_rate=min_call_rate)
    d = UnitData(spec, who, plugin, ds, ds.genotypes, Y, ids, train_rows,
                 np.zeros(len(ids), dtype=bool), inner, measured)
    return run_tuning(unit, Environment(registry=registry), d, base_options=options)


def check_new_covariates(ds: Dataset, covariates: str, table: pd.DataFrame | None,
                         ids: list[str], source: str = "the new covariates") -> None:
    """Raise, before any model is fitted, the one-line error :func:`predict` would raise when
    the covariates ``covariates`` selects on ``ds`` are not given for the new ``ids`` in
    ``table`` (or ``table`` is given to a fit without covariates)."""
    cov, _ = design_inputs(ds, covariates, "none")
    coding = covariate_coding(cov, np.ones(len(cov), dtype=bool)) if cov is not None else ()
    if not coding:
        if table is not None:
            raise GpbenchError(f"{source} given, but the model is fitted without covariates; "
                               "drop them")
        return
    probe = FinalDesign(coding, {"probe": (0.0,) * len(coding)})
    probe.covariate_part(["probe"], ids, table, source)


ALLELES = ("counted", "other")


def _allele_check(train: pd.DataFrame, new: pd.DataFrame, pos: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(flip, clash) masks over training markers: the new file counts the other allele, or
    names other alleles altogether. Both False when either table lacks allele columns."""
    flip = np.zeros(len(train), dtype=bool)
    clash = np.zeros(len(train), dtype=bool)
    if not all(c in train.columns and c in new.columns for c in ALLELES):
        return flip, clash
    found = pos >= 0
    tc, to = (train[c].astype(str).str.upper().to_numpy()[found] for c in ALLELES)
    nc, no = (new[c].astype(str).str.upper().to_numpy()[pos[found]] for c in ALLELES)
    same = (tc == nc) & (to == no)
    swapped = (tc == no) & (to == nc) & ~same
    flip[found] = swapped
    clash[found] = ~same & ~swapped
    return flip, clash


def check_new(new: Dataset, markers: pd.DataFrame, name: str = "the new genotype file"
              ) -> None:
    """Raise when ``new`` shares no marker id with the training ``markers`` (checked before
    fitting, so a wrong --new file fails at once)."""
    new_ids = pd.Index([str(m) for m in new.markers.index])
    if not new_ids.isin([str(m) for m in markers.index]).any():
        raise GpbenchError(f"none of the {len(markers)} training marker ids is in {name} "
                           f"(training ids like {list(markers.index[:3])}, new ids like "
                           f"{list(new_ids[:3])}); the files must name markers alike")


def align(new: Dataset, markers: pd.DataFrame, used: np.ndarray | None = None,
          name: str = "the new genotype file", span: tuple[float, float] = (0.0, 2.0)
          ) -> np.ndarray:
    """``new.genotypes`` with its columns in the order of the training ``markers`` (NaN where
    absent).

    Logs a warning with the number of training markers the new file lacks (those are imputed
    with the training means) and how many extra markers it has (ignored). Markers the new file
    counts by the other allele are flipped (``lo + hi - dosage`` with ``span = (lo, hi)``, the
    training dosage range); markers with other alleles are set missing, with a warning.
    """
    new_ids = pd.Index([str(m) for m in new.markers.index])
    pos = new_ids.get_indexer(pd.Index([str(m) for m in markers.index]))
    flip, clash = _allele_check(markers, new.markers, pos)
    extra = len(new_ids) - int((pos >= 0).sum())
    if clash.any():
        log.warning("%d markers of %s name other alleles than in training (e.g. %s); they are "
                    "treated as missing", int(clash.sum()), name,
                    ", ".join(map(str, markers.index[clash][:3])))
        pos = np.where(clash, -1, pos)
    if flip.any():
        log.warning("%d markers of %s count the other allele than in training; their dosages "
                    "are flipped", int(flip.sum()), name)
    missing = pos < 0
    if missing.all():
        raise GpbenchError(f"none of the {len(markers)} training marker ids is in {name} "
                           f"(training ids like {list(markers.index[:3])}, new ids like "
                           f"{list(new_ids[:3])}); the files must name markers alike")
    if missing.any():
        n_used = int((missing & used).sum()) if used is not None else int(missing.sum())
        log.warning("%d of %d training markers are missing from %s (%d of them used by the "
                    "model); they are imputed with the training means", int(missing.sum()),
                    len(markers), name, n_used)
    if extra:
        log.info("%d markers of %s are not training markers and are ignored", extra, name)
    G = new.genotypes
    if (not missing.any() and extra == 0 and not flip.any()
            and np.array_equal(pos, np.arange(len(pos)))):
        return G
    X = np.full((G.shape[0], len(markers)), np.nan, dtype=np.float32, order="F")
    X[:, ~missing] = G[:, pos[~missing]]
    if flip.any():
        X[:, flip] = np.float32(span[0] + span[1]) - X[:, flip]
    return X


def predict(trained: Trained, new: Dataset, name: str = "the new genotype file",
            covariates: pd.DataFrame | None = None,
            covariates_name: str = "the new covariates") -> pd.DataFrame:
    """Predicted trait values, one row per individual of ``new`` (index = its ids).

    A model fitted with covariates needs the new individuals' values in ``covariates``
    (indexed by id; see :class:`~gpbench.running.final_design.FinalDesign`): their effects are
    added back. A trait fitted on trial-adjusted targets is predicted as individual effects."""
    design = trained.design
    part = (design.covariate_part(trained.traits, new.sample_ids, covariates, covariates_name)
            if design is not None else None)
    if covariates is not None and part is None:
        raise GpbenchError(f"{covariates_name} given, but the model was fitted without "
                           "covariates; drop them")
    used = np.zeros(len(trained.markers), dtype=bool)
    for g in trained.groups:
        used |= g.preprocessor.keep
    pre = trained.groups[0].preprocessor
    X = align(new, trained.markers, used, name, (pre.lo, pre.hi))
    cols = {}
    for g in trained.groups:
        pred = g.model.predict(g.preprocessor.transform(X))
        pred = _check_predictions(pred, X.shape[0], len(g.traits),
                                  f"model {trained.model!r} of {trained.plugin.describe()}")
        for j, t in enumerate(g.traits):
            cols[t] = pred[:, j]
    out = pd.DataFrame(cols, index=pd.Index(new.sample_ids, name="id"))[trained.traits]
    if part is not None:
        out = out + part
    if design is not None and design.trials:
        log.info("%s: predicted as individual effects (trial effects removed in training)",
                 ", ".join(design.trials))
    return out


# ------------------------------------------------------------------ saving and loading


def check_savable(spec: ModelSpec, plugin: PluginInfo) -> None:
    """Raise when ``spec``'s models cannot be saved (no ``load``)."""
    if spec.load is None:
        raise GpbenchError(f"model {spec.name!r} ({plugin.describe()}) cannot be saved (it "
                           "has no load); run predict without --save to fit and predict in "
                           "one go")


def save(trained: Trained, directory: Path) -> Path:
    """Write ``trained`` to ``directory`` (which must not exist or be empty)."""
    directory = Path(directory)
    check_savable(trained.spec, trained.plugin)
    if directory.exists() and any(directory.iterdir()):
        raise GpbenchError(f"{directory} exists and is not empty; choose a new --save "
                           "directory")
    directory.mkdir(parents=True, exist_ok=True)
    groups = []
    for i, g in enumerate(trained.groups):
        if not callable(getattr(g.model, "save", None)):
            raise GpbenchError(f"model {trained.model!r} ({trained.plugin.describe()}) has a "
                               "load but its fitted model has no save method")
        sub = f"model{i}"
        g.model.save(directory / sub)
        groups.append({"traits": list(g.traits), "options": g.options, "path": sub,
                       "n_train": g.n_train, "tuning": g.tuning,
                       "preprocessor": g.preprocessor.to_dict()})
    markers = trained.markers
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "gpbench_version": __version__,
        "model": trained.model,
        "plugin": {"name": trained.plugin.name, "distribution": trained.plugin.distribution,
                   "version": trained.plugin.version},
        "traits": trained.traits, "training": trained.training,
        "design": trained.design.to_dict() if trained.design is not None else None,
        "markers": {"id": [str(m) for m in markers.index],
                    "chrom": [None if pd.isna(c) else str(c) for c in markers["chrom"]],
                    "pos": [None if pd.isna(p) else float(p) for p in markers["pos"]],
                    **{c: [str(a) for a in markers[c]] for c in ALLELES
                       if c in markers.columns}},
        "groups": groups,
    }
    from gpbench.storage.atomic import atomic_write_bytes

    # one top-level key per line (the long marker and preprocessor lists stay on theirs);
    # written last, so a directory with a manifest is complete
    text = "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v, allow_nan=False)}"
                               for k, v in manifest.items()) + "\n}\n"
    atomic_write_bytes(directory / "manifest.json", text.encode())
    return directory


def _check_manifest(manifest: dict[str, Any], directory: Path, path: Path) -> None:
    """Raise GpbenchError, in one line naming ``path``, when the manifest lacks a key, holds
    a value of the wrong type or names a model directory that is not there."""

    def bad(what: str) -> GpbenchError:
        return GpbenchError(f"{path}: {what}; the saved model is incomplete or was edited: "
                            "save it again (gpbench predict ... --save DIR)")

    def need(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str,
             words: str) -> Any:
        if key not in obj:
            raise bad(f"{where}{key!r} is missing")
        value = obj[key]
        if not isinstance(value, kind) or isinstance(value, bool) and bool not in (
                kind if isinstance(kind, tuple) else (kind,)):
            raise bad(f"{where}{key!r} is not {words} (got {type(value).__name__})")
        return value

    need(manifest, "model", str, "", "a string")
    if not isinstance(manifest.get("plugin", {}), (dict, type(None))):
        raise bad("'plugin' is not an object")
    training = manifest.get("training", {})
    training = {} if training is None else training
    if not isinstance(training, dict):
        raise bad("'training' is not an object")
    if "seed" in training:
        need(training, "seed", int, "training.", "an integer")
    markers = need(manifest, "markers", dict, "", "an object")
    ids = need(markers, "id", list, "markers.", "a list")
    for key in ("chrom", "pos", *(c for c in ALLELES if c in markers)):
        column = need(markers, key, list, "markers.", "a list")
        if len(column) != len(ids):
            raise bad(f"markers.{key!r} has {len(column)} entries for {len(ids)} marker ids")
    if not all(v is None or isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in markers["pos"]):
        raise bad("markers.'pos' holds a value that is not a number or null")
    groups = need(manifest, "groups", list, "", "a list")
    if not groups:
        raise bad("'groups' is empty (no fitted model)")
    for i, g in enumerate(groups):
        where = f"groups[{i}]."
        if not isinstance(g, dict):
            raise bad(f"groups[{i}] is not an object")
        traits = need(g, "traits", list, where, "a list")
        if not traits or not all(isinstance(t, str) for t in traits):
            raise bad(f"{where}'traits' is not a list of trait names")
        need(g, "options", dict, where, "an object")
        need(g, "preprocessor", dict, where, "an object")
        sub = need(g, "path", str, where, "a string")
        if "n_train" in g:
            need(g, "n_train", int, where, "an integer")
        if g.get("tuning") is not None and not isinstance(g["tuning"], dict):
            raise bad(f"{where}'tuning' is not an object or null")
        target = directory / sub
        if Path(sub).is_absolute() or ".." in Path(sub).parts or not target.is_dir():
            raise bad(f"{where}'path' {sub!r} is not a directory inside {directory}")


def load(directory: Path, registry: Registry, n_threads: int = 1,
         device: str = "auto") -> Trained:
    """Read a model directory written by :func:`save`."""
    directory = Path(directory)
    path = directory / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise GpbenchError(f"{directory} is not a saved gpbench model (no manifest.json); "
                           "save one with gpbench predict ... --save DIR") from None
    except (OSError, ValueError) as exc:
        raise GpbenchError(f"{path} is unreadable ({exc}); save the model again") from None
    if not isinstance(manifest, dict):
        raise GpbenchError(f"{path} holds a JSON {type(manifest).__name__}, not a saved "
                           "model's manifest (an object); save the model again")
    if manifest.get("format") != FORMAT:
        raise GpbenchError(f"{directory} is not a saved gpbench model (format "
                           f"{manifest.get('format')!r})")
    version = manifest.get("format_version")
    if version not in READS:
        raise GpbenchError(f"{directory} was saved in model format {version} by gpbench "
                           f"{manifest.get('gpbench_version')}; this gpbench ({__version__}) "
                           f"reads formats {', '.join(map(str, READS))}: refit and save it "
                           "again, or use "
                           "the gpbench version that saved it")
    _check_manifest(manifest, directory, path)
    name, p = manifest["model"], manifest.get("plugin") or {}
    try:
        entry = registry.entry("model", name)
    except UnknownNameError:
        dist = f" (distribution {p.get('distribution')} {p.get('version')})" if p.get(
            "distribution") else ""
        raise GpbenchError(f"{directory} needs model {name!r} from plugin "
                           f"{p.get('name')!r}{dist}, which is not installed; install that "
                           "plugin, or refit the model") from None
    spec: ModelSpec = entry.spec
    check_savable(spec, entry.plugin)
    if p.get("version") and entry.plugin.version and p["version"] != entry.plugin.version:
        log.warning("%s was saved with plugin %s %s; loading it with version %s", directory,
                    p.get("name"), p["version"], entry.plugin.version)
    m = manifest["markers"]
    markers = pd.DataFrame({"chrom": m["chrom"], "pos": np.asarray(
        [np.nan if v is None else v for v in m["pos"]], dtype=np.float64),
        **{c: m[c] for c in ALLELES if c in m}}, index=pd.Index(m["id"], name="marker"))
    seed = int((manifest.get("training") or {}).get("seed", 0))
    groups = []
    for i, g in enumerate(manifest["groups"]):
        try:
            pre = FoldPreprocessor.from_dict(g["preprocessor"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GpbenchError(f"{path}: groups[{i}].preprocessor is damaged ({exc!r}); "
                               "save the model again") from None
        if len(pre.keep) != len(markers) or len(pre.means) != len(markers):
            raise GpbenchError(f"{path}: groups[{i}].preprocessor describes {len(pre.keep)} "
                               f"markers, the manifest lists {len(markers)}; save the model "
                               "again")
        ctx = _context(model_seed(seed), markers, pre, n_threads, device)
        try:
            model = spec.load(directory / g["path"], ctx)
        except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError,
                AttributeError, RuntimeError, zipfile.BadZipFile) as exc:
            raise GpbenchError(f"{directory / g['path']}: could not load the {name} model "
                               f"({exc}); save it again") from None
        groups.append(FittedGroup(tuple(g["traits"]), g["options"], pre, model,
                                  int(g.get("n_train", 0)), g.get("tuning")))
    return Trained(name, spec, entry.plugin, markers, groups, manifest.get("training", {}),
                   _design(manifest, path))


def _design(manifest: dict[str, Any], path: Path) -> FinalDesign | None:
    """The manifest's design effects (None in format 1 and for a fit without them)."""
    design = manifest.get("design")
    if design is None:
        return None
    try:
        return FinalDesign.from_dict(design)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise GpbenchError(f"{path}: 'design' is damaged ({exc!r}); save the model "
                           "again") from None
