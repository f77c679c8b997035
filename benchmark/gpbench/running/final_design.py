"""Design effects of a final fit (``gpbench predict``): estimated on every training individual
as inside a CV fold (:mod:`gpbench.running.design`), stored with the model and applied to new
individuals.

- **Covariates**: the model is fitted on the target minus the covariate part, so its
  predictions lack it; the covariate effects estimated on the training individuals are added
  back from the new individuals' own covariate values, which must be given (a new individual
  without them cannot be predicted on the scale of the phenotype).
- **Trials**: training targets are the individuals' effects from ``value ~ individual + trial``
  over all training records; the predictions of such a trait are individual (genetic + line)
  effects, free of the trial effects, with trial effects summing to zero within each connected
  group of trials (what a new individual would average over those trials).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gpbench.api.errors import GpbenchError
from gpbench.running.design import CodedColumn, DesignFit, coded_matrix

log = logging.getLogger("gpbench.predict")

HOW = "--new-covariates FILE (a CSV: the id column, then {columns}) or covariates= in Python"


@dataclass(frozen=True)
class FinalDesign:
    """What predicting new individuals needs of the design effects of a final fit.

    Attributes:
        coding: how the covariates were coded from the training individuals.
        effects: per trait, the covariate effects (one per coded column; the intercept is the
            model's), estimated on the training individuals; a trait without estimates is not
            listed and gets no covariate part.
        trials: the traits whose targets were trial-adjusted: their predictions are
            individual effects.
        key: what :func:`gpbench.running.design.design_key` says of the design (covariate
            names and table hash, schemes), kept for provenance.
    """

    coding: tuple[CodedColumn, ...] = ()
    effects: dict[str, tuple[float, ...]] = field(default_factory=dict)
    trials: tuple[str, ...] = ()
    key: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, fit: DesignFit, key: dict[str, Any]) -> FinalDesign:
        """The parts of ``fit`` (the design of every training individual) predictions need."""
        names = [c.name for c in fit.coding]
        effects = {trait: tuple(float(est["effects"][n]) for n in names)
                   for trait, est in (fit.summary.get("covariates") or {}).items()
                   if names}
        return cls(fit.coding, effects, tuple(fit.summary.get("trials") or ()), dict(key))

    @property
    def covariates(self) -> list[str]:
        """The covariate columns new individuals need (in the training table's order)."""
        return list(dict.fromkeys(c.covariate for c in self.coding))

    def covariate_part(self, traits: Sequence[str], ids: Sequence[str],
                       covariates: pd.DataFrame | None,
                       source: str = "the new covariates") -> np.ndarray | None:
        """``(n, t)`` covariate part of ``traits`` for the individuals ``ids`` from their rows
        of ``covariates`` (indexed by id), or None when the model has no covariate effects.
        Raises GpbenchError in one line when the table, a column or an individual's row is
        missing; a missing value takes the training mean (or level frequencies), as in CV."""
        if not self.effects:
            return None
        need = self.covariates
        how = HOW.format(columns=", ".join(need))
        if covariates is None:
            raise GpbenchError(f"the model adds back the effects of covariate(s) "
                               f"{', '.join(need)} fitted in training; give the new "
                               f"individuals' values with {how}")
        index = pd.Index([str(i) for i in covariates.index])
        lacking = [c for c in need if c not in covariates.columns]
        if lacking:
            raise GpbenchError(f"{source} has no column {lacking[0]!r} (its columns: "
                               f"{list(covariates.columns)[:15]}); give {how}")
        present = set(index)
        absent = [str(i) for i in ids if str(i) not in present]
        if absent:
            raise GpbenchError(f"{source} has no row for {len(absent)} of the {len(ids)} new "
                               f"individuals (e.g. {absent[:3]}); add their {', '.join(need)} "
                               "values, by id")
        table = covariates.set_axis(index).loc[[str(i) for i in ids], need]
        blank = int(table.isna().to_numpy().sum())
        if blank:
            log.warning("%d missing covariate value(s) in %s take the training mean (numeric) "
                        "or level frequencies, as in CV", blank, source)
        try:
            Z = coded_matrix(table, self.coding)
        except (ValueError, TypeError) as exc:
            raise GpbenchError(f"{source}: a numeric covariate holds text ({exc}); give "
                               "numbers, as in the training data") from None
        part = np.zeros((len(ids), len(traits)))
        for j, trait in enumerate(traits):
            if trait in self.effects:
                part[:, j] = Z @ np.asarray(self.effects[trait], dtype=np.float64)
        return part

    def to_dict(self) -> dict[str, Any]:
        return {"coding": [c.to_dict() for c in self.coding],
                "effects": {t: list(e) for t, e in self.effects.items()},
                "trials": list(self.trials), "key": self.key}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FinalDesign:
        return cls(tuple(CodedColumn.from_dict(c) for c in d.get("coding") or ()),
                   {str(t): tuple(float(v) for v in e) for t, e in
                    (d.get("effects") or {}).items()},
                   tuple(str(t) for t in d.get("trials") or ()), dict(d.get("key") or {}))


__all__ = ["FinalDesign"]
