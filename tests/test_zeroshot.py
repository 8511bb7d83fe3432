"""zeroshot: cosine to label-description embeddings; no labeled example is learned from."""

import numpy as np
import pytest

from tunetext.errors import ConfigError
from tunetext.methods import Method, make_method
from tunetext.methods.zeroshot import readable_label

pytestmark = pytest.mark.usefixtures("feature_cache")

NEWS = ["The striker scored twice in the cup final.", "Shares fell after the bank cut its forecast."]
LABELS = ["sport", "business"]


@pytest.mark.parametrize(
    "name, words",
    [
        ("sci.space", "science space"),
        ("LOC", "location"),
        ("realDonaldTrump", "real donald trump"),
        ("comp.os.ms-windows.misc", "computer operating system ms windows miscellaneous"),
        ("not_spam", "not spam"),
        ("sports", "sports"),
    ],
)
def test_label_names_become_words(name, words):
    assert readable_label(name) == words


def test_classifies_bbc_news_by_label_names_alone(real_slice):
    train, test = real_slice("bbc-news", "train"), real_slice("bbc-news", "test")  # train: only its labels are used
    zeroshot = make_method("zeroshot").fit(train.texts, train.labels)
    accuracy = np.mean(zeroshot.predict(test.texts) == np.array(test.labels, dtype=object))
    assert accuracy >= 0.78  # 5 classes, majority class 0.23; 0.88 measured


def test_fit_ignores_texts():
    first = make_method("zeroshot").fit(NEWS, LABELS)
    second = make_method("zeroshot").fit(["anything", "else"], LABELS)
    np.testing.assert_array_equal(first.label_embeddings_, second.label_embeddings_)


def test_templates_and_descriptions_change_the_label_embeddings():
    plain = make_method("zeroshot").fit(NEWS, LABELS).label_embeddings_
    templated = make_method("zeroshot", templates=["a news story about {}", "{} news"]).fit(NEWS, LABELS)
    described = make_method("zeroshot", label_descriptions={"sport": "football and tennis"}).fit(NEWS, LABELS)
    assert templated.label_texts() == [["a news story about business", "business news"], ["a news story about sport", "sport news"]]
    assert not np.allclose(templated.label_embeddings_, plain)
    np.testing.assert_array_equal(described.label_embeddings_[0], plain[0])  # business: unchanged
    assert not np.allclose(described.label_embeddings_[1], plain[1])


def test_temperature_sharpens_without_changing_the_ranking():
    soft = make_method("zeroshot", temperature=1.0).fit(NEWS, LABELS)
    sharp = make_method("zeroshot", temperature=0.01).fit(NEWS, LABELS)
    p_soft, p_sharp = soft.predict_proba(NEWS), sharp.predict_proba(NEWS)
    np.testing.assert_allclose(p_sharp.sum(axis=1), 1.0, atol=1e-6)
    assert (p_soft.argmax(1) == p_sharp.argmax(1)).all() and p_sharp.max() > p_soft.max()
    assert list(sharp.predict(NEWS)) == ["sport", "business"]


def test_save_load_gives_identical_probabilities(tmp_path):
    zeroshot = make_method("zeroshot", templates=("{} news",)).fit(NEWS, LABELS)
    loaded = Method.load(zeroshot.save(tmp_path / "zs"))
    assert loaded.get_params() == zeroshot.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(NEWS), zeroshot.predict_proba(NEWS))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"label_descriptions": {"sprot": "football"}}, r"labels \['sprot'\] that are not classes .* business, sport"),
        ({"templates": ["about it"]}, r"templates must be .* '\{\}' slot; got \['about it'\]"),
        ({"temperature": 0}, "temperature must be > 0; got 0"),
    ],
)
def test_bad_settings_say_what_to_fix(params, message):
    with pytest.raises(ConfigError, match=message):
        make_method("zeroshot", **params).fit(NEWS, LABELS)
