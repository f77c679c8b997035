"""The report (markdown + PNG figures) is drawn from stored records only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from gpbench.boards import plots
from gpbench.boards.report import safe_name, write_report
from gpbench.storage.records import ResultStore

TRAITS = ["Lactate", "Lactose"]
REFS = [
    {"trait": "Lactate", "source": "Bloom et al. 2013", "metric": "R2", "value": 0.84,
     "protocol": "unknown", "what": "broad-sense heritability H² (ceiling for any predictor)"},
    {"trait": "Lactate", "source": "Bloom et al. 2013", "metric": "R2", "value": 0.626,
     "protocol": "unknown", "what": "narrow-sense heritability h² (additive ceiling)"},
    {"trait": "Lactate", "source": "Grinberg et al. 2020", "metric": "R2", "value": 0.568,
     "protocol": "unknown", "what": "best published R² (Lasso / GBM)"},
    {"trait": "Lactose", "source": "Bloom et al. 2013", "metric": "R2", "value": 0.891,
     "protocol": "unknown", "what": "broad-sense heritability H² (ceiling for any predictor)"},
]
RUN = {"dataset": {"name": "toy", "version": "1", "checksum": "c" * 64},
       "config": {"k": 5, "seed": 0, "repeats": 1, "inner_fraction": 0.2},
       "fold_file": "toy.csv", "fold_sha256": "f" * 64, "references": REFS}


def _history(rng: np.random.Generator, n: int = 30) -> dict[str, list]:
    e = np.arange(1, n + 1)
    train = 1 - np.exp(-e / 8)
    valid = 0.6 * (1 - np.exp(-e / 5)) - 0.004 * e
    return {"epoch": e.tolist(),
            "train_pcc": (train * 0.95 + rng.normal(0, 0.01, n)).tolist(),
            "valid_pcc": [None] + (valid[1:] + rng.normal(0, 0.01, n - 1)).tolist(),
            "train_mse": (1.2 - train).tolist(), "valid_mse": (1.1 - valid).tolist()}


def _record(model: str, traits: list[str], fold: int, quality: float,
            rng: np.random.Generator, history: bool = False, ok: bool = True) -> dict:
    n = 40
    rec = {"unit_id": safe_name(model, *traits, str(fold)), "model": model, "traits": traits,
           "repeat": 0, "fold": fold, "status": "ok" if ok else "failed",
           "timing": {"fit_s": 0.5},
           "versions": {"gpbench": "0.1", "plugin": {"name": "p", "version": "1"}}}
    if not ok:
        rec["error"] = "RuntimeError: broke"
        return rec
    rec["metrics"], rec["predictions"] = {}, {}
    for trait in traits:
        y = rng.normal(0, 1, n)
        p = quality * y + rng.normal(0, np.sqrt(1 - quality**2), n)
        r2 = 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
        rec["metrics"][trait] = {"r2": r2, "pcc": float(np.corrcoef(y, p)[0, 1]),
                                 "mse": float(np.mean((y - p) ** 2)), "n_test": n,
                                 "n_train": 4 * n}
        rec["predictions"][trait] = {"sample": [f"s{fold}_{i}" for i in range(n)],
                                     "y_true": y.tolist(), "y_pred": p.tolist()}
    rec["fit_info"] = {"history": _history(rng), "best_epoch": 12} if history else {}
    return rec


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    d = tmp_path_factory.mktemp("run")
    store = ResultStore(d, keep_history=True)  # as `gpbench run --keep-history`
    for fold in range(5):
        for trait in TRAITS:
            store.write(_record("ridge", [trait], fold, 0.75, rng))
            store.write(_record("lasso/l1 (a)", [trait], fold, 0.7, rng))  # needs sanitizing
            store.write(_record("transformer", [trait], fold, 0.65, rng, history=True))
        store.write(_record("mt-transformer", TRAITS, fold, 0.72, rng, history=True))
    store.write(_record("broken", ["Lactate"], 0, 0.0, rng, ok=False))
    (d / "run.json").write_text(json.dumps(RUN))
    return d


@pytest.fixture(scope="module")
def report(run_dir: Path) -> Path:
    return write_report(run_dir)


def _links(md: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)


def test_writes_markdown_and_valid_pngs(run_dir: Path, report: Path):
    assert report == run_dir / "report" / "report.md"
    md = report.read_text()
    assert md.startswith("# Leaderboard")
    assert "## Lactate" in md and "# Plots" in md
    links = _links(md)
    assert links, md
    for link in links:
        assert re.fullmatch(r"[A-Za-z0-9._-]+", link), link
        png = report.parent / link
        assert png.exists(), link
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    # every written PNG is linked from the markdown
    assert {p.name for p in report.parent.glob("*.png")} == set(links)


def test_sections_per_trait_and_model(report: Path):
    md = report.read_text()
    links = _links(md)
    for trait in TRAITS:
        assert f"r2_{trait}.png" in links
        for model in ("ridge", "transformer", "mt-transformer"):
            assert f"scatter_{trait}_{model}.png" in links
    assert "scatter_Lactate_lasso_l1_a.png" in links
    # learning curves only where a history was recorded; one figure per multi-trait model
    curves = [link for link in links if link.startswith("curves_")]
    assert sorted(set(curves)) == ["curves_Lactate_transformer.png",
                                   "curves_Lactose_transformer.png",
                                   "curves_mt-transformer.png"]
    assert curves.count("curves_mt-transformer.png") == 2  # linked from both traits
    assert not any("ridge" in c or "lasso" in c for c in curves)


def test_failed_records_are_ignored(report: Path, run_dir: Path):
    md = report.read_text()
    assert not any("broken" in link for link in _links(md))
    assert "## Failed units" in md  # listed by the leaderboard, never plotted
    recs = ResultStore(run_dir).records()
    fig = plots.leaderboard_chart(recs, "Lactate", REFS)
    try:
        labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
        assert "broken" not in labels and len(labels) == 4
    finally:
        plots.plt.close(fig)


def test_chart_draws_heritability_references(run_dir: Path):
    recs = ResultStore(run_dir).records()
    fig = plots.leaderboard_chart(recs, "Lactate", REFS)
    try:
        lines = plots.reference_lines(fig)
        # H² and h² only: the published best R² is a reference row, not a ceiling
        assert sorted(line.get_ydata()[0] for line in lines) == [0.626, 0.84]
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert any(t.startswith("H² = 0.840") for t in legend)
        assert any(t.startswith("h² = 0.626") for t in legend)
    finally:
        plots.plt.close(fig)
    fig = plots.leaderboard_chart(recs, "Lactose", REFS)
    try:
        assert len(plots.reference_lines(fig)) == 1
    finally:
        plots.plt.close(fig)


def test_learning_curves_none_without_history(run_dir: Path):
    recs = ResultStore(run_dir).records()
    assert plots.learning_curves(recs, "ridge", "Lactate") is None
    assert plots.learning_curves(recs, "broken", "Lactate") is None
    fig = plots.learning_curves(recs, "transformer", "Lactate")
    try:
        assert fig is not None and len(fig.axes) == 2  # PCC and MSE panels
        assert len(fig.axes[0].get_lines()) == 5 * 2 + 5  # train+valid per fold, best marks
    finally:
        plots.plt.close(fig)


def test_learning_curves_other_series_names():
    # e.g. a boosting model: iterations and a single validation loss, no PCC
    rec = {"model": "gbm", "traits": ["T"], "repeat": 0, "fold": 0, "status": "ok",
           "metrics": {"T": {"r2": 0.1}},
           "fit_info": {"history": {"iteration": [1, 2, 3], "valid_l2": [1.0, 0.8, 0.9]},
                        "best_epoch": 2}}
    fig = plots.learning_curves([rec], "gbm", "T")
    try:
        assert fig is not None and len(fig.axes) == 1
        assert fig.axes[0].get_xlabel() == "iteration"
    finally:
        plots.plt.close(fig)


def test_no_figures_left_open(report: Path):
    assert plots.plt.get_fignums() == []


def test_safe_name_and_custom_out_dir(run_dir: Path, tmp_path: Path):
    assert safe_name("scatter", "a b/c", "x²") == "scatter_a_b_c_x"
    out = write_report(run_dir, tmp_path / "elsewhere")
    assert out.parent == tmp_path / "elsewhere" and out.exists()
