"""Every registered method honours the protocol: one test, parametrised over the whole registry."""

import numpy as np
import pytest

from tunetext.errors import DataError, NotFittedError
from tunetext.encoders import pad_batch, tokenize
from tunetext.methods import Method, list_methods, make_method
from tunetext.methods.base import Series


def small_params(name: str, tiny_bert_path: str) -> dict:
    """Plumbing runs on the tiny random BERT with the least training a method allows."""
    params = make_method(name).get_params()
    fast = {"model": tiny_bert_path, "epochs": 1, "min_steps": 0, "max_length": 32, "batch_size": 16, "task": "a"}
    return {key: value for key, value in fast.items() if key in params}


@pytest.fixture(scope="module")
def trec(real_slice):
    return real_slice("trec6", "train", 120), real_slice("trec6", "test", 40)


@pytest.mark.parametrize("name", list_methods())
def test_method_protocol(name, trec, tiny_bert_path, tmp_path, feature_cache):
    train, test = trec
    method = make_method(name, **small_params(name, tiny_bert_path))
    with pytest.raises(NotFittedError, match="not fitted"):
        method.predict_proba(test.texts)

    texts, labels = train.texts, train.labels
    if "task" in method.get_params():  # a multi-task method learns trec6 twice, as tasks a and b, and answers for a
        texts, labels = texts * 2, [f"{task}:{label}" for task in "ab" for label in labels]
    method.fit(texts, labels)
    assert list(method.classes_) == sorted(set(train.labels))

    proba = method.predict_proba(test.texts)
    assert proba.dtype == np.float32 and proba.shape == (len(test), len(method.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(method.predict(test.texts)) <= set(method.classes_)

    # Documented edge cases: no texts -> an empty (0, k) array; an empty string is still a text.
    assert method.predict_proba([]).shape == (0, len(method.classes_))
    assert method.predict([]).shape == (0,)
    assert method.predict_proba([""]).shape == (1, len(method.classes_))

    reloaded = Method.load(method.save(tmp_path / name))
    assert type(reloaded) is type(method) and reloaded.get_params() == method.get_params()
    np.testing.assert_allclose(reloaded.predict_proba(test.texts), proba, atol=1e-6)

    # Declared capabilities hold for the fitted method and survive a reload.
    assert all(isinstance(series, Series) for series in method.diagnostics().values())
    assert reloaded.diagnostics() == method.diagnostics()
    if method.exports_onnx:
        module, tokenizer, max_length, *_ = reloaded.onnx_parts()
        logits = module(**pad_batch(tokenize(tokenizer, test.texts[:4], max_length), tokenizer.pad_token_id))
        assert tuple(logits.shape) == (4, len(method.classes_))


@pytest.mark.parametrize("name", list_methods())
def test_method_rejects_unlearnable_data(name, tiny_bert_path):
    method = make_method(name, **small_params(name, tiny_bert_path))
    with pytest.raises(DataError, match="only one class"):
        method.fit(["a good film", "a bad film"], ["pos", "pos"])
    with pytest.raises(DataError, match="2 texts but 1 labels"):
        method.fit(["a good film", "a bad film"], ["pos"])
    with pytest.raises(DataError, match="training data is empty"):
        method.fit([], [])


def test_unknown_method_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown method 'svm'; available methods are: .*tfidf-svm"):
        make_method("svm")


def test_bad_parameter_lists_the_valid_ones():
    with pytest.raises(ValueError, match="bad parameters for method 'tfidf-svm'.*Valid parameters: .*C"):
        make_method("tfidf-svm", cost=3)


def test_load_of_a_non_model_directory_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a tunetext model directory.*tunetext train"):
        Method.load(tmp_path)
