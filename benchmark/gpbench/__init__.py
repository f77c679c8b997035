"""gpbench: a plugin-based benchmarking suite for genomic prediction.

Plugin authors need only what is exported here::

    from gpbench import hookimpl, ModelSpec

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="mine", factory=MyModel, options={"k": 5}))
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from gpbench.api.types import (
    DataConfig,
    Dataset,
    DatasetSpec,
    MetricSpec,
    Model,
    ModelContext,
    ModelSpec,
    OutOfFoldModel,
)

hookimpl = pluggy.HookimplMarker("gpbench")

try:
    __version__ = version("gpbench-suite")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

# what dataset loaders and savable models use (imported after __version__: these modules
# import nothing that needs it)
from gpbench.api.errors import DataError, GpbenchError  # noqa: E402
from gpbench.api.modelfiles import read_model_json, write_model_json  # noqa: E402
from gpbench.api.tables import match_ids, numeric_columns, unique_ids  # noqa: E402
from gpbench.data.datasource import (  # noqa: E402
    DatasetDeclaration,
    Parsed,
    RemoteFile,
    aggregate_mean,
    join_by_id,
    load_declared,
    read_r,
    trial_records,
)

__all__ = [
    "DataError",
    "DatasetDeclaration",
    "GpbenchError",
    "Parsed",
    "RemoteFile",
    "aggregate_mean",
    "join_by_id",
    "load_declared",
    "match_ids",
    "numeric_columns",
    "read_model_json",
    "read_r",
    "trial_records",
    "unique_ids",
    "write_model_json",
    "DataConfig",
    "Dataset",
    "DatasetSpec",
    "MetricSpec",
    "Model",
    "ModelContext",
    "ModelSpec",
    "OutOfFoldModel",
    "hookimpl",
    "__version__",
]
