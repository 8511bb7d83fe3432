"""The Python API behind the CLI (tunetext.api), and errors that name parameters in Python and flags in the CLI."""

import json
import shutil

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from tunetext import api
from tunetext.cli import app, as_flags, parameter_flags
from tunetext.cli import commands  # noqa: F401  (registers the commands)
from tunetext.errors import ConfigError, DataError

DATA = "tests/data/sms-spam-train.csv"


def test_train_merges_the_config_file_under_params_and_writes_metrics(tmp_path):
    config = tmp_path / "best.json"
    config.write_text(json.dumps({"method": "tfidf-nb", "params": {"alpha": 0.5, "min_df": 2}}))
    metrics = api.train(DATA, out=tmp_path / "m", config=config, params={"alpha": 0.1})
    assert metrics["method"] == "tfidf-nb" and metrics["params"]["alpha"] == 0.1 and metrics["params"]["min_df"] == 2
    assert json.loads((tmp_path / "m" / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    assert metrics["data"] == "sms-spam-train" and metrics["accuracy"] > 0.85
    assert api.merge_config(None, None, None) == (api.DEFAULT_METHOD, {})


def test_tune_writes_the_best_config_into_a_default_folder(tmp_path, monkeypatch):
    folder = tmp_path / "spam"
    folder.mkdir()
    frame = pd.read_csv(DATA)
    frame.head(400).to_csv(folder / "train.csv", index=False)  # no validation file: 10% of train becomes one
    frame.tail(100).to_csv(folder / "test.csv", index=False)
    monkeypatch.chdir(tmp_path)
    console = Console(record=True, width=400)
    config = api.tune("tfidf-nb", folder, trials=2, console=console)
    assert config["method"] == "tfidf-nb" and config["tuned"]["finished_trials"] == 2
    out = tmp_path / "tune-tfidf-nb-spam"
    assert json.loads((out / "best.json").read_text()) == json.loads(json.dumps(config)) and (out / "study.db").exists()
    assert "360 train, 40 validation" in console.export_text()


def test_compare_spreads_model_and_dotted_params_over_methods(monkeypatch):
    from tunetext import compare as compare_package

    calls = []
    monkeypatch.setattr(compare_package, "run_comparison", lambda data, **kwargs: calls.append(kwargs) or {})
    api.compare("trec6", methods="tfidf-svm, probe", sizes="16,all", model="m/", params={"probe.C": 2})
    assert calls[0]["methods"] == ["tfidf-svm", "probe"] and calls[0]["budget"].sizes == (16, None)
    assert calls[0]["budget"].few_label_sizes == ()  # the user's sizes, exactly, even on few-label data
    assert calls[0]["params"] == {"probe": {"C": 2, "model": "m/"}}  # tfidf-svm takes no encoder
    with pytest.raises(ConfigError, match=r"parameter 'epochs' names no method; write it as METHOD.epochs"):
        api.compare(params={"epochs": 2})
    with pytest.raises(ConfigError, match=r"sizes='16,many'"):
        api.compare(sizes="16,many")


def test_library_errors_name_parameters_and_the_cli_says_flags(tmp_path):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"text": ["good", "", "bad", "fine"], "stars": ["5", "4", "1", "3"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"Pass label_column='stars'\?"):
        api.train(path, out=tmp_path / "m")
    result = CliRunner().invoke(app, ["train", "-d", str(path), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and "Pass --label-column stars?" in result.output
    with pytest.raises(DataError, match="or pass drop_empty=True to skip"):
        api.train(path, out=tmp_path / "m", label_column="stars")
    result = CliRunner().invoke(app, ["train", "-d", str(path), "-o", str(tmp_path / "m"), "--label-column", "stars"])
    assert result.exit_code == 2 and "or pass --drop-empty to skip" in result.output.replace("\n", " ")


def test_as_flags_renders_values_as_a_shell_would_take_them():
    flags = {"text_column": "--text-column", "overwrite": "--overwrite", "method": "--method"}
    message = "Pass text_column='review text'? or overwrite=True; method=NAME. See data/seed=3/x; lr=0.1."
    assert as_flags(message, flags) == ("Pass --text-column 'review text'? or --overwrite; --method NAME. "
                                        "See data/seed=3/x; lr=0.1.")
    on_off = {"at_least_one": "--at-least-one/--no-at-least-one"}  # a boolean pair says the side the value means
    assert as_flags("at_least_one=False is for ...; at_least_one=True too", on_off) == \
        "--no-at-least-one is for ...; --at-least-one too"


def test_parameter_flags_are_the_commands_own():
    flags = parameter_flags(commands.train.__wrapped__)
    assert flags["text_column"] == "--text-column" and flags["param"] == "--param" and flags["data"] == "--data"
    assert "model_dir" not in parameter_flags(commands.evaluate.__wrapped__)  # an argument, not an option
    assert parameter_flags(commands.predict.__wrapped__)["at_least_one"] == "--at-least-one/--no-at-least-one"


def test_export_reads_parity_texts_from_a_file(tmp_path, monkeypatch):
    from tunetext.export import onnx as exporter

    seen = {}
    monkeypatch.setattr(exporter, "export_onnx", lambda model_dir, **kwargs: seen.update(kwargs) or {})
    shutil.copy(DATA, tmp_path / "texts.csv")
    api.export(tmp_path / "model", data=tmp_path / "texts.csv", sample_size=3, quantize="int8")
    assert seen["quantize"] == "int8" and seen["sample_texts"] == pd.read_csv(DATA)["text"].head(3).tolist()
