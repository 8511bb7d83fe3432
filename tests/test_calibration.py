"""Calibration: ECE and Brier on hand-computed inputs, the verdict's calibration sentence, and temperature
scaling in the fine-tuned methods (labels unchanged, saved with the model, applied by the ONNX path)."""

import numpy as np
import pytest

from tunetext.compare.plots import reliability as reliability_plot
from tunetext.compare.verdict import calibration_sentence
from tunetext.errors import ConfigError
from tunetext.evaluation.calibration import (
    brier_score,
    choose_temperature,
    expected_calibration_error,
    fit_temperature,
    reliability,
    softmax,
)
from tunetext.evaluation.metrics import evaluate
from tunetext.methods import Method, make_method

# Confidences 0.9, 0.75, 0.7, 0.62 fall in four different 1/15-wide bins; the second is wrong.
PROBA = np.array([[0.9, 0.1], [0.75, 0.25], [0.3, 0.7], [0.38, 0.62]])
TRUE = np.array([0, 1, 1, 1])


def test_ece_and_brier_on_known_inputs():
    # ECE: (|1 - 0.9| + |0 - 0.75| + |1 - 0.7| + |1 - 0.62|) / 4
    assert expected_calibration_error(PROBA, TRUE) == pytest.approx(1.53 / 4)
    # Brier: (0.01 + 0.01) + (0.5625 + 0.5625) + (0.09 + 0.09) + (0.1444 + 0.1444), over 4 texts
    assert brier_score(PROBA, TRUE) == pytest.approx(1.6138 / 4)
    # Two texts in one bin (0.91 and 0.93 → bin 13 of 15), one right: |0.5 - 0.92|.
    assert expected_calibration_error(np.array([[0.91, 0.09], [0.93, 0.07]]), np.array([0, 1])) == pytest.approx(0.42)
    perfect = np.eye(3)[[0, 1, 2, 1]]
    assert expected_calibration_error(perfect, np.array([0, 1, 2, 1])) == 0 and brier_score(perfect, [0, 1, 2, 1]) == 0


def test_reliability_table_counts_every_text_once_and_leaves_empty_bins_empty():
    table = reliability(PROBA, TRUE)
    assert len(table["count"]) == 15 and sum(table["count"]) == 4
    assert table["count"][13] == 1 and table["accuracy"][13] == 1.0 and table["confidence"][13] == pytest.approx(0.9)
    assert table["count"][0] == 0 and table["accuracy"][0] is None


def test_evaluate_carries_ece_and_brier():
    metrics = evaluate(["a", "b", "b", "b"], PROBA, ["a", "b"])
    assert metrics["ece"] == pytest.approx(1.53 / 4) and metrics["brier"] == pytest.approx(1.6138 / 4)
    assert sum(metrics["reliability"]["count"]) == 4


def test_fit_temperature_recovers_an_overconfident_models_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(4000, 4))
    truth = np.array([rng.choice(4, p=p) for p in softmax(logits, 2.0)])  # labels drawn at temperature 2
    assert fit_temperature(logits, truth) == pytest.approx(2.0, rel=0.1)
    assert choose_temperature(logits, truth) > 1.5  # it lowers ECE here, so it is kept
    assert expected_calibration_error(softmax(logits, 2.0), truth) < expected_calibration_error(softmax(logits), truth)


def test_calibration_is_mentioned_only_when_the_leaders_differ_materially(tmp_path):
    leaders = [{"method": "finetune", "ece": 0.081}, {"method": "tfidf-logreg", "ece": 0.032}]
    sentence = calibration_sentence(leaders)
    assert "tfidf-logreg's probabilities are the most honest" in sentence and "0.032" in sentence and "0.081" in sentence
    assert calibration_sentence([{"method": "a", "ece": 0.030}, {"method": "b", "ece": 0.045}]) is None
    assert calibration_sentence(leaders[:1]) is None
    png = reliability_plot({"a": reliability(PROBA, TRUE)}, tmp_path / "r.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


# ---- temperature scaling in the fine-tuned methods (tiny random BERT) ------------------------------
WORDS = "good great fine nice happy bad awful poor sad ugly the a very not".split()


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(2, 20))) for _ in range(n)]
    labels = ["pos" if sum(w in "good great fine nice happy" for w in t.split()) > len(t.split()) / 3 else "neg"
              for t in texts]
    return texts, labels


@pytest.fixture(scope="module")
def calibrated(tiny_bert_path, tmp_path_factory):
    from tunetext.data.dataset import LabeledTexts

    texts, labels = _data(96, 0)
    method = make_method("finetune", model=tiny_bert_path, epochs=3, min_steps=0, batch_size=8, lr=1e-3,
                         precision="fp32", max_length=32)
    method.fit(texts, labels, validation=LabeledTexts(*_data(64, 1)))
    method.temperature_ = 2.5  # whatever validation chose: the plumbing must carry any temperature
    path = tmp_path_factory.mktemp("calibrated") / "model"
    method.save(path)
    return method, path


def test_temperature_is_fitted_only_with_a_validation_set(tiny_bert_path):
    from tunetext.data.dataset import LabeledTexts

    texts, labels = _data(48, 0)
    params = dict(model=tiny_bert_path, epochs=1, min_steps=0, batch_size=8, precision="fp32", max_length=32)
    assert make_method("finetune", **params).fit(texts, labels).temperature_ == 1.0
    validation = LabeledTexts(*_data(32, 1))
    assert make_method("finetune", calibrate="none", **params).fit(texts, labels, validation=validation).temperature_ == 1.0
    with pytest.raises(ConfigError, match="calibrate='platt'; use 'auto'"):
        make_method("finetune", calibrate="platt", **params).fit(texts, labels)


def test_temperature_never_changes_labels_and_survives_save_and_load(calibrated):
    method, path = calibrated
    texts, _ = _data(40, 2)
    scaled = method.predict_proba(texts)
    method.temperature_ = 1.0
    raw = method.predict_proba(texts)
    method.temperature_ = 2.5
    np.testing.assert_array_equal(scaled.argmax(1), raw.argmax(1))
    assert scaled.max(1).mean() < raw.max(1).mean()  # T > 1 softens: top probabilities move towards 1/k
    reloaded = Method.load(path)
    assert reloaded.temperature_ == 2.5
    np.testing.assert_allclose(reloaded.predict_proba(texts), scaled, atol=1e-6)


def test_onnx_export_applies_the_temperature(calibrated):
    pytest.importorskip("onnxruntime")
    from tunetext.export import OnnxClassifier, export_onnx

    method, path = calibrated
    meta = export_onnx(path)
    assert meta["temperature"] == 2.5
    texts, _ = _data(20, 3)
    np.testing.assert_allclose(OnnxClassifier.load(path).predict_proba(texts), method.predict_proba(texts), atol=1e-4)
