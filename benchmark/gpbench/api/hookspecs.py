"""Hook specifications: every extension point of gpbench.

Each hook receives a ``register`` callback; the plugin calls it once per entry. A plugin may
implement any subset of hooks, and an implementation may take fewer arguments than the spec.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from gpbench.api.types import DatasetSpec, MetricSpec, ModelSpec

hookspec = pluggy.HookspecMarker("gpbench")


@hookspec
def register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Register datasets: call ``register(DatasetSpec(...))`` once per dataset."""


@hookspec
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register models: call ``register(ModelSpec(...))`` once per model."""


@hookspec
def register_metrics(register: Callable[[MetricSpec], None]) -> None:
    """Register metrics: call ``register(MetricSpec(...))`` once per metric."""
