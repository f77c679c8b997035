"""The protocol as seen by models: what they are shown, resume, failures, NaN handling."""

import json

import numpy as np
import pytest

from gpbench import DataConfig
from gpbench.running.protocol import FoldPlan
from gpbench.storage.records import ResultStore
from tests.helpers import run, unpack
from tests.plugins import spy


def _test_samples(summary, repeat=0):
    plan = next((summary.run_dir / "folds").glob("*.csv"))
    folds = FoldPlan.load(plan, 5, 0)
    return {f: set(np.flatnonzero(folds.test_mask(repeat, f))) for f in range(5)}


@pytest.mark.parametrize("model", ["spy", "spy-val", "spy-mt"])
def test_test_fold_never_reaches_fit_or_validation(registry, tmp_path, model):
    summary = run(registry, tmp_path, [model], traits=["A", "B"])
    assert not summary.failed
    tests = _test_samples(summary)
    records = ResultStore(summary.run_dir).records()
    assert len(spy.SEEN) == len(records) > 0
    for event in spy.SEEN:
        fold = next(f for f, s in tests.items() if set(event["predict"]) == s)
        assert not set(event["fit"]) & tests[fold]
        assert not set(event["valid"]) & tests[fold]
        assert set(event["fit"]).isdisjoint(event["valid"])


def test_tuning_never_sees_the_test_fold(registry, tmp_path):
    from gpbench.running.units import TuneConfig

    summary = run(registry, tmp_path, ["spy-val"], traits=["A"], tune=TuneConfig(4))
    assert not summary.failed
    tests = _test_samples(summary)
    final_events = [e for e in spy.SEEN if "predict" in e and set(e["predict"]) in
                    tests.values()]
    assert len(final_events) == 5
    assert len(spy.SEEN) == 5 * (4 + 1)  # 4 trials + 1 refit per fold
    test_union = set().union(*tests.values())
    for event in spy.SEEN:
        if event in final_events:
            continue
        fold_tests = [s for s in tests.values() if not (set(event["fit"]) | set(
            event["valid"]) | set(event["predict"])) & s]
        assert fold_tests, "a tuning trial saw samples of every test fold"
    rec = ResultStore(summary.run_dir).records()[0]
    assert rec["tuning"]["n_complete"] == 4 and "alpha" in rec["tuning"]["best_params"]
    assert test_union


def test_tuning_refits_with_the_options_the_search_space_returned(registry, tmp_path):
    from gpbench.running.units import TuneConfig

    summary = run(registry, tmp_path, ["spy"], traits=["A"], tune=TuneConfig(3))
    for rec in ResultStore(summary.run_dir).records():
        t = rec["tuning"]
        assert t["metric"] == "r2"  # the leaderboard's metric by default
        assert t["best_params"]["alpha"] == pytest.approx(10 ** t["optuna_params"]["log_alpha"])
        assert rec["used_options"]["alpha"] == t["best_params"]["alpha"]
        assert any(e["options"]["alpha"] == t["best_params"]["alpha"] for e in spy.SEEN)


@pytest.mark.parametrize("model", ["ridge", "mean"])
def test_a_model_without_search_space_runs_once_untuned_with_a_note(registry, tmp_path, model):
    from gpbench.running.units import TuneConfig

    summary = run(registry, tmp_path, [model], dataset="sim", traits=["trait1"],
                  dataset_options={"n_strains": "60", "n_markers": "50"}, k=2,
                  tune=TuneConfig(3))
    assert not summary.failed
    for rec in ResultStore(summary.run_dir).records():
        assert "tuning" not in rec and "no search space" in rec["tuning_note"]
    board = summary.leaderboard.read_text()
    assert "## Notes" in board and "no search space" in board


def test_tuning_with_too_few_scoring_rows_says_so(registry, tmp_path):
    from gpbench.running.units import TuneConfig

    # 12 strains in 4 folds: 9 training rows, of which the inner split keeps about 2 to score
    summary = run(registry, tmp_path, ["spy"], dataset="sim",
                  traits=["trait1"], dataset_options={"n_strains": "12", "n_markers": "30"},
                  k=4, tune=TuneConfig(2))
    errors = [r["error"] for r in summary.failed]
    assert errors and all("measured rows to score tuning trials, 3 needed" in e
                          for e in errors)
    assert all(len(e.splitlines()) == 1 for e in errors)


def test_an_inner_split_too_small_to_early_stop_on_says_so(registry, tmp_path):
    # 10 strains in 5 folds: 8 training rows, of which the inner split keeps about 1.6
    summary = run(registry, tmp_path, ["spy-val"], dataset="sim", traits=["trait1"],
                  dataset_options={"n_strains": "10", "n_markers": "30"}, k=5)
    errors = [r["error"] for r in summary.failed]
    assert errors and all("needs at least 2: use fewer --folds" in e for e in errors)


def test_a_multi_trait_unit_whose_fit_rows_miss_a_trait_says_so(registry, tmp_path):
    from gpbench.running.protocol import inner_validation_mask, make_folds

    # trait B measured only on fold 0's inner validation samples (which every other test fold
    # holds some of) and on two of fold 0's test samples: fold 0 has no B to fit on
    ids = np.array([f"s{i}" for i in range(200)])
    test0 = make_folds(list(ids), 5, seed=0).test_mask(0, 0)
    inner = np.zeros(200, bool)
    inner[~test0] = inner_validation_mask(ids[~test0], 0, 0, 0)
    b = sorted(np.flatnonzero(inner).tolist() + np.flatnonzero(test0)[:2].tolist())
    summary = run(registry, tmp_path, ["spy-mt"], traits=["A", "B"],
                  dataset_options={"n": "200", "b_measured": ",".join(map(str, b))})
    failed = {r["fold"]: r["error"] for r in summary.failed}
    assert list(failed) == [0]
    assert "trait(s) B have no measured value among the training samples of fold 0" in failed[0]


def test_a_trait_constant_in_the_training_rows_says_so(registry, tmp_path):
    from gpbench.running.protocol import make_folds

    # a rare binary trait whose 3 cases all fall in fold 0's test fold: fold 0 trains on zeros
    ids = [f"s{i}" for i in range(60)]
    cases = np.flatnonzero(make_folds(ids, 5, seed=0).test_mask(0, 0))[:3]
    summary = run(registry, tmp_path, ["spy", "ridge"], traits=["B"],
                  dataset_options={"b_cases": ",".join(map(str, cases))})
    failed = {(r["model"], r["fold"]): r["error"] for r in summary.failed}
    assert sorted(failed) == [("ridge", 0), ("spy", 0)]
    assert all("trait 'B' takes the one value 0 in all" in e and "drop it from --envs" in e
               for e in failed.values())


def test_unknown_tune_metric_fails_before_running(registry, tmp_path):
    from gpbench.api.errors import GpbenchError
    from gpbench.running.units import TuneConfig

    with pytest.raises(GpbenchError, match="unknown metric 'rr2'"):
        run(registry, tmp_path, ["spy"], traits=["A"], tune=TuneConfig(2, metric="rr2"))
    assert spy.SEEN == []


def test_every_model_gets_identical_folds(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "ridge", "spy-mt"], traits=["A", "B"])
    records = ResultStore(summary.run_dir).records()
    assert len({r["fold_sha256"] for r in records}) == 1
    by_key: dict = {}
    for r in records:
        for trait, p in r["predictions"].items():
            by_key.setdefault((trait, r["fold"]), set()).add(tuple(sorted(p["sample"])))
    assert all(len(v) == 1 for v in by_key.values())


def test_nan_handling(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "spy-mt"], traits=["A", "B"])
    single = [e for e in spy.SEEN if e["n_traits"] == 1]
    multi = [e for e in spy.SEEN if e["n_traits"] == 2]
    assert single and multi
    assert all(e["fit_nan"] == 0 for e in single)  # single-trait: unmeasured strains dropped
    assert any(e["fit_nan"] > 0 for e in multi)  # multi-trait: NaN kept for masking
    ds = registry.dataset("indexed").load(DataConfig(tmp_path))
    for rec in ResultStore(summary.run_dir).records():
        for trait, p in rec["predictions"].items():
            assert not np.isnan(p["y_true"]).any()
            idx = [int(s[1:]) for s in p["sample"]]
            assert ds.traits[trait].iloc[idx].notna().all()


def test_resume_skips_finished_units(registry, tmp_path):
    first = run(registry, tmp_path, ["spy"], traits=["A"])
    assert first.done == 5 and first.skipped == 0
    spy.SEEN.clear()
    second = run(registry, tmp_path, ["spy"], traits=["A"])
    assert second.done == 0 and second.skipped == 5 and spy.SEEN == []


@pytest.mark.parametrize("change,field", [
    ({"model_options": {"spy": {"alpha": 1}}}, "options of spy"),
    ({"k": 3}, "k:"),
    ({"seed": 1}, "seed:"),
    ({"repeats": 2}, "repeats:"),
    ({"tune": "T"}, "tune:"),
    ({"traits": ["A"]}, "traits:"),  # the trait set of a multi-trait model
    ({"dataset_options": {"n": "70"}}, "dataset_options:"),
])
def test_a_changed_configuration_is_refused_before_anything_runs(registry, tmp_path, change,
                                                                   field):
    from gpbench.api.errors import GpbenchError
    from gpbench.running.units import TuneConfig

    run(registry, tmp_path, ["spy", "spy-mt"], traits=["A", "B"])
    before = sorted(p.name for p in (tmp_path / "run").rglob("*"))
    spy.SEEN.clear()
    kwargs = {"traits": ["A", "B"], **change}
    if kwargs.get("tune") == "T":
        kwargs["tune"] = TuneConfig(2)
    with pytest.raises(GpbenchError, match="--out") as exc:
        run(registry, tmp_path, ["spy", "spy-mt"], **kwargs)
    assert field in str(exc.value)
    assert spy.SEEN == [] and sorted(p.name for p in (tmp_path / "run").rglob("*")) == before


def test_adding_a_model_keeps_the_configuration_and_grows_the_unit_list(registry, tmp_path):
    run(registry, tmp_path, ["spy"], traits=["A", "B"])
    summary = run(registry, tmp_path, ["spy-val"], traits=["A", "B"])
    assert summary.done == 10
    stored = json.loads((summary.run_dir / "run.json").read_text())
    assert stored["run_config"]["models"] == ["spy", "spy-val"]
    assert len(stored["units"]) == 20
    board = summary.leaderboard.read_text()
    assert "--models spy,spy-val" in board  # "Reproduce" names every model of the table
    assert "spy-val" in board.split("## A")[1].split("## B")[0]


def test_leaderboard_shows_only_listed_units(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy"], traits=["A"])
    store = ResultStore(summary.run_dir)
    stray = store.records()[0]
    stray.update(unit_id="ghost", model="ghost", config_hash="x")
    store.write(stray)
    from gpbench.boards.publish import write_leaderboard

    board = write_leaderboard(summary.run_dir).read_text()
    assert "ghost" not in board.split("## A")[1].split("R² = 1")[0]
    assert "1 result file(s) in results/ belong to no unit listed in run.json" in board


def _stale_plugin(path, default, comment=""):
    path.write_text(f"""{comment}
import numpy as np
from gpbench import ModelSpec, hookimpl


class Shift:
    def __init__(self, options, context):
        self.shift = options["shift"]

    def fit(self, X, Y, valid=None):
        self.mean = float(np.mean(Y))

    def predict(self, X):
        return np.full((len(X), 1), self.mean + self.shift)


@hookimpl
def register_models(register):
    register(ModelSpec("shifty", Shift, {{"shift": {default}}}))
""")


def _plan_with(tmp_path, module_name):
    import importlib
    import sys

    from gpbench import plugins
    from gpbench.running.plan import RunConfig, execute, plan_run
    from gpbench.running.units import Environment

    plugins._source_sha256.cache_clear()  # a new gpbench process starts with an empty cache
    sys.modules.pop(module_name, None)
    names = ("gpbench_metrics", "tests.plugins.spy", module_name)
    registry = plugins.load_registry([(n, importlib.import_module(n)) for n in names],
                                     load_entrypoints=False)
    config = RunConfig(models=["shifty"], dataset="indexed", traits=["A"], out=tmp_path / "run",
                       cache_dir=tmp_path / "cache", n_threads=1)
    env = Environment(extra_plugins=names, load_entrypoints=False, registry=registry)
    return execute(plan_run(config, registry), env=env)


def test_stale_plugin_defaults_rerun_their_units_and_a_comment_does_not(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    source = tmp_path / "stale_plugin_mod.py"
    _stale_plugin(source, 0.0)
    assert _plan_with(tmp_path, "stale_plugin_mod").done == 5
    assert _plan_with(tmp_path, "stale_plugin_mod").skipped == 5
    _stale_plugin(source, 0.5)  # new default, same version: the old units are stale
    again = _plan_with(tmp_path, "stale_plugin_mod")
    assert again.done == 5 and again.skipped == 0
    records = ResultStore(again.run_dir).records()
    listed = set(json.loads((again.run_dir / "run.json").read_text())["units"])
    assert {r["used_options"]["shift"] for r in records if r["unit_id"] in listed} == {0.5}
    assert "5 result file(s)" in again.leaderboard.read_text()
    # same defaults and version, other code (a comment): keys by declared versions reuse all
    _stale_plugin(source, 0.5, comment="# same defaults, other code")
    assert _plan_with(tmp_path, "stale_plugin_mod").skipped == 5


def test_cpu_and_cuda_units_have_different_keys(registry, tmp_path):
    from gpbench.running.plan import RunConfig, plan_run

    def plan(device, out):
        return plan_run(RunConfig(models=["spy-gpu", "spy"], dataset="indexed", traits=["A"],
                                  out=tmp_path / out, cache_dir=tmp_path / "c", device=device),
                        registry)

    cpu, cuda = plan("cpu", "a"), plan("cuda", "b")
    gpu_units = [(a, b) for a, b in zip(cpu.units, cuda.units, strict=True)
                 if a.model == "spy-gpu"]
    assert all(a.unit_id != b.unit_id for a, b in gpu_units)
    assert gpu_units[0][0].options["profile"] == "small"
    assert gpu_units[0][1].options["profile"] == "big"
    assert gpu_units[0][1].device_kind == "cuda"
    cpu_only = [(a, b) for a, b in zip(cpu.units, cuda.units, strict=True) if a.model == "spy"]
    assert all(a.unit_id == b.unit_id for a, b in cpu_only)  # the device does not matter there
    from gpbench.api.errors import GpbenchError

    run(registry, tmp_path, ["spy-gpu"], traits=["A"], device="cpu")
    with pytest.raises(GpbenchError, match="device"):
        run(registry, tmp_path, ["spy-gpu"], traits=["A"], device="cuda")


def test_transformer_profile_auto_resolves_by_device():
    pytest.importorskip("torch")
    from gpbench import ModelContext
    from gpbench_transformer import OPTIONS, effective_options

    on_cpu = effective_options(dict(OPTIONS), ModelContext(device="cpu"))
    on_cuda = effective_options(dict(OPTIONS), ModelContext(device="cuda"))
    assert on_cpu["profile"] == "fast" and on_cuda["profile"] == "paper"
    assert on_cpu["window"] != on_cuda["window"]


def test_failure_is_isolated_and_recorded(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                  model_options={"spy-val": {"fail": True}})
    assert summary.done == 5 and len(summary.failed) == 5
    failed = summary.failed[0]
    assert "boom on purpose" in failed["error"] and "Traceback" in failed["traceback"]
    board = summary.leaderboard.read_text()
    assert "Failed units" in board and "spy-val" in board
    # failed units are retried on the next run (the same configuration)
    spy.SEEN.clear()
    again = run(registry, tmp_path, ["spy", "spy-val"], traits=["A"],
                model_options={"spy-val": {"fail": True}})
    assert again.skipped == 5 and len(again.failed) == 5 and len(spy.SEEN) == 5


@pytest.mark.parametrize("bad,message", [("shape", "shape"), ("nan", "NaN")])
def test_bad_predictions_fail_with_a_clear_message(registry, tmp_path, bad, message):
    summary = run(registry, tmp_path, ["spy"], traits=["A"],
                  model_options={"spy": {"bad": bad}})
    assert len(summary.failed) == 5
    assert message in summary.failed[0]["error"] and "'spy'" in summary.failed[0]["error"]


def test_record_schema(registry, tmp_path):
    summary = run(registry, tmp_path, ["spy"], traits=["A"])
    rec = ResultStore(summary.run_dir).records()[0]
    for key in ("schema", "model_version", "protocol_version", "dataset_version", "unit_id",
                "config_hash", "fold_sha256", "metrics", "predictions",
                "timing", "versions", "dataset_checksum", "status"):
        assert key in rec
    assert set(rec["metrics"]["A"]) >= {"r2", "pcc", "mse", "n_test", "n_train"}
    assert (summary.run_dir / "run.json").exists()
    # the resolved options, not {} for a plugin's defaults; the rows each fit used
    assert rec["used_options"] == {"alpha": 0.0, "fail": False, "bad": "", "sleep": 0,
                                   "crash": False}
    assert rec["n_fit"] == len(spy.SEEN[rec["fold"]]["fit"]) and rec["n_valid"] == 0
    assert rec["plugin"]["code_sha256"] and rec["device_kind"] == "cpu"


def test_unknown_model_option_is_rejected_before_running(registry, tmp_path):
    from gpbench.api.errors import GpbenchError

    with pytest.raises(GpbenchError, match="no option"):
        run(registry, tmp_path, ["spy"], traits=["A"], model_options={"spy": {"nope": 1}})


def test_run_directory_lock_refuses_a_second_writer(tmp_path):
    from gpbench.storage.records import RunLockedError

    store = ResultStore(tmp_path)
    with store.lock():
        with pytest.raises(RunLockedError, match="another gpbench run"):
            with ResultStore(tmp_path).lock():
                pass


def test_tuning_trials_shared_by_several_processes(registry, tmp_path):
    from gpbench.running.units import TuneConfig

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    summary = run(registry, tmp_path, ["spy"], traits=["A"], k=2,
                  tune=TuneConfig(4, storage, jobs=2))
    assert not summary.failed
    import optuna

    names = optuna.get_all_study_names(storage)
    assert len(names) == 2  # one study per unit (2 folds)
    for name in names:
        study = optuna.load_study(study_name=name, storage=storage)
        assert len(study.trials) == 4


@pytest.mark.parametrize("content", ["", "{", "{}", '{"unit_id": 1}'])
def test_a_corrupt_results_file_is_named_and_its_unit_rerun(registry, tmp_path, content):
    first = run(registry, tmp_path, ["spy"], traits=["A"])
    unpack(first.run_dir)  # as the journal stands while a run goes
    victim = sorted((first.run_dir / "results").glob("*.json"))[2]
    victim.write_text(content)
    board = (first.run_dir / "leaderboard.md")
    from gpbench.boards.publish import write_leaderboard

    assert victim.name in write_leaderboard(first.run_dir).read_text()
    again = run(registry, tmp_path, ["spy"], traits=["A"])
    assert again.done == 1 and again.skipped == 4
    assert ResultStore(first.run_dir).read(victim.stem)["status"] == "ok"
    assert "Unreadable records" not in board.read_text()


def test_a_search_space_that_suggests_nothing_is_not_tuned():
    from gpbench import ModelSpec
    from gpbench.running.tuning import is_tunable

    def spec(space):
        return ModelSpec("m", lambda o, c: None, search_space=space)

    assert not is_tunable(spec(None)) and not is_tunable(spec(lambda trial: {}))
    assert is_tunable(spec(lambda trial: {"a": trial.suggest_float("a", 0, 1)}))


def test_a_directory_of_an_older_gpbench_with_results_is_refused(registry, tmp_path):
    from gpbench.api.errors import GpbenchError

    first = run(registry, tmp_path, ["spy"], traits=["A"])
    stored = json.loads((first.run_dir / "run.json").read_text())
    stored.pop("run_config")
    (first.run_dir / "run.json").write_text(json.dumps(stored))
    with pytest.raises(GpbenchError, match="older gpbench.*--out"):
        run(registry, tmp_path, ["spy"], traits=["A"])


_ENSEMBLE_PLUGIN = """
import numpy as np
from gpbench import ModelSpec, hookimpl


class Ensemble:
    def __init__(self, options, context):
        self.base = context.get_model(options["base"]).build({}, context)

    def fit(self, X, Y, valid=None):
        self.base.fit(X, Y)

    def predict(self, X):
        return self.base.predict(X)


@hookimpl
def register_models(register):
    register(ModelSpec("ensemble", Ensemble, {"base": "shifty"},
                       uses_models=lambda options: [options["base"]]))
    register(ModelSpec("undeclared", Ensemble, {"base": "shifty"}))
"""


def test_an_ensemble_is_keyed_on_the_models_it_builds(tmp_path, monkeypatch):
    import importlib
    import sys

    from gpbench import plugins
    from gpbench.running.plan import RunConfig, plan_run

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "ensemble_plugin_mod.py").write_text(_ENSEMBLE_PLUGIN)
    base_source = tmp_path / "ensemble_base_mod.py"

    def unit_ids():
        plugins._source_sha256.cache_clear()
        sys.modules.pop("ensemble_base_mod", None)
        names = ("gpbench_metrics", "tests.plugins.spy", "ensemble_base_mod",
                 "ensemble_plugin_mod")
        registry = plugins.load_registry([(n, importlib.import_module(n)) for n in names],
                                         load_entrypoints=False)
        config = RunConfig(models=["ensemble", "undeclared"], dataset="indexed", traits=["A"],
                           out=tmp_path / "run", cache_dir=tmp_path / "cache", n_threads=1)
        plan = plan_run(config, registry)
        return {m: [u.unit_id for u in plan.units if u.model == m]
                for m in ("ensemble", "undeclared")}

    _stale_plugin(base_source, 0.0)
    before = unit_ids()
    _stale_plugin(base_source, 0.5)  # only the base model's plugin changed
    after = unit_ids()
    assert set(before["ensemble"]).isdisjoint(after["ensemble"])
    # without ``uses_models`` the host cannot know: the keys stay (what the hook is for)
    assert before["undeclared"] == after["undeclared"]


def test_the_stack_declares_its_base_models():
    from gpbench.plugins import load_registry

    spec = load_registry().model("stack")
    assert list(spec.uses_models(spec.options)) == ["gblup", "lasso", "gbm", "bayesb"]
    assert list(spec.uses_models({"base": "ridge, lasso,ridge"})) == ["ridge", "lasso"]
