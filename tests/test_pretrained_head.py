"""pretrained-head: the encoder with an untrained head is a reference row at chance level."""

import numpy as np
import pytest

from tunetext.methods import Method, make_method


@pytest.fixture(scope="module")
def tweets(real_slice):
    return real_slice("election-tweets", "train", 20), real_slice("election-tweets", "test", 200)


def test_untrained_head_is_near_chance_on_a_balanced_slice(tweets, tmp_path):
    train, test = tweets
    head = make_method("pretrained-head", max_length=64).fit(train.texts, train.labels)
    proba = head.predict_proba(test.texts)
    accuracy = np.mean(head.classes_[proba.argmax(1)] == np.array(test.labels, dtype=object))
    assert abs(accuracy - 0.5) < 0.1  # 0.525 measured with seed 0
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)

    loaded = Method.load(head.save(tmp_path / "head"))
    assert loaded.head_keys_ == ["classifier.bias", "classifier.weight"]
    texts = test.texts[:20]  # same batches on both sides: padding width changes the last float bits
    np.testing.assert_array_equal(loaded.predict_proba(texts), head.predict_proba(texts))


def test_the_seed_fixes_the_head(tweets):
    train, test = tweets
    texts = test.texts[:20]
    a, b, c = (make_method("pretrained-head", max_length=64, seed=s).fit(train.texts, train.labels) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))
    assert not np.allclose(a.predict_proba(texts), c.predict_proba(texts))
