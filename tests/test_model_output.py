"""What a model returns and how it fails: conversions, clear errors naming the plugin."""

from __future__ import annotations

import numpy as np
import pytest

from gpbench import ModelContext, ModelSpec
from gpbench.running.fitting import (
    ModelOutputError,
    _check_predictions,
    describe_error,
    fit_predict,
)
from gpbench.storage.records import ResultStore
from tests.helpers import run

WHO = "model 'm' of plugin 'p' (distribution dist 1.0)"


@pytest.mark.parametrize("pred", [[1.0, 2.0, 3.0], np.array([1.0, 2.0, 3.0]),
                                  np.array([[1.0], [2.0], [3.0]]), (1, 2, 3)])
def test_single_trait_accepts_a_list_or_a_1d_array(pred):
    out = _check_predictions(pred, 3, 1, WHO)
    assert out.shape == (3, 1) and out.dtype == np.float64
    assert out[:, 0].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("pred,match", [
    (np.ones((1, 3)), r"shape \(1, 3\), expected \(3, 1\).*or a 1-D array of length 3"),
    (np.ones(2), r"shape \(2, 1\), expected \(3, 1\)"),
    ([[1.0], [1.0, 2.0]], "not a numeric"),
    (["a", "b", "c"], "not a numeric"),
    (np.array([1.0, np.nan, 2.0]), "1 NaN/inf"),
])
def test_wrong_predictions_name_the_plugin_and_its_distribution(pred, match):
    with pytest.raises(ModelOutputError, match=match) as info:
        _check_predictions(pred, 3, 1, WHO)
    assert str(info.value).startswith(WHO)


def test_a_multi_trait_model_must_return_a_matrix():
    with pytest.raises(ModelOutputError, match=r"expected \(3, 2\)"):
        _check_predictions(np.ones(6), 3, 2, WHO)


class _Fails:
    def __init__(self, options, context):
        pass

    def fit(self, X, Y, valid=None):
        raise ValueError("singular matrix")


def test_an_exception_in_fit_keeps_its_type_and_is_blamed_on_the_model():
    X = np.random.default_rng(0).integers(0, 2, size=(10, 4)).astype(np.int8)
    rows = np.arange(10) < 7
    with pytest.raises(ValueError) as info:  # same type: tuning still catches ValueError
        fit_predict(ModelSpec("m", _Fails), {}, ModelContext(), X, np.ones((10, 1)), rows,
                    None, ~rows, WHO)
    assert describe_error(info.value) == f"{WHO} failed in fit: ValueError: singular matrix"


@pytest.mark.parametrize("output", ["list", "1d"])
def test_a_plugin_returning_a_list_or_1d_array_runs(registry, tmp_path, output):
    summary = run(registry, tmp_path, ["probe"], traits=["A"],
                  model_options={"probe": {"output": output}})
    assert summary.done == 5 and not summary.failed


def test_errors_of_a_run_name_the_plugin_on_the_console_and_the_leaderboard(
        registry, tmp_path, capsys):
    from gpbench.cli import main

    summary = run(registry, tmp_path, ["probe", "probe-mt"], traits=["A", "B"],
                  model_options={"probe": {"raises": True}, "probe-mt": {"output": "1d"}})
    assert len(summary.failed) == 15
    errors = {f["model"]: f["error"] for f in summary.failed}
    assert errors["probe"] == ("model 'probe' of plugin 'tests.plugins.probe' failed in fit: "
                               "ValueError: this model fails in fit on purpose")
    assert errors["probe-mt"].startswith("ModelOutputError: model 'probe-mt' of plugin "
                                         "'tests.plugins.probe': predict returned shape")
    board = summary.leaderboard.read_text()
    assert "of plugin 'tests.plugins.probe' failed in fit: ValueError" in board
    for rec in ResultStore(summary.run_dir).records():
        assert rec["status"] == "failed"
    assert main(["leaderboard", str(summary.run_dir), "--print"]) == 0
    assert "plugin 'tests.plugins.probe'" in capsys.readouterr().out
