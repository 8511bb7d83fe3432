import numpy as np
import pytest

from tunetext.evaluation import evaluate


def test_binary_metrics_match_hand_computation():
    labels = ["ham", "spam", "spam", "ham", "spam"]
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]], dtype=np.float32)
    result = evaluate(labels, proba, ["ham", "spam"], texts=["a", "b", "c", "d", "e"])
    # predicted: ham spam ham spam spam -> 3 of 5 right; spam: tp=2 fp=1 fn=1
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["positive_label"] == "spam"
    assert result["precision"] == pytest.approx(2 / 3) and result["recall"] == pytest.approx(2 / 3)
    assert result["confusion_matrix"]["matrix"] == [[1, 1], [1, 2]]
    assert result["per_class"]["spam"]["support"] == 3
    # The two errors, surest first: "d" (0.7 spam, truly ham) before "c" (0.6 ham, truly spam).
    assert [e["text"] for e in result["confident_errors"]] == ["d", "c"]
    assert result["log_loss"] == pytest.approx(
        -np.mean(np.log([0.9, 0.8, 0.4, 0.3, 0.9])), rel=1e-5
    )


def test_multiclass_has_macro_and_weighted_but_no_binary():
    labels = ["a", "b", "c", "c"]
    proba = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    result = evaluate(labels, proba, ["a", "b", "c"])
    assert result["accuracy"] == 0.75
    assert "f1" not in result and result["f1_macro"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert result["recall_weighted"] == pytest.approx(0.75)
    assert "confident_errors" not in result


def test_prediction_speed_is_timed_on_a_sample_while_every_test_text_is_scored(real_slice, monkeypatch):
    from tunetext.evaluation import experiment
    from tunetext.methods import make_method

    monkeypatch.setattr(experiment, "SPEED_TEXTS", 40)
    method = make_method("tfidf-nb")
    predicted_batches = []
    predict_proba = method.predict_proba
    monkeypatch.setattr(method, "predict_proba", lambda texts: predicted_batches.append(len(texts)) or predict_proba(texts))
    test = real_slice("trec6", "test", 150)
    result, proba = experiment.fit_and_evaluate(method, real_slice("trec6", "train", 300), test)
    assert predicted_batches == [150, 40]  # scored whole, then timed on the first 40 without the cache
    assert result["n"] == 150 and proba.shape == (150, len(method.classes_)) and result["predict_texts_per_second"] > 0


def test_an_untimed_cell_records_no_speed_and_aggregates_keep_it_unmeasured(real_slice):
    """A pass that may read cached features must not pass for a prediction speed (curve cells of frozen methods
    read 6,000-144,000 texts/s from the cache on 500k health tweets, against ~170 uncached)."""
    from tunetext.compare.statistics import aggregate
    from tunetext.evaluation import experiment
    from tunetext.methods import make_method

    train, test = real_slice("trec6", "train", 300), real_slice("trec6", "test", 100)
    untimed, _ = experiment.fit_and_evaluate(make_method("tfidf-nb"), train, test, time_prediction=False)
    timed, _ = experiment.fit_and_evaluate(make_method("tfidf-nb"), train, test)
    assert untimed["predict_texts_per_second"] is None and timed["predict_texts_per_second"] > 0
    cells = [{**untimed, "family": "traditional", "size_per_class": 16, "seed": s} for s in (0, 1)]
    cells.append({**timed, "family": "traditional", "size_per_class": None, "seed": 0})
    rows = {r["size_per_class"]: r for r in aggregate(cells)}
    assert rows[16]["predict_texts_per_second"] is None and rows[16]["predict_texts_per_second_std"] is None
    assert rows[16]["accuracy"] == untimed["accuracy"]
    assert rows[None]["predict_texts_per_second"] == timed["predict_texts_per_second"]
