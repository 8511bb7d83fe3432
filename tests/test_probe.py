"""probe: logistic regression on frozen MiniLM features, learning from small real slices."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tunetext import encoders, features
from tunetext.methods import Method, make_method

pytestmark = pytest.mark.usefixtures("feature_cache")


@pytest.fixture
def trec(real_slice):
    return real_slice("trec6", "train", 300), real_slice("trec6", "test", 150)


def accuracy(method, data):
    return float(np.mean(method.predict(data.texts) == np.array(data.labels, dtype=object)))


def test_learns_question_types_from_300_examples(trec):
    train, test = trec
    probe = make_method("probe", max_length=64).fit(train.texts, train.labels)
    assert accuracy(probe, test) >= 0.70  # 6 classes, majority class 0.23


def test_refit_never_calls_the_encoder(trec, monkeypatch):
    train, _ = trec
    first = make_method("probe", max_length=64).fit(train.texts, train.labels)

    def no_encoding(*args, **kwargs):
        raise AssertionError("the encoder ran although every text is cached")

    monkeypatch.setattr(encoders, "embed", no_encoding)
    second = make_method("probe", max_length=64).fit(train.texts[:200], train.labels[:200])
    second.fit(train.texts, train.labels)
    np.testing.assert_array_equal(second.coef_, first.coef_)
    np.testing.assert_array_equal(second.predict_proba(train.texts), first.predict_proba(train.texts))


def test_save_load_gives_identical_probabilities(trec, tmp_path):
    train, test = trec
    probe = make_method("probe", max_length=64, C=0.5, class_weight="balanced").fit(train.texts, train.labels)
    proba = probe.predict_proba(test.texts)
    assert proba.dtype == np.float32 and proba.shape == (len(test), 6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    loaded = Method.load(probe.save(tmp_path / "probe"))
    assert loaded.get_params() == probe.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(test.texts), proba)


def test_a_loaded_predictor_never_writes_the_feature_cache(trec, tmp_path, monkeypatch):
    from tunetext.prediction import load_predictor

    train, test = trec
    probe = make_method("probe", max_length=64).fit(train.texts, train.labels)
    expected = probe.predict_proba(test.texts)
    folder = probe.save(tmp_path / "probe")
    monkeypatch.setenv("TUNETEXT_CACHE", str(tmp_path / "cache"))  # empty: anything written would land here
    predictor = load_predictor(folder, "torch")
    np.testing.assert_allclose(predictor.predict_proba(test.texts), expected, atol=1e-5)
    assert not (tmp_path / "cache" / "features").exists() or not any((tmp_path / "cache" / "features").rglob("*.npy"))


@pytest.mark.parametrize("name", ["trec6", "election-tweets"])
def test_probabilities_are_sklearns_logistic_regression(real_slice, name):
    """The numpy forward pass reproduces sklearn's, including the binary (sigmoid) case."""
    train, test = real_slice(name, "train", 120), real_slice(name, "test", 40)
    probe = make_method("probe", max_length=64, C=0.1).fit(train.texts, train.labels)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    reference.fit(features.encode(train.texts, max_length=64), train.labels)
    expected = reference.predict_proba(features.encode(test.texts, max_length=64))
    assert list(reference.classes_) == list(probe.classes_)
    np.testing.assert_allclose(probe.predict_proba(test.texts), expected, atol=1e-5)


def test_class_weight_by_label_favours_that_label(trec):
    train, test = trec
    plain = make_method("probe", max_length=64).fit(train.texts, train.labels)
    weighted = make_method("probe", max_length=64, class_weight={"ABBR": 20.0}).fit(train.texts, train.labels)
    column = list(plain.classes_).index("ABBR")
    assert weighted.predict_proba(test.texts)[:, column].sum() > plain.predict_proba(test.texts)[:, column].sum()
