"""gpbench: a plugin-based benchmarking suite for genomic prediction.

Plugin authors need only what is exported here::

    from gpbench import hookimpl, ModelSpec

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="mine", factory=MyModel, options={"k": 5}))
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from .types import (
    DataConfig,
    Dataset,
    DatasetSpec,
    MetricSpec,
    Model,
    ModelContext,
    ModelSpec,
)

hookimpl = pluggy.HookimplMarker("gpbench")

try:
    __version__ = version("gpbench-suite")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = [
    "DataConfig",
    "Dataset",
    "DatasetSpec",
    "MetricSpec",
    "Model",
    "ModelContext",
    "ModelSpec",
    "hookimpl",
    "__version__",
]
