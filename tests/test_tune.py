"""Hyperparameter search: spaces, resumable SQLite studies, pruning reports from fine-tuning, the config file."""

import json
import time

import pytest

optuna = pytest.importorskip("optuna")

from tunetext.errors import ConfigError  # noqa: E402
from tunetext.methods import get_method_class, list_methods, make_method  # noqa: E402
from tunetext.tune import SearchSpace, best_config, read_config, run_study, save_plots  # noqa: E402


@pytest.mark.parametrize("method", [m for m in list_methods() if get_method_class(m).search_space])
def test_every_default_space_is_valid_and_contains_its_methods_defaults(method):
    space = SearchSpace.for_method(method)
    assert set(space.default_trial()) == set(space.searched)


def test_space_errors_say_what_is_valid():
    with pytest.raises(ConfigError, match=r"tfidf-svm has no hyperparameter 'lr'; valid ones are: C, class_weight"):
        SearchSpace.for_method("tfidf-svm", {"lr": [1e-3]})
    with pytest.raises(ConfigError, match=r"no default search space for 'zeroshot'.*--space FILE.json"):
        SearchSpace.for_method("zeroshot")
    with pytest.raises(ConfigError, match=r"a range is \{\"low\": L, \"high\": H\}"):
        SearchSpace.for_method("tfidf-svm", {"C": {"low": 2, "high": 1}})


def test_overrides_fix_values_and_tuple_choices_come_back_as_tuples():
    space = SearchSpace.for_method("tfidf-svm", {"C": 0.5, "min_df": [1, 2]})
    assert sorted(space.searched) == ["min_df", "ngram_range"]
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    params = space.sample(trial)
    assert params["C"] == 0.5 and isinstance(params["ngram_range"], tuple) and params["min_df"] in (1, 2)
    make_method("tfidf-svm", **params)


@pytest.fixture
def trec(real_slice):
    return real_slice("trec6", "train", 240), real_slice("trec6", "test", 120)


def test_study_runs_defaults_first_resumes_and_writes_a_config_train_reads(trec, tmp_path):
    train, validation = trec
    space = SearchSpace.for_method("tfidf-svm")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = run_study(space, train, validation, trials=3, storage=storage, study_name="s")
    assert study.trials[0].params == {"C": 1.0, "ngram_range": "[1, 2]"}  # the defaults, scored first
    first = [(t.number, t.params, t.value) for t in study.trials]

    study = run_study(space, train, validation, trials=5, storage=storage, study_name="s")  # resumed: 2 more
    assert len(study.trials) == 5 and [(t.number, t.params, t.value) for t in study.trials[:3]] == first
    assert study.best_value >= study.trials[0].value

    config = best_config(study, space)
    (tmp_path / "best.json").write_text(json.dumps(config))
    method, params = read_config(tmp_path / "best.json")
    assert method == "tfidf-svm" and config["tuned"]["finished_trials"] == 5
    make_method(method, **params).fit(train.texts, train.labels)
    assert {p.name for p in save_plots(study, tmp_path)} == {"history.png", "importance.png"}


def test_a_resumed_study_refuses_another_method(trec, tmp_path):
    train, validation = trec
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    run_study(SearchSpace.for_method("tfidf-nb"), train, validation, trials=1, storage=storage, study_name="s")
    with pytest.raises(ConfigError, match="searches .*tfidf-nb.*pass another --study-name"):
        run_study(SearchSpace.for_method("tfidf-svm"), train, validation, trials=2, storage=storage, study_name="s")


def test_a_trial_killed_mid_run_is_retried_and_not_counted(trec, tmp_path, monkeypatch):
    from optuna.storages import RDBStorage
    from optuna.trial import TrialState

    from tunetext.tune import study as study_module

    monkeypatch.setattr(study_module, "HEARTBEAT_SECONDS", 1)
    train, validation = trec
    space = SearchSpace.for_method("tfidf-svm")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    run_study(space, train, validation, trials=2, storage=url, study_name="s")
    # A worker that started trial 2, sent a heartbeat, and was killed (kill -9) before telling its result.
    killed = optuna.load_study(study_name="s", storage=url).ask()
    space.sample(killed)
    RDBStorage(url, heartbeat_interval=1).record_heartbeat(killed._trial_id)
    time.sleep(3.5)  # > the 2 s grace period, with margin for timestamps stored to the second

    study = run_study(space, train, validation, trials=3, storage=url, study_name="s")
    states = [t.state for t in study.trials]
    assert states[2] == TrialState.FAIL and states.count(TrialState.COMPLETE) == 3
    assert study.trials[3].params == study.trials[2].params  # the killed trial's parameters were run again


def test_importance_plot_is_skipped_below_two_finished_trials(trec, tmp_path):
    train, validation = trec
    study = run_study(SearchSpace.for_method("tfidf-nb"), train, validation, trials=1,
                      storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="s")
    assert [p.name for p in save_plots(study, tmp_path)] == ["history.png"]


def test_fine_tuning_reports_each_validation_so_weak_trials_can_be_pruned(tiny_bert_path, real_slice, tmp_path):
    train, validation = real_slice("trec6", "train", 64), real_slice("trec6", "test", 32)
    space = SearchSpace.for_method("finetune", {"model": tiny_bert_path, "epochs": 2, "batch_size": 16,
                                                "precision": "fp32", "freeze_layers": None})
    study = run_study(space, train, validation, trials=2, storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="s")
    for trial in study.trials:  # one report per validation (at least one per epoch), numbered from 0
        steps = sorted(trial.intermediate_values)
        assert len(steps) >= 2 and steps == list(range(len(steps)))
    assert sorted(study.trials[1].params) == ["dropout", "lr", "warmup", "weight_decay"]


def test_cli_tune_then_train_with_the_config(tmp_path):
    from typer.testing import CliRunner

    from tunetext.cli import app
    from tunetext.cli import commands  # noqa: F401  (registers the commands)

    data = "tests/data/trec6-train.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["tune", "-m", "tfidf-nb", "-d", data, "-n", "2", "-o", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert "validation accuracy: best" in result.output
    config = json.loads((tmp_path / "t" / "best.json").read_text())
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "t" / "best.json"), "-d", data,
                                 "-o", str(tmp_path / "m"), "-p", "min_df=2"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["method"] == "tfidf-nb" and metrics["params"]["alpha"] == config["params"]["alpha"]
    assert metrics["params"]["min_df"] == 2  # --param wins over the config

    (tmp_path / "bad.json").write_text(json.dumps({"method": "tfidf-nb", "parms": {}}))
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "bad.json"), "-d", data, "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "unknown keys ['parms']" in result.output
