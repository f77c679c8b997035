"""Plugin discovery and the registry of datasets, models and metrics.

Built-in plugins are found through entry points in group ``gpbench``, exactly like third-party
ones. ``GPBENCH_PLUGINS`` (comma-separated entry-point or distribution names) restricts which
entry points load; set it to an empty string to load none. ``GPBENCH_TRACE=1`` logs every hook
call and what it registered.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as md
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from gpbench.api import hookspecs
from gpbench.api.errors import PluginError, UnknownNameError
from gpbench.api.types import DatasetSpec, MetricSpec, ModelSpec

log = logging.getLogger("gpbench.plugins")

ENTRY_POINT_GROUP = "gpbench"
KINDS: dict[str, tuple[str, type]] = {
    "dataset": ("register_datasets", DatasetSpec),
    "model": ("register_models", ModelSpec),
    "metric": ("register_metrics", MetricSpec),
}


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from: its name and, for entry points, the distribution."""

    name: str
    distribution: str | None = None
    version: str | None = None

    def describe(self) -> str:
        if self.distribution:
            return f"plugin {self.name!r} (distribution {self.distribution} {self.version})"
        return f"plugin {self.name!r}"


@dataclass(frozen=True)
class Entry:
    """One registered spec and the plugin that registered it."""

    spec: Any
    plugin: PluginInfo


@dataclass(eq=False)  # hashed by identity, so per-process caches can key on it
class Registry:
    """Everything the loaded plugins registered, by kind and name."""

    entries: dict[str, dict[str, Entry]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    plugins: list[PluginInfo] = field(default_factory=list)
    # how it was built: (modules of the extra plugins, entry points loaded?), so that worker
    # processes can rebuild the same registry; None when an extra plugin is not a module
    origin: tuple[tuple[str, ...], bool] | None = field(default=None, repr=False)

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def entry(self, kind: str, name: str) -> Entry:
        table = self.entries[kind]
        if name in table:
            return table[name]
        folded = {k.lower(): k for k in table}
        if name.lower() in folded:
            return table[folded[name.lower()]]
        raise UnknownNameError(kind, name, table)

    def dataset(self, name: str) -> DatasetSpec:
        return self.entry("dataset", name).spec

    def dataset_with_role(self, role: str) -> str:
        """The name of the dataset that declares ``role`` ("default", "own-files")."""
        names = [n for n in self.names("dataset") if self.dataset(n).role == role]
        if not names:
            what = {"default": "the dataset to run when none is named; name one with "
                    "--dataset", "own-files": "reading your own --geno/--pheno files; "
                    "install gpbench-suite fully or check GPBENCH_PLUGINS"}.get(role, role)
            raise PluginError(f"no installed dataset plugin offers {what}")
        return names[0]

    def model(self, name: str) -> ModelSpec:
        return self.entry("model", name).spec

    def models_with_role(self, board_role: str) -> list[str]:
        """The names of the models that declare ``board_role`` ("reference", "null")."""
        return [n for n in self.names("model") if self.model(n).board_role == board_role]

    def metric(self, name: str) -> MetricSpec:
        return self.entry("metric", name).spec

    def metrics(self) -> list[MetricSpec]:
        return [self.entries["metric"][n].spec for n in self.names("metric")]


def _allowed(env: str | None, ep: md.EntryPoint) -> bool:
    if env is None:
        return True
    allow = {s.strip() for s in env.split(",") if s.strip()}
    dist = ep.dist.name if ep.dist else None
    return ep.name in allow or (dist is not None and dist in allow)


def _entry_points() -> Iterable[md.EntryPoint]:
    return md.entry_points(group=ENTRY_POINT_GROUP)


def get_plugin_manager(
    *,
    load_entrypoints: bool = True,
    extra: Iterable[tuple[str, ModuleType | object]] = (),
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """Build a plugin manager: hook specs, entry-point plugins, then ``extra`` (name, plugin).

    Raises PluginError with the plugin and its distribution named when a plugin fails to import
    or implements a hook wrongly (misspelled hook name, argument not in the spec).
    """
    pm = pluggy.PluginManager("gpbench")
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    candidates: list[tuple[PluginInfo, Callable[[], object]]] = []
    if load_entrypoints:
        env = os.environ.get("GPBENCH_PLUGINS")
        for ep in sorted(_entry_points(), key=lambda e: e.name):
            if not _allowed(env, ep):
                continue
            info = PluginInfo(ep.name, ep.dist.name if ep.dist else None,
                              ep.dist.version if ep.dist else None)
            candidates.append((info, ep.load))
    for name, plugin in extra:
        candidates.append((PluginInfo(name), lambda plugin=plugin: plugin))

    for info, load in candidates:
        if info.name in infos:
            raise PluginError(f"two plugins are named {info.name!r}: {infos[info.name].describe()}"
                              f" and {info.describe()}; rename one entry point")
        try:
            plugin = load()
        except Exception as exc:  # import errors inside third-party code
            raise PluginError(f"{info.describe()} failed to import: {exc!r}. "
                              "Fix or uninstall it, or exclude it with GPBENCH_PLUGINS.") from exc
        try:
            pm.register(plugin, name=info.name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"{info.describe()} is invalid: {exc}. Hooks and their arguments "
                              f"are listed in gpbench.api.hookspecs.") from exc
        infos[info.name] = info
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        bad = getattr(exc, "plugin", None)
        name = pm.get_name(bad) if bad is not None else "?"
        who = infos[name].describe() if name in infos else f"plugin {name!r}"
        raise PluginError(f"{who} implements a hook gpbench does not have: {exc}. "
                          f"Valid hooks: {', '.join(h for h, _ in KINDS.values())}.") from exc
    return pm, infos


def collect(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> Registry:
    """Call every registration hook and gather what each plugin registers."""
    trace = os.environ.get("GPBENCH_TRACE", "") not in ("", "0")
    registry = Registry(plugins=list(infos.values()))
    for kind, (hook_name, spec_type) in KINDS.items():
        hook = getattr(pm.hook, hook_name)
        # registration order, so entry points (built-ins first by name) precede extras
        for impl in hook.get_hookimpls():
            info = infos.get(impl.plugin_name, PluginInfo(impl.plugin_name))
            table = registry.entries[kind]

            def register(spec: Any, _info: PluginInfo = info, _kind: str = kind,
                         _type: type = spec_type, _table: dict = table,
                         _hook: str = hook_name) -> None:
                if not isinstance(spec, _type):
                    raise PluginError(f"{_info.describe()} registered {spec!r} as a {_kind}; "
                                      f"expected a gpbench.{_type.__name__}")
                if not spec.name or not isinstance(spec.name, str):
                    raise PluginError(f"{_info.describe()} registered a {_kind} without a name")
                if spec.name in _table:
                    other = _table[spec.name].plugin
                    raise PluginError(f"{_kind} name {spec.name!r} is registered twice: by "
                                      f"{other.describe()} and by {_info.describe()}. "
                                      "Rename one, or exclude a plugin with GPBENCH_PLUGINS.")
                _table[spec.name] = Entry(spec, _info)
                if trace:
                    print(f"[gpbench trace] {_hook}: {_info.name} registered "
                          f"{_kind} {spec.name!r}", file=sys.stderr)

            kwargs = {"register": register}
            if trace:
                print(f"[gpbench trace] calling {hook_name} of {info.name}", file=sys.stderr)
            try:
                impl.function(*[kwargs[a] for a in impl.argnames])
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(f"{info.describe()} failed in {hook_name}: {exc!r}") from exc
    return registry


def load_registry(extra: Iterable[tuple[str, object]] = (), *,
                  load_entrypoints: bool = True) -> Registry:
    """Discover plugins and return their registry (the one call most code needs)."""
    import types

    extra = list(extra)
    pm, infos = get_plugin_manager(load_entrypoints=load_entrypoints, extra=extra)
    registry = collect(pm, infos)
    if all(isinstance(obj, types.ModuleType) for _, obj in extra):
        registry.origin = (tuple(obj.__name__ for _, obj in extra), load_entrypoints)
    return registry


def _defining_module(obj: Any) -> str | None:
    for candidate in (obj, getattr(obj, "func", None), type(obj)):
        name = getattr(candidate, "__module__", None)
        if name and name != "builtins" and name in sys.modules:
            return name
    return None


@functools.lru_cache(maxsize=64)
def _source_sha256(where: str) -> str:
    path = Path(where)
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for f in files:
        if "__pycache__" in f.parts:
            continue
        digest.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        digest.update(b"\0")
        digest.update(f.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def code_sha256(obj: Any) -> str:
    """sha256 of the source of the plugin package that defines ``obj`` (e.g. a model factory):
    every ``.py`` file under its top-level package's directory, or the one file of a top-level
    module. Cached per process. "" when the source cannot be found (a module built at run time)."""
    name = _defining_module(obj)
    if name is None:
        return ""
    module = sys.modules[name]
    package = (module.__package__ or "").split(".")[0]  # the whole distribution's package
    if package and package in sys.modules:
        module = sys.modules[package]
    file = getattr(module, "__file__", None)
    if not file:
        return ""
    path = Path(file)
    where = path.parent if path.name == "__init__.py" else path
    try:
        return _source_sha256(str(where))
    except OSError:
        return ""


def hook_docs() -> dict[str, str]:
    """Hook name -> its docstring (used by docs and the test that every hook is documented)."""
    return {name: inspect.getdoc(getattr(hookspecs, name)) or ""
            for name, _ in KINDS.values()}
