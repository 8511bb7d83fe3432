"""The CLI end to end on real slices: train → metrics.json → evaluate → predict (streamed, atomic)."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from tunetext.cli import app
from tunetext.cli import commands  # noqa: F401  (registers the commands)

runner = CliRunner()
DATA = "tests/data"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    result = runner.invoke(app, ["train", "--method", "tfidf-svm", "--data", f"{DATA}/sms-spam-train.csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_model_and_metrics(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    for key in ("accuracy", "f1_macro", "precision_macro", "recall_macro", "train_seconds", "confident_errors"):
        assert key in metrics
    assert metrics["accuracy"] > 0.9 and metrics["positive_label"] == "spam"
    assert (trained / "tunetext.json").exists()


def test_evaluate_on_a_file_and_refuse_unseen_labels(trained, tmp_path):
    result = runner.invoke(app, ["evaluate", str(trained), "--data", f"{DATA}/sms-spam-test.csv", "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m.json").read_text())["n"] == 200

    odd = tmp_path / "odd.csv"
    pd.DataFrame({"text": ["win a prize", "see you"], "label": ["scam", "ham"]}).to_csv(odd, index=False)
    result = runner.invoke(app, ["evaluate", str(trained), "--data", str(odd)])
    assert result.exit_code == 2 and "scam" in result.output and "never seen" in result.output.lower().replace("\n", " ")


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_predict_streams_keeps_columns_and_order(trained, tmp_path, suffix):
    source = tmp_path / "in.csv"
    frame = pd.read_csv(f"{DATA}/sms-spam-test.csv").head(25).rename(columns={"label": "truth"})
    frame.insert(0, "id", range(len(frame)))
    frame.to_csv(source, index=False)
    out = tmp_path / f"preds.{suffix}"
    result = runner.invoke(app, ["predict", str(trained), "--data", str(source), "--out", str(out), "--chunk-size", "7"])
    assert result.exit_code == 0, result.output
    preds = {"csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True), "parquet": pd.read_parquet}[suffix](out)
    assert list(preds["id"].astype(int)) == list(range(25)) and list(preds.columns[:3]) == ["id", "text", "truth"]
    assert set(preds["predicted_label"]) <= {"ham", "spam"}
    assert (preds["proba_ham"] + preds["proba_spam"]).sub(1).abs().max() < 1e-5
    assert (preds["predicted_label"] == preds["truth"]).mean() > 0.85
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left behind


def test_errors_are_one_line_with_a_fix(tmp_path):
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "not a file or folder" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["train", "--data", f"{DATA}/trec6-train.csv", "--out", str(tmp_path / "m"), "--method", "svm"])
    assert result.exit_code == 2 and "available methods are" in result.output
    assert not (tmp_path / "m").exists()
