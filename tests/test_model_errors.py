"""Issue 12 items 10 and 12: a damaged model folder gives one message naming the file and the fix; every file
a saved model folder holds gets the user's umask mode; `backend="auto"` falls back from a broken ONNX export."""

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from tunetext.cli import app
from tunetext.cli import commands  # noqa: F401  (registers the commands)
from tunetext.errors import ModelError
from tunetext.export import OnnxClassifier, export_onnx
from tunetext.io import _UMASK
from tunetext.methods import Method, make_method
from tunetext.prediction import load_predictor

TEXTS = ["good film", "great acting", "bad plot", "awful ending", "fine cast", "poor script"] * 4
LABELS = ["pos", "pos", "neg", "neg", "pos", "neg"] * 4


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, tiny_bert_path):
    """A tiny fine-tuned model with an fp32 ONNX export: copy it before damaging it."""
    path = tmp_path_factory.mktemp("errors") / "model"
    make_method("finetune", model=tiny_bert_path, epochs=1, batch_size=8, precision="fp32", max_length=16).fit(
        TEXTS, LABELS).save(path)
    export_onnx(path)
    return path


@pytest.fixture
def model(tiny_model, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model, copy)
    return copy


def truncate(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_every_file_of_a_saved_model_gets_the_umask_mode(tiny_model):
    modes = {str(p.relative_to(tiny_model)): p.stat().st_mode & 0o777 for p in tiny_model.rglob("*")}
    expected = {name: 0o777 & ~_UMASK if (tiny_model / name).is_dir() else 0o666 & ~_UMASK for name in modes}
    assert "model.safetensors" in modes and "onnx/model.onnx" in modes and modes == expected


@pytest.mark.parametrize("content, problem", [
    ('{"method": "finetune", "par', r"tunetext.json is not valid JSON \(Unterminated string"),
    ('["finetune"]', r"tunetext.json lacks method, params, classes\."),
    ('{"method": "finetune"}', r"tunetext.json lacks params, classes\."),
])
def test_a_damaged_metadata_file_is_named_with_the_fix(model, content, problem):
    (model / "tunetext.json").write_text(content)
    with pytest.raises(ModelError, match=problem + r".*copy it again from where it was trained, or retrain"):
        Method.load(model)


def test_truncated_weights_are_named(model):
    truncate(model / "model.safetensors")
    with pytest.raises(ModelError, match=r"model/model.safetensors is damaged or truncated \(.*incomplete metadata"):
        Method.load(model)


def test_any_other_damaged_file_names_the_folder(model):
    (model / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"model could not be loaded: \w+Error: .*The model folder is damaged"):
        Method.load(model)


@pytest.mark.parametrize("damage, problem", [
    (lambda onnx: truncate(onnx / "model.onnx"), r"model.onnx is not a readable ONNX model \(InvalidProtobuf"),
    (lambda onnx: (onnx / "model.onnx").unlink(), r"model.onnx is missing from the export"),
    (lambda onnx: (onnx / "export.json").write_text("{}"), r"export.json is damaged \(KeyError: 'model'\)"),
    (lambda onnx: (onnx / "export.json").write_text("{oops"), r"export.json is damaged \(JSONDecodeError"),
])
def test_a_broken_export_errors_for_onnx_and_falls_back_for_auto(model, damage, problem):
    damage(model / "onnx")
    fix = r"Recreate the export with `tunetext export .*model --onnx`, or use --backend torch\."
    with pytest.raises(ModelError, match=problem + ".*" + fix):
        load_predictor(model, "onnx")
    with pytest.warns(UserWarning, match=problem + r".*Using the saved method instead"):
        predictor = load_predictor(model)
    assert isinstance(predictor, Method) and not isinstance(predictor, OnnxClassifier)
    assert predictor.predict_proba(["good film"]).shape == (1, 2)


def test_cli_shows_one_red_line_not_a_traceback(model, tmp_path):
    texts = tmp_path / "texts.csv"
    texts.write_text("text\ngood film\n")
    (model / "tunetext.json").write_text("{")
    result = CliRunner().invoke(app, ["predict", str(model), "--data", str(texts), "--out", str(tmp_path / "o.csv"),
                                      "--backend", "torch"], env={"COLUMNS": "1000"})
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"error: {model / 'tunetext.json'} is not valid JSON")


def test_cli_predict_falls_back_from_a_broken_export(model, tmp_path):
    texts = tmp_path / "texts.csv"
    texts.write_text("text\ngood film\nbad plot\n")
    truncate(model / "onnx" / "model.onnx")
    with pytest.warns(UserWarning, match="not a readable ONNX model"):
        result = CliRunner().invoke(app, ["predict", str(model), "--data", str(texts), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 0, result.output
    labeled = pd.read_csv(tmp_path / "o.csv")
    assert len(labeled) == 2 and set(labeled["predicted_label"]) <= {"pos", "neg"}


def test_serve_falls_back_from_a_broken_export_and_says_which_backend_answers(model):
    from fastapi.testclient import TestClient

    from tunetext.serve.app import create_app
    from tunetext.serve.settings import ServeSettings

    truncate(model / "onnx" / "model.onnx")
    with pytest.warns(UserWarning, match="not a readable ONNX model"):
        app = create_app(ServeSettings(str(model)))
    with TestClient(app) as client:
        assert client.get("/metadata").json()["backend"] == "torch"
        assert client.post("/predict", json={"text": "good film"}).status_code == 200


def test_predict_refuses_a_list_text_column(model, tmp_path):
    data = tmp_path / "tokens.parquet"
    pd.DataFrame({"text": [["good", "film"], ["bad", "plot"]]}).to_parquet(data)
    result = CliRunner().invoke(app, ["predict", str(model), "--data", str(data), "--out", str(tmp_path / "o.csv"),
                                      "--backend", "torch"], env={"COLUMNS": "1000"})
    assert result.exit_code == 2 and "holds lists instead of texts" in result.output, result.output
    assert not (tmp_path / "o.csv").exists()
