"""Model families for the site's filters: each built-in model's kind of method, "other" for
models a plugin adds that are not listed here."""

from __future__ import annotations

FAMILIES: dict[str, tuple[str, ...]] = {
    "linear": ("ridge", "gblup", "lasso", "elasticnet", "mean"),
    "kernel": ("rkhs", "svr"),
    "bayesian": ("brr", "bayesa", "bayesb", "bayesc", "bl"),
    "trees": ("gbm", "xgboost", "rf"),
    "neural": ("transformer", "transformer-mt"),
    "ensemble": ("stack",),
}
OTHER = "other"
ORDER = (*FAMILIES, OTHER)
COLORS = {"linear": "#2457a6", "kernel": "#7b3fa0", "bayesian": "#1b8a5a", "trees": "#b8651b",
          "neural": "#c23b4e", "ensemble": "#4a6d7c", OTHER: "#7a7a7a"}
_BY_MODEL = {m: fam for fam, models in FAMILIES.items() for m in models}


def family(model: str) -> str:
    """The family of ``model`` (its registered name; a label such as ``"ridge (fast)"`` is
    read by its first word)."""
    name = str(model).split(" (")[0].strip().lower()
    return _BY_MODEL.get(name, OTHER)


def color(model: str) -> str:
    return COLORS[family(model)]
