"""Small helpers shared by tests: run a benchmark in-process on a given registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gpbench.plugins import Registry
from gpbench.running.executors import Executor, InlineExecutor
from gpbench.running.plan import RunConfig, RunSummary, execute, plan_run


def run(registry: Registry, tmp_path: Path, models: list[str], dataset: str = "indexed",
        traits: list[str] | None = None, executor: Executor | None = None,
        **kwargs: Any) -> RunSummary:
    from tests.conftest import TEST_ENV

    if dataset == "indexed":  # column 0 holds sample numbers 0..n-1, so the dosage range
        kwargs.setdefault("maf", 0.0)  # makes every 0/1 marker look rare: no MAF filter here
    config = RunConfig(models=models, dataset=dataset, traits=traits, out=tmp_path / "run",
                       cache_dir=tmp_path / "cache", n_threads=1, **kwargs)
    plan = plan_run(config, registry)
    # in-process by default, so that tests can read what the spy models saw
    return execute(plan, executor=executor or InlineExecutor(), env=TEST_ENV)


def edit_records(run_dir: Path, edit: Any) -> list[dict[str, Any]]:
    """Rewrite a run directory's stored records through ``edit(record) -> record | None``
    (None keeps it unchanged), as a hand edit of the committed files would; returns the
    records as stored afterwards."""
    from gpbench.storage.pack import encode
    from gpbench.storage.records import ResultStore

    store = ResultStore(run_dir)
    records = [edit(dict(r)) or r for r in store.records()]
    store.pack_path.write_bytes(encode(records))
    return records


def unpack(run_dir: Path) -> None:
    """Move a run directory's packed records back into its journal (one JSON file per unit),
    as they stand while a run is going, for tests that edit or remove single records."""
    from gpbench.storage.records import ResultStore

    store = ResultStore(run_dir)
    for rec in store.records():
        store.write(rec)
    store.pack_path.unlink()


def predictions_with_r2(r2: float, n: int = 20, seed: int = 0) -> dict[str, Any]:
    """Stored test predictions whose R² is ``r2`` (to rounding), and their metrics, for tests
    that build records by hand: every board derives its metrics from the predictions."""
    import numpy as np

    from gpbench_metrics import mse, pcc
    from gpbench_metrics import r2 as r2_of

    y = np.linspace(-1.0, 1.0, n)
    noise = np.cos(np.arange(n) * 2.1 + seed)
    noise -= noise.mean()
    pred = y + noise * np.sqrt((1 - r2) * np.sum((y - y.mean()) ** 2) / np.sum(noise ** 2))
    return {"prediction": {"sample": [f"s{i}" for i in range(n)], "y_true": y.tolist(),
                           "y_pred": pred.tolist()},
            "metrics": {"r2": r2_of(y, pred), "pcc": pcc(y, pred), "mse": mse(y, pred),
                        "n_test": n}}
