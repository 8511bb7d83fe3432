"""The TF-IDF baselines learn real data: accuracy floors on the committed slices (honest for their size)."""

import numpy as np
import pytest

from tunetext.methods import make_method

# Measured on these slices (train 600 / test 300, or 400/200 for sms-spam); floors sit a few points below.
FLOORS = {
    ("tfidf-svm", "trec6"): 0.72,
    ("tfidf-logreg", "trec6"): 0.70,
    ("tfidf-nb", "trec6"): 0.60,
    ("nbsvm", "trec6"): 0.70,
    ("tfidf-svm", "rt-snippets"): 0.60,
    ("nbsvm", "rt-snippets"): 0.60,
    ("tfidf-nb", "rt-snippets"): 0.60,
    ("tfidf-svm", "sms-spam"): 0.93,
    ("nbsvm", "sms-spam"): 0.93,
    ("tfidf-logreg", "election-tweets"): 0.80,
}


@pytest.mark.parametrize("method,dataset", sorted(FLOORS))
def test_accuracy_floor_on_real_slice(method, dataset, real_slice):
    train, test = real_slice(dataset, "train"), real_slice(dataset, "test")
    model = make_method(method).fit(train.texts, train.labels)
    accuracy = float(np.mean(model.predict(test.texts) == np.array(test.labels)))
    assert accuracy >= FLOORS[method, dataset], f"{method} on {dataset}: {accuracy:.3f}"


def test_text_pairs_are_accepted():
    pairs = [("the cat sat", "a cat sat"), ("stocks fell", "the sun rose")] * 10
    labels = ["same", "different"] * 10
    model = make_method("tfidf-logreg").fit(pairs, labels)
    assert list(model.predict(pairs[:2])) == ["same", "different"]


def test_svm_probabilities_with_a_class_too_rare_to_calibrate():
    texts = ["good", "great", "fine", "nice", "awful"]
    model = make_method("tfidf-svm").fit(texts, ["pos", "pos", "pos", "pos", "neg"])
    proba = model.predict_proba(["awful", "great"])
    assert proba[0, 0] > 0.5 and proba[1, 1] > 0.5  # classes_ = [neg, pos]


def test_nbsvm_ratios_point_the_right_way():
    texts = ["great film", "great acting", "awful film", "awful plot"] * 5
    labels = ["pos", "pos", "neg", "neg"] * 5
    model = make_method("nbsvm").fit(texts, labels)
    assert list(model.predict(["great", "awful"])) == ["pos", "neg"]


def test_svm_on_many_rows_calibrates_on_the_validation_split_with_one_fit(real_slice, monkeypatch):
    """From HELD_OUT_CALIBRATION_ROWS on, Platt scaling uses the validation split: one SVM fit, not k + 1."""
    from sklearn.svm import LinearSVC

    from tunetext.data.dataset import LabeledTexts
    from tunetext.methods import tfidf

    train, rest = real_slice("rt-snippets", "train"), real_slice("rt-snippets", "test")
    validation = LabeledTexts(rest.texts[:200], rest.labels[:200])
    fits = []
    original_fit = LinearSVC.fit
    monkeypatch.setattr(LinearSVC, "fit", lambda self, *args, **kwargs: fits.append(1) or original_fit(self, *args, **kwargs))
    monkeypatch.setattr(tfidf, "HELD_OUT_CALIBRATION_ROWS", len(train))
    model = make_method("tfidf-svm").fit(train.texts, train.labels, validation=validation)
    assert len(fits) == 1 and model.link_ == "sigmoid"
    fits.clear()
    cross_validated = make_method("tfidf-svm").fit(train.texts, train.labels)  # no validation split: k-fold
    assert len(fits) == 4  # 3 folds + the final SVM
    test, truth = rest.texts[200:], np.array(rest.labels[200:])
    assert np.mean(model.predict(test) == truth) >= np.mean(cross_validated.predict(test) == truth) - 0.02


@pytest.mark.parametrize("model", ["svm", "logreg"])
def test_repeated_rows_fit_once_weighted_by_their_count_give_the_same_model(real_slice, model):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from tunetext.methods.tfidf import _distinct_rows, _fit_distinct

    make = {"svm": lambda: LinearSVC(), "logreg": lambda: LogisticRegression(C=30, solver="newton-cg", tol=1e-8)}[model]
    train = real_slice("rt-snippets", "train", 300)
    # Unevenly repeated (the first 40 texts 5 times, the rest twice), so distinct and all-row class counts differ.
    texts, labels = train.texts[:40] * 3 + train.texts * 2, np.array(train.labels[:40] * 3 + train.labels * 2)
    features = TfidfVectorizer().fit_transform(texts)
    rows, weights = _distinct_rows(features, list(labels))
    assert len(rows) == len(set(zip(train.texts, train.labels))) and weights.sum() == len(texts)
    every_row = make().set_params(class_weight="balanced").fit(features, labels)
    distinct = _fit_distinct(make(), features, labels, "balanced")
    np.testing.assert_allclose(distinct.decision_function(features), every_row.decision_function(features), atol=1e-3)
