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
