"""Skewed labels: compare and train choose macro-F1 from the training labels only, and say so."""

import json
from pathlib import Path

import pytest

from tunetext import api
from tunetext.compare import Budget, run_comparison
from tunetext.data.dataset import DatasetSplits, LabeledTexts
from tunetext.errors import ConfigError
from tunetext.evaluation.skew import choose_metric, label_skew
from tunetext.evaluation.tables import metrics_table

ONE_CELL = Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1)


def test_sms_spam_is_skewed_and_a_balanced_set_is_not(real_slice):
    sms = label_skew(real_slice("sms-spam", "train").labels)  # 347 ham, 53 spam
    assert (sms.smallest, sms.counts["spam"], sms.skewed) == ("spam", 53, True)
    assert sms.ratio == pytest.approx(347 / 53)
    assert not label_skew(real_slice("rt-snippets", "train").labels).skewed  # 303 / 297
    assert label_skew(real_slice("trec6", "train").labels).smallest == "ABBR"  # 9 of 600: skewed too


def test_the_threshold_is_a_third_of_the_uniform_share():
    assert label_skew(["a"] * 84 + ["b"] * 16).skewed  # 16% < 1/6 of two classes
    assert not label_skew(["a"] * 83 + ["b"] * 17).skewed
    assert not label_skew(["a"] * 5).skewed  # one class: nothing to ignore


def test_choose_metric_from_the_labels_unless_asked(real_slice):
    spam = real_slice("sms-spam", "train").labels
    metric, reason = choose_metric(spam, None)
    assert metric == "f1_macro"
    assert reason.startswith("Metric: f1_macro, not accuracy, because the classes are skewed: the smallest training "
                             "class, spam, holds 13.2% of the labels against 50.0% for an even split (largest/smallest 6.5)")
    assert choose_metric(spam, "accuracy")[0] == "accuracy"
    assert choose_metric(real_slice("rt-snippets", "train").labels, None)[0] == "accuracy"
    with pytest.raises(ConfigError, match=r"metric='recall'; use accuracy or f1_macro, or None"):
        choose_metric(spam, "recall")


def test_compare_ranks_skewed_data_by_macro_f1_and_shows_the_leaders_recall(real_slice, tmp_path):
    splits = DatasetSplits("sms-slice", real_slice("sms-spam", "train"), real_slice("sms-spam", "test"))
    summary = run_comparison(splits, out=tmp_path / "auto", methods=["tfidf-svm", "tfidf-nb"], budget=ONE_CELL)
    assert summary["metric"] == "f1_macro" and "because the classes are skewed" in summary["metric_reason"]
    assert "the best method by f1_macro is" in summary["verdict"][0]
    md = (tmp_path / "auto" / "report.md").read_text()
    assert "## Recall per class of the leaders (full training set, smallest classes first)" in md
    assert "| method | spam (53 train) | ham (347 train) |" in md
    assert "| method | family | f1_macro | 95% CI | accuracy |" in md  # the other metric, for contrast
    assert summary["metric_reason"] in md

    asked = run_comparison(splits, out=tmp_path / "asked", methods=["tfidf-svm", "tfidf-nb"], budget=ONE_CELL,
                           metric="accuracy")
    assert asked["metric"] == "accuracy" and asked["metric_reason"].startswith("Metric: accuracy, as asked")


def test_the_metric_is_chosen_from_training_labels_never_the_test_split(real_slice, tmp_path):
    """A balanced training split ranks by accuracy even when the test split is all one class."""
    test = real_slice("rt-snippets", "test")
    fresh = [i for i, label in enumerate(test.labels) if label == "fresh"]
    one_class = LabeledTexts([test.texts[i] for i in fresh], [test.labels[i] for i in fresh], "fresh-only")
    splits = DatasetSplits("rt-slice", real_slice("rt-snippets", "train"), one_class)
    summary = run_comparison(splits, out=tmp_path, methods=["tfidf-nb"], budget=ONE_CELL)
    assert summary["metric"] == "accuracy"


def test_train_records_and_prints_the_headline_metric(tmp_path):
    from rich.console import Console

    data = tmp_path / "sms.csv"
    data.write_text((Path(__file__).parent / "data" / "sms-spam-train.csv").read_text())
    metrics = api.train(data, out=tmp_path / "model", method="tfidf-nb")
    assert metrics["metric"] == "f1_macro"
    saved = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert saved["metric_reason"] == metrics["metric_reason"]
    console = Console(width=400, record=True)
    console.print(metrics_table(metrics))
    printed = " ".join(console.export_text().split())  # the caption wraps
    assert "f1_macro ◀" in printed and "accuracy ◀" not in printed and "because the classes are skewed" in printed


def _cut(data: LabeledTexts, start: int, stop: int, source: str) -> LabeledTexts:
    return LabeledTexts(data.texts[start:stop], data.labels[start:stop], source)


@pytest.mark.parametrize("name", ["tfidf-logreg", "probe"])
def test_auto_class_weight_keeps_the_better_weighting_on_validation_and_never_reads_test(
        name, real_slice, tiny_bert_path, feature_cache):
    from tunetext.evaluation.experiment import fit_and_evaluate
    from tunetext.methods import make_method
    from sklearn.metrics import f1_score

    sms = real_slice("sms-spam", "train")
    train, validation = _cut(sms, 0, 300, "train"), _cut(sms, 300, 400, "validation")
    test = real_slice("sms-spam", "test")
    params = {"model": tiny_bert_path, "max_length": 64} if name == "probe" else {}

    def validation_f1(weight):
        method = make_method(name, class_weight=weight, **params).fit(train.texts, train.labels)
        return f1_score(validation.labels, method.predict(validation.texts), average="macro")

    expected = "balanced" if validation_f1("balanced") > validation_f1(None) else None
    chosen = []
    for test_split in (test, LabeledTexts(test.texts, ["spam"] * len(test), "all-spam test")):  # any test split
        method = make_method(name, class_weight="auto", **params)
        fit_and_evaluate(method, train, test_split, validation=validation, time_prediction=False)
        chosen.append((method.class_weight_, method.predict_proba(validation.texts).tolist()))
    assert chosen[0][0] == expected and chosen[0] == chosen[1]

    unjudged = make_method(name, class_weight="auto", **params).fit(train.texts, train.labels)
    assert unjudged.class_weight_ is None  # no validation split: nothing to judge on, so unweighted
