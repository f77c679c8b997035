"""Model families for the site's filters: the ``family`` each model's plugin declares
(``ModelSpec.family``), "other" for a model that declares none or is not installed here."""

from __future__ import annotations

import functools

FAMILIES = ("linear", "kernel", "bayesian", "trees", "neural", "ensemble")
OTHER = "other"
ORDER = (*FAMILIES, OTHER)
COLORS = {"linear": "#2457a6", "kernel": "#7b3fa0", "bayesian": "#1b8a5a", "trees": "#b8651b",
          "neural": "#c23b4e", "ensemble": "#4a6d7c", OTHER: "#7a7a7a"}


@functools.cache
def _declared() -> dict[str, str]:
    from gpbench.plugins import load_registry

    registry = load_registry()
    return {name: registry.model(name).family for name in registry.names("model")}


def family(model: str) -> str:
    """The family of ``model`` (its registered name; a label such as ``"ridge (fast)"`` is
    read by its first word)."""
    name = str(model).split(" (")[0].strip().lower()
    declared = _declared().get(name, "")
    return declared if declared in FAMILIES else OTHER


def color(model: str) -> str:
    return COLORS[family(model)]
