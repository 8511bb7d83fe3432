"""Multi-task fine-tuning: task sampling, the per-task loss, and one registered method answering for a chosen task."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from tunetext.data import LabeledTexts
from tunetext.errors import ConfigError, DataError
from tunetext.methods import Method, make_method
from tunetext.methods.multitask import MultiTask, pool_tasks, sample_tasks, split_tasks, task_sample_sizes
from tunetext.tasks import evaluate_tasks

SIZES = {"big": 900, "mid": 90, "small": 10}


@pytest.mark.parametrize("temperature, expected", [
    (1.0, {"big": 900, "mid": 90, "small": 10}),     # proportional
    (2.0, {"big": 703, "mid": 222, "small": 74}),   # n^(1/2): 30 : 9.5 : 3.2
    (1e6, {"big": 333, "mid": 333, "small": 333}),  # towards uniform
])
def test_sampler_proportions(temperature, expected):
    sizes = task_sample_sizes(SIZES, temperature)
    assert sizes == pytest.approx(expected, abs=1)
    assert abs(sum(sizes.values()) - 1000) <= 2


def test_sampled_tasks_follow_the_sizes_and_prefix_labels():
    tasks = {name: LabeledTexts([f"{name} {i}" for i in range(n)], ["a", "b"] * (n // 2)) for name, n in SIZES.items()}
    pooled = pool_tasks(tasks)
    assert split_tasks(pooled.texts, pooled.labels) == {name: LabeledTexts(d.texts, d.labels) for name, d in tasks.items()}
    pooled = sample_tasks(tasks, temperature=2.0, seed=0)
    counts = {name: sum(label.startswith(name + ":") for label in pooled.labels) for name in SIZES}
    assert counts == task_sample_sizes(SIZES, 2.0)
    small = [text for text in pooled.texts if text.startswith("small")]
    assert set(small) == set(tasks["small"].texts)  # oversampled: every example used, whole passes first
    assert max(small.count(t) for t in set(small)) - min(small.count(t) for t in set(small)) <= 1
    with pytest.raises(ConfigError, match="temperature=0 must be > 0"):
        task_sample_sizes(SIZES, 0)


def test_loss_is_a_softmax_within_each_task():
    heads = MultiTask(label_smoothing=0.0)
    heads.classes_ = np.array(["q:HUM", "q:LOC", "q:NUM", "s:neg", "s:pos"], dtype=object)
    logits, labels = torch.randn(4, 5), torch.tensor([0, 2, 3, 4])
    expected = (F.cross_entropy(logits[:2, :3], labels[:2], reduction="sum")
                + F.cross_entropy(logits[2:, 3:], labels[2:] - 3, reduction="sum")) / 4
    torch.testing.assert_close(heads._loss_fn(None)(logits, labels), expected)


def test_multitask_answers_for_the_chosen_task_and_round_trips(tiny_bert_path, tmp_path):
    sentiment = LabeledTexts(["good fine film", "bad awful film"] * 12, ["pos", "neg"] * 12)
    questions = LabeledTexts(["where is the city", "who is the man", "how many are there"] * 8,
                             ["LOC:city", "HUM", "NUM"] * 8)
    pooled = pool_tasks({"sent": sentiment, "q": questions})
    model = make_method("multitask", temperature=2.0, model=tiny_bert_path, epochs=1, batch_size=8, precision="fp32",
                        task="q")  # chosen before fit: every head still trains
    model.fit(pooled.texts, pooled.labels)
    assert model.tasks_ == ["q", "sent"] and model.pooled_classes_[0] == "q:HUM"
    assert list(model.classes_) == ["HUM", "LOC:city", "NUM"]  # a ':' in a label is fine
    proba = model.predict_proba(questions.texts[:3])
    assert proba.dtype == np.float32 and proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(model.set_params(task="sent").predict(sentiment.texts)) <= {"pos", "neg"}
    assert set(evaluate_tasks(model, {"q": questions})) == {"q"} and model.task == "sent"

    loaded = Method.load(model.set_params(task=None).save(tmp_path / "mt"))
    assert type(loaded) is MultiTask and loaded.temperature == 2.0 and loaded.get_params() == model.get_params()
    assert not (tmp_path / "mt" / "multitask.json").exists()
    assert json.loads((tmp_path / "mt" / "tunetext.json").read_text())["tasks"] == ["q", "sent"]
    for chosen in (model, loaded):
        chosen.set_params(task="q")
    np.testing.assert_array_equal(loaded.predict_proba(questions.texts), model.predict_proba(questions.texts))
    for task, problem in ((None, "no task chosen"), ("spam", "unknown task 'spam'")):
        with pytest.raises(ConfigError, match=f"{problem}: this multi-task model .* set task to one of: q, sent"):
            loaded.set_params(task=task).predict(["x"])


def test_multitask_needs_two_named_tasks():
    data = LabeledTexts(["a", "b"], ["x", "y"])
    with pytest.raises(ConfigError, match="two or more named tasks"):
        pool_tasks({"only": data})
    with pytest.raises(ConfigError, match="without ':' in the name"):
        pool_tasks({"a:b": data, "c": data})
    with pytest.raises(DataError, match="two or more named tasks; the labels name only \\['a'\\]"):
        MultiTask().fit(["x", "y"], ["a:x", "a:y"])
    with pytest.raises(DataError, match="multi-task labels are 'task:label'; got 'x'"):
        MultiTask().fit(["x", "y"], ["x", "y"])
    with pytest.raises(ConfigError, match="temperature=0 must be > 0"):
        MultiTask(temperature=0).fit(["x", "y"], ["a:x", "b:y"])


def test_cli_trains_one_model_for_several_tasks(tiny_bert_path, real_slice, tmp_path):
    from typer.testing import CliRunner

    from tunetext.cli import app
    from tunetext.cli import commands  # noqa: F401  (registers the commands)

    for name in ("trec6", "sms-spam"):
        data = real_slice(name, "train", 60)
        (tmp_path / name).mkdir()
        pd.DataFrame({"text": data.texts, "label": data.labels}).to_csv(tmp_path / name / "train.csv", index=False)
    out = tmp_path / "model"
    result = CliRunner().invoke(app, [
        "train", "--task", f"questions={tmp_path / 'trec6'}", "--task", f"spam={tmp_path / 'sms-spam'}",
        "--out", str(out), "--model", tiny_bert_path, "--preprocess", "tweet",
        "-p", "epochs=1", "-p", "batch_size=16", "-p", "temperature=2",
    ])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["tasks"]) == {"questions", "spam"} and metrics["params"]["temperature"] == 2
    loaded = Method.load(out).set_params(task="spam")
    assert loaded.preprocess == "tweet" and set(loaded.classes_) == {"ham", "spam"}
    questions_classes = loaded.set_params(task="questions").classes_
    questions = tmp_path / "questions.csv"
    real = real_slice("trec6", "train", 40)  # labels the model knows
    pd.DataFrame({"text": real.texts, "label": real.labels}).to_csv(questions, index=False)
    predicted = tmp_path / "predicted.csv"
    result = CliRunner().invoke(app, ["predict", str(out), "--data", str(questions), "--out", str(predicted), "--task", "questions"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(predicted)
    assert set(frame["predicted_label"]) <= set(questions_classes)
    assert sorted(c for c in frame.columns if c.startswith("proba_")) == sorted(f"proba_{c}" for c in questions_classes)
    result = CliRunner().invoke(app, ["evaluate", str(out), "--data", str(questions), "--task", "questions",
                                      "--out", str(tmp_path / "eval.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "eval.json").read_text())["n"] == 40
    result = CliRunner().invoke(app, ["predict", str(out), "--data", str(questions), "--out", str(tmp_path / "no-task.csv")])
    assert result.exit_code != 0 and "no task chosen: this multi-task model" in result.output
    assert "one of: questions, spam" in result.output
    result = CliRunner().invoke(app, ["predict", str(out), "--data", str(questions), "--out", str(predicted),
                                      "--overwrite", "--task", "questions", "--backend", "onnx"])
    assert result.exit_code != 0 and "is chosen on the saved method" in result.output

    from fastapi.testclient import TestClient

    from tunetext.serve import ServeSettings, create_app

    with TestClient(create_app(ServeSettings(str(out), task="spam"))) as client:
        answer = client.post("/predict", json={"texts": ["WIN a free prize now, call 0800"]}).json()
        assert answer["predictions"][0]["label"] in {"ham", "spam"}
        assert client.get("/metadata").json()["labels"] == ["ham", "spam"]


def test_task_on_a_model_without_tasks_is_refused_before_loading(tmp_path, monkeypatch):
    from tunetext.prediction import load_predictor

    data = LabeledTexts(["good film", "bad film"] * 4, ["pos", "neg"] * 4)
    out = make_method("tfidf-nb").fit(data.texts, data.labels).save(tmp_path / "nb")
    monkeypatch.setattr(Method, "load", classmethod(lambda cls, directory: pytest.fail("loaded the model")))
    with pytest.raises(ConfigError, match="holds a tfidf-nb model, which has no tasks; leave the task out"):
        load_predictor(out, task="spam")
