"""One run configuration per run directory: what run.json records and when a run may join it.

A run directory holds the results of exactly one configuration (dataset and its options and
checksum, traits, folds, seed, repeats, inner fraction, tuning, device, each model's options).
Models may be added to it later; anything else that differs is refused before a unit runs, so a
leaderboard never averages results of different configurations. The leaderboard shows only the
units listed in run.json, and its "Reproduce with" command is rebuilt from this configuration.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gpbench.api.errors import GpbenchError

# compared field by field; "models" and "model_options" are merged instead (models may be added)
FIELDS = ("dataset", "dataset_options", "dataset_checksum", "traits", "k", "seed", "repeats",
          "inner_fraction", "tune", "device", "device_kind", "fold_sha256", "maf",
          "min_call_rate", "cv", "design", "train_fractions")
# "covariates" and "trials" (the flags, kept for the reproduce command) are not compared: what
# they select is "design", and a v1 run replanned with "none" must stay compatible


class RunConfigMismatch(GpbenchError):
    """A run into a directory that holds results of another configuration."""


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Fields (``name: old -> new``) in which ``new`` differs from ``old``; models may differ,
    but a model in both must have the same options. ``device_kind`` None (no model of the run
    uses a device) matches any kind."""
    out = []
    for key in FIELDS:
        a, b = old.get(key), new.get(key)
        if key == "device_kind" and (a is None or b is None):
            continue
        if json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True,
                                                                    default=str):
            out.append(f"{key}: {_show(a)} -> {_show(b)}")
    old_opts, new_opts = old.get("model_options") or {}, new.get("model_options") or {}
    for model in sorted(set(old.get("models") or []) & set(new.get("models") or [])):
        a, b = old_opts.get(model) or {}, new_opts.get(model) or {}
        if json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True,
                                                                    default=str):
            out.append(f"options of {model}: {_show(a)} -> {_show(b)}")
    return out


def merge(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new`` with the models (and their options) of ``old`` that ``new`` does not name."""
    models = list(old.get("models") or [])
    models += [m for m in new.get("models") or [] if m not in models]
    options = {**(old.get("model_options") or {}), **(new.get("model_options") or {})}
    kind = new.get("device_kind") or old.get("device_kind")
    return {**new, "models": models, "model_options": {m: options[m] for m in models
                                                       if options.get(m)},
            "device_kind": kind}


def read_run(run_dir: Path) -> dict[str, Any] | None:
    """run.json of ``run_dir``, None when there is none (a GpbenchError when unreadable)."""
    path = Path(run_dir) / "run.json"
    if not path.exists():
        return None
    try:
        run = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GpbenchError(f"{path} is unreadable ({exc}); choose another --out directory "
                           "or delete it") from exc
    return run if isinstance(run, dict) else None


def units_by_model(run: Mapping[str, Any], run_dir: Path) -> dict[str, list[str]]:
    """The unit ids run.json ``run`` lists per model; a GpbenchError naming ``run_dir`` when it
    lists none (not a run directory, e.g. the cross board's)."""
    units = run.get("units_by_model")
    if not isinstance(units, dict):
        raise GpbenchError(f"{run_dir} has no run.json listing its units; pass the --out "
                           "directory of a `gpbench run`")
    return units


def check_compatible(run_dir: Path, new: Mapping[str, Any]) -> dict[str, Any] | None:
    """Raise RunConfigMismatch when ``run_dir`` holds another configuration than ``new``;
    return the stored run.json (None for a new directory)."""
    run = read_run(run_dir)
    if run is None:
        return None
    old = run.get("run_config")
    if old is None:
        if not any(Path(run_dir, "results").glob("*.json")) and not Path(
                run_dir, "results.parquet").exists():
            return None  # nothing stored yet: take the directory over
        raise RunConfigMismatch(
            f"{run_dir} holds results of an older gpbench without a recorded run "
            "configuration; use a new --out directory")
    diff = differences(old, new)
    if diff:
        raise RunConfigMismatch(
            f"{run_dir} holds results of another configuration ({'; '.join(diff)}); a run "
            "directory holds one configuration (models may be added): use a new --out "
            "directory, or repeat the original options")
    return run


def merge_units(old_units: Mapping[str, list[str]] | None,
                new_units: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Unit ids per model: the new plan's models replace their lists, others are kept."""
    out = {m: list(u) for m, u in (old_units or {}).items()}
    out.update({m: list(u) for m, u in new_units.items()})
    return out


def reproduce_command(config: Mapping[str, Any]) -> str:
    """A ``gpbench run`` command that reproduces every model of the configuration."""
    parts = ["gpbench", "run", "--models", ",".join(config.get("models") or [])]
    if config.get("dataset"):
        parts += ["--dataset", str(config["dataset"])]
    if config.get("traits"):
        parts += ["--envs", ",".join(config["traits"])]
    for key, value in sorted((config.get("dataset_options") or {}).items()):
        parts += ["--dataset-option", f"{key}={value}"]
    for model, options in sorted((config.get("model_options") or {}).items()):
        for key, value in sorted(options.items()):
            text = value if isinstance(value, str) else json.dumps(value)
            parts += ["--model-option", f"{model}.{key}={text}"]
    if config.get("published_folds"):
        parts += ["--folds", "published"]
    else:
        parts += ["--folds", str(config.get("k", 5)), "--seed", str(config.get("seed", 0)),
                  "--repeats", str(config.get("repeats", 1))]
        if config.get("cv", "random") != "random":
            parts += ["--cv", str(config["cv"])]
    tune = config.get("tune")
    if tune:
        parts += ["--tune", str(tune["n_trials"]), "--tune-metric", str(tune["metric"])]
        if tune.get("jobs", 1) != 1:
            parts += ["--tune-jobs", str(tune["jobs"])]
    if config.get("device", "auto") != "auto":
        parts += ["--device", str(config["device"])]
    if config.get("train_fractions"):
        parts += ["--train-fraction", ",".join(f"{f:g}" for f in config["train_fractions"])]
    if config.get("maf", 0.01) != 0.01:
        parts += ["--maf", f"{config['maf']:g}"]
    if config.get("min_call_rate", 0.5) != 0.5:
        parts += ["--min-call-rate", f"{config['min_call_rate']:g}"]
    for flag in ("covariates", "trials"):  # stored only when not "auto"
        if config.get(flag):
            parts += [f"--{flag}", str(config[flag])]
    return " ".join(shlex.quote(p) for p in parts)


def run_command(run: Mapping[str, Any]) -> str:
    """The command for run.json ``run``: one that reproduces every model of its configuration
    (the directory may have been filled by several invocations), else the command it stored."""
    if run.get("run_config"):
        return reproduce_command(run["run_config"])
    return str(run.get("command") or "")
