"""Plugin discovery, validation and the documentation of every hook."""

from __future__ import annotations

import importlib.metadata as md
import types
from pathlib import Path

import numpy as np
import pytest

from gpbench import MetricSpec, ModelSpec, hookimpl
from gpbench.api import hookspecs
from gpbench.api.errors import PluginError, UnknownNameError
from gpbench.plugins import KINDS, hook_docs, load_registry


def _plugin(**hooks):
    return types.SimpleNamespace(**{k: hookimpl(v) for k, v in hooks.items()})


def test_builtins_load_through_entry_points():
    reg = load_registry()
    assert {"yeast", "sim"} <= set(reg.names("dataset"))
    assert {"lasso", "ridge", "gblup", "elasticnet"} <= set(reg.names("model"))
    assert {"r2", "pcc", "mse"} <= set(reg.names("metric"))
    assert reg.entry("model", "lasso").plugin.distribution == "gpbench-suite"


def test_entry_point_of_a_fake_distribution_is_discovered(monkeypatch):
    module = types.ModuleType("fake_gp_plugin")

    @hookimpl
    def register_models(register):
        register(ModelSpec("fake-model", lambda o, c: None))

    module.register_models = register_models
    monkeypatch.setitem(__import__("sys").modules, "fake_gp_plugin", module)

    class FakeDist(md.Distribution):
        def read_text(self, filename):
            if filename == "METADATA":
                return "Metadata-Version: 2.1\nName: fake-dist\nVersion: 9.9\n"
            if filename == "entry_points.txt":
                return "[gpbench]\nfake = fake_gp_plugin\n"
            return None

        def locate_file(self, path):
            return Path(path)

    eps = list(md.entry_points(group="gpbench")) + list(
        FakeDist().entry_points.select(group="gpbench"))
    monkeypatch.setattr("gpbench.plugins._entry_points", lambda: eps)
    reg = load_registry()
    entry = reg.entry("model", "fake-model")
    assert (entry.plugin.name, entry.plugin.distribution, entry.plugin.version) == (
        "fake", "fake-dist", "9.9")
    monkeypatch.setenv("GPBENCH_PLUGINS", "linear,metrics")
    only = load_registry()
    assert "fake-model" not in only.names("model") and "lasso" in only.names("model")
    monkeypatch.setenv("GPBENCH_PLUGINS", "")
    assert load_registry().names("model") == []


def test_hook_with_a_wrong_argument_names_the_plugin():
    def register_models(reg):  # the spec's argument is `register`
        pass

    with pytest.raises(PluginError, match="'bad-arg'.*register_models"):
        load_registry([("bad-arg", _plugin(register_models=register_models))],
                      load_entrypoints=False)


def test_misspelled_hook_is_caught():
    def register_model(register):
        pass

    with pytest.raises(PluginError, match="'typo'.*does not have"):
        load_registry([("typo", _plugin(register_model=register_model))],
                      load_entrypoints=False)


def test_duplicate_names_name_both_plugins():
    def one(register):
        register(MetricSpec("r2", lambda a, b: 0.0))

    import gpbench_metrics

    with pytest.raises(PluginError, match="registered twice.*'metrics'.*'dupe'"):
        load_registry([("metrics", gpbench_metrics), ("dupe", _plugin(register_metrics=one))],
                      load_entrypoints=False)


def test_registering_the_wrong_type_is_explained():
    def bad(register):
        register({"name": "x"})

    with pytest.raises(PluginError, match="expected a gpbench.ModelSpec"):
        load_registry([("bad", _plugin(register_models=bad))], load_entrypoints=False)


def test_a_hook_that_raises_is_reported_with_its_plugin():
    def boom(register):
        raise ValueError("nope")

    with pytest.raises(PluginError, match="'boom' failed in register_datasets"):
        load_registry([("boom", _plugin(register_datasets=boom))], load_entrypoints=False)


def test_implementation_may_take_fewer_arguments():
    calls = []

    def no_args():
        calls.append(1)

    load_registry([("lazy", _plugin(register_models=no_args))], load_entrypoints=False)
    assert calls == [1]


def test_unknown_names_suggest_close_matches():
    reg = load_registry()
    with pytest.raises(UnknownNameError, match="Did you mean 'lasso'"):
        reg.model("laso")
    assert reg.model("LASSO").name == "lasso"


@pytest.mark.parametrize("hook", [h for h, _ in KINDS.values()])
def test_every_hook_is_documented_and_exercised(hook):
    assert hook_docs()[hook].strip(), f"hook {hook} has no docstring"
    page = Path(__file__).parents[1] / "docs" / "plugins" / "index.md"
    assert hook in page.read_text(), f"hook {hook} is not documented in {page}"
    # exercised: a plugin implementing it registers something that the registry returns
    kind = next(k for k, (h, _) in KINDS.items() if h == hook)
    assert load_registry().names(kind)


def test_all_hookspecs_are_known_to_the_registry():
    specs = {n for n in dir(hookspecs) if n.startswith("register_")}
    assert specs == {h for h, _ in KINDS.values()}


def test_trace_logs_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("GPBENCH_TRACE", "1")
    load_registry()
    err = capsys.readouterr().err
    assert "[gpbench trace] register_models: linear registered model 'lasso'" in err


def test_yeast_reference_rows_follow_the_contract_schema():
    from gpbench_yeast import references

    rows = references()
    assert rows
    for row in rows:
        assert set(row) == {"trait", "source", "what", "metric", "value", "protocol",
                            "citation"}
        assert row["metric"] in ("R2", "r") and 0 < float(row["value"]) <= 1
        assert str(row["protocol"]).strip()  # "unknown" when the source does not state it


# ------------------------------------------------------------ option values


def test_every_builtin_models_defaults_and_search_space_pass_the_option_check():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    registry = load_registry()
    assert len(registry.names("model")) >= 15
    for name in registry.names("model"):
        spec = registry.model(name)
        assert spec.normalize_options(dict(spec.options)) == dict(spec.options), name
        if spec.search_space is not None:
            study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
            for _ in range(10):
                spec.check_options(spec.search_space(study.ask()))


@pytest.mark.parametrize("default,good,bad", [
    (0.05, [0.1, 1, 0, np.float32(0.5), np.int64(2)], ["abc", True, None, [0.1], "0.1"]),
    (8, [3, np.int64(4), 3.0], [3.5, "3", True, None, 1e400]),
    (False, [True, False, np.bool_(True)], [0, 1, "true", None]),
    ("grid", ["best", ""], [1, 2.5, None, True, ["grid"]]),
    (None, [None, 1, "x", [1], {"a": 1}, True], []),
    ((1, 2), [[1], (3,), []], ["1,2", 1, {"a": 1}]),
    ({"a": 1}, [{}, {"b": 2}], [[], "a", None]),
])
def test_option_values_must_be_of_the_default_type_family(default, good, bad):
    spec = ModelSpec("m", lambda o, c: None, options={"x": default})
    for value in good:
        spec.check_options({"x": value})
    for value in bad:
        with pytest.raises(ValueError, match=r"^model 'm': option x=.* is not .*\(default "):
            spec.check_options({"x": value})


def test_integral_floats_become_ints_and_option_types_admit_several_types():
    spec = ModelSpec("m", lambda o, c: dict(o), options={"n": 8, "base": "a,b", "r": 0.5},
                     option_types={"base": (str, list)})
    assert spec.normalize_options({"n": 20.0}) == {"n": 20}
    assert type(spec.build({"n": 20.0}, None)["n"]) is int
    assert spec.build({"base": ["a"]}, None)["base"] == ["a"]
    with pytest.raises(ValueError, match=r"option base=3 is not a list or a string "
                       r"\(default 'a,b'\) \(to give a number as text, quote it as JSON: "
                       r"m.base='\"3\"'\)$"):
        spec.check_options({"base": 3})
    with pytest.raises(ValueError, match=r"^model 'm' has no option 'bse'. Did you mean "
                       r"'base'\? Its options: base, n, r$"):
        spec.check_options({"bse": "a"})
    with pytest.raises(ValueError, match=r"has no option 'zzz'. Its options: base, n, r$"):
        spec.check_options({"zzz": 1})
