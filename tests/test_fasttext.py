"""fastText learns real data, saves in its own binary format (no pickle) and is fixed by its seed."""

import numpy as np
import pytest

pytest.importorskip("fasttext")

from tunetext.errors import ConfigError  # noqa: E402
from tunetext.methods import Method, make_method  # noqa: E402
from tunetext.methods.fasttext import MODEL_FILE, fasttext_line  # noqa: E402

# Measured with the defaults on these slices (train 600 / test 300, 400/200 for sms-spam):
# trec6 0.687, rt-snippets 0.617, sms-spam 0.955, election-tweets 0.860; floors sit a few points below.
FLOORS = {"trec6": 0.65, "rt-snippets": 0.58, "sms-spam": 0.93, "election-tweets": 0.83}


@pytest.mark.parametrize("dataset", sorted(FLOORS))
def test_accuracy_floor_on_real_slice(dataset, real_slice):
    train, test = real_slice(dataset, "train"), real_slice(dataset, "test")
    model = make_method("fasttext").fit(train.texts, train.labels)
    accuracy = float(np.mean(model.predict(test.texts) == np.array(test.labels)))
    assert accuracy >= FLOORS[dataset], f"fasttext on {dataset}: {accuracy:.3f}"


@pytest.fixture(scope="module")
def fitted(real_slice):
    train = real_slice("trec6", "train", 300)
    return make_method("fasttext", epoch=10).fit(train.texts, train.labels)


def test_save_load_gives_identical_probabilities_without_pickle(fitted, real_slice, tmp_path):
    test = real_slice("trec6", "test", 60)
    folder = fitted.save(tmp_path / "ft")
    assert sorted(path.name for path in folder.iterdir()) == [MODEL_FILE, "tunetext.json"]
    assert folder.joinpath(MODEL_FILE).stat().st_size < 10_000_000  # 20,000 buckets x dim 50, not fastText's 800 MB
    np.testing.assert_array_equal(Method.load(folder).predict_proba(test.texts), fitted.predict_proba(test.texts))


def test_same_seed_same_model_even_after_predicting_in_this_process(fitted, real_slice):
    train, test = real_slice("trec6", "train", 300), real_slice("trec6", "test", 60)
    fitted.predict_proba(test.texts)  # in-process training would now read this heap's leftovers
    again = make_method("fasttext", epoch=10).fit(train.texts, train.labels)
    np.testing.assert_array_equal(again.predict_proba(test.texts), fitted.predict_proba(test.texts))


def test_probability_columns_follow_classes_not_fasttext_ranking(fitted):
    proba = fitted.predict_proba(["How far is it from Denver to Aspen ?", "Who wrote Hamlet ?"])
    assert list(fitted.classes_[proba.argmax(axis=1)]) == list(fitted.predict(["How far is it from Denver to Aspen ?",
                                                                              "Who wrote Hamlet ?"]))
    labels, _ = fitted.model_.predict(fasttext_line("Who wrote Hamlet ?"), k=1)
    assert fitted.classes_[int(labels[0].removeprefix("__label__"))] == fitted.predict(["Who wrote Hamlet ?"])[0]


def test_lines_are_one_lowercased_line_with_punctuation_split_and_pairs_joined():
    assert fasttext_line("Who wrote\nHamlet?") == "who wrote hamlet ?"
    assert fasttext_line(("A cat.", "A dog")) == "a cat . [sep] a dog"


def test_labels_with_spaces_and_text_pairs(tmp_path):
    pairs = [("the cat sat", "a cat sat"), ("stocks fell", "the sun rose")] * 20
    labels = ["same topic", "other topic"] * 20
    model = make_method("fasttext").fit(pairs, labels)
    assert list(model.predict(pairs[:2])) == ["same topic", "other topic"]


@pytest.mark.parametrize("params,match", [
    ({"lr": 0}, "lr=0 must be > 0"),
    ({"epoch": 0}, "epoch=0 must be an integer >= 1"),
    ({"bucket": 2.5}, "bucket=2.5 must be an integer"),
])
def test_bad_hyperparameters_fail_before_training(params, match):
    with pytest.raises(ConfigError, match=match):
        make_method("fasttext", **params).fit(["a", "b"], ["x", "y"])


def test_divergence_names_lr_and_a_fix():
    with pytest.raises(ConfigError, match=r"diverged with lr=1000000.0 .*Encountered NaN.*lower lr \(0.1"):
        make_method("fasttext", lr=1e6, epoch=5).fit(["good film", "bad film"] * 20, ["pos", "neg"] * 20)


def test_training_data_sorted_by_class_still_learns(real_slice):
    """fastText's SGD reads its file in order: unshuffled, a file sorted by class leaves the last class winning."""
    train, test = real_slice("trec6", "train"), real_slice("trec6", "test")
    order = sorted(range(len(train)), key=lambda i: train.labels[i])
    model = make_method("fasttext").fit([train.texts[i] for i in order], [train.labels[i] for i in order])
    assert float(np.mean(model.predict(test.texts) == np.array(test.labels))) >= FLOORS["trec6"]
