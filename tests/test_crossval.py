"""Cross-validating the leaders: when it runs, on which data, the corrected paired test, and resuming folds."""

import numpy as np
import pytest

from tunetext.compare.crossval import (AUTO, SMALL_TEST, CrossValidation, cross_validate, estimated_seconds,
                                       labeled_pool, needs_cross_validation, parse_cv, within_auto_budget)
from tunetext.compare.plan import Cell
from tunetext.compare.statistics import corrected_resampled_t_test, paired_test
from tunetext.compare.verdict import cv_skipped_sentence
from tunetext.data.dataset import DatasetSplits, LabeledTexts
from tunetext.errors import ConfigError


def test_the_cv_setting_reads_auto_off_folds_and_repeats():
    assert parse_cv("auto") == ("auto", AUTO) and parse_cv("off") == ("off", None)
    assert parse_cv("5") == ("always", CrossValidation(5, 1)) and parse_cv("3x2") == ("always", CrossValidation(3, 2))
    with pytest.raises(ConfigError, match=r"cv='five'; use auto, off, K"):
        parse_cv("five")
    with pytest.raises(ConfigError, match="at least 2 folds"):
        parse_cv("1")


def test_auto_runs_only_when_a_small_test_split_cannot_separate_the_leaders():
    spanning, separated = {"difference_95": (-0.01, 0.04)}, {"difference_95": (0.01, 0.04)}
    assert needs_cross_validation("auto", spanning, 487)
    assert not needs_cross_validation("auto", separated, 487)
    assert not needs_cross_validation("auto", spanning, SMALL_TEST)
    assert not needs_cross_validation("off", spanning, 487) and not needs_cross_validation("auto", None, 487)
    assert needs_cross_validation("always", separated, 10_000)


def test_the_paired_difference_interval_spans_zero_only_for_a_small_gap():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 400)
    a = np.where(rng.random(400) < 0.85, truth, 1 - truth)
    b = np.where(rng.random(400) < 0.83, truth, 1 - truth)
    low, high = paired_test(truth, a, b, 2, "accuracy")["difference_95"]
    assert low < 0 < high
    low, high = paired_test(truth, truth, b, 2, "f1_macro")["difference_95"]
    assert 0 < low < high


def test_the_paired_test_is_of_the_ranking_metric_mcnemar_for_accuracy_a_bootstrap_for_macro_f1():
    """Skewed data: `a` finds the small class, `b` never predicts it, and both get the same number of texts right.
    McNemar (error counts) sees nothing; the macro-F1 test sees the small class."""
    truth = np.array([1] * 40 + [0] * 360)
    a = truth.copy()
    a[:8] = 0  # misses 8 of 40 small-class texts ...
    a[40:72] = 1  # ... and raises 32 false alarms: 40 errors
    b = np.zeros_like(truth)  # all 40 small-class texts wrong: 40 errors too
    by_accuracy = paired_test(truth, a, b, 2, "accuracy")
    assert by_accuracy["p_value"] == 1.0 and "test" not in by_accuracy  # McNemar: 40 against 40 disagreements
    by_f1 = paired_test(truth, a, b, 2, "f1_macro")
    assert by_f1["test"] == "paired bootstrap of f1_macro"
    assert by_f1["difference"] > 0.2 and by_f1["p_value"] < 0.01
    assert 0 < by_f1["difference_95"][0] <= by_f1["difference"] <= by_f1["difference_95"][1]
    # every resample favours `a`: p is the smallest 1,000 resamples can show, not 0 (never "p = 0")
    assert by_f1["p_value"] == 2 / 1001


def part(n, offset=0):
    return LabeledTexts([f"text {offset + i}" for i in range(n)], ["a", "b"] * (n // 2))


def test_a_test_split_that_came_with_the_data_is_never_pooled():
    official = DatasetSplits("cat", part(40), part(10, 100), part(6, 200), info={"official_split": True})
    carved = DatasetSplits("file", part(40), part(10, 100), part(6, 200),
                           info={"split": "test, validation carved from train (stratified, seed 0)"})
    given = DatasetSplits("folder", part(40), part(10, 100), part(6, 200), info={"split": "validation carved from train"})
    assert len(labeled_pool(official)[0]) == 46 and "stays held out" in labeled_pool(official)[1]
    assert len(labeled_pool(carved)[0]) == 56 and "pooled" in labeled_pool(carved)[1]
    assert len(labeled_pool(given)[0]) == 46
    assert len(labeled_pool(DatasetSplits("api", part(40), part(10, 100)))[0]) == 40  # unknown: held out


def test_the_corrected_t_test_is_wider_than_the_naive_one_and_matches_the_formula():
    d = np.array([0.03, 0.01, 0.04, 0.02, 0.00])
    test = corrected_resampled_t_test(d, 1 / 4)
    se = np.sqrt((1 / 5 + 1 / 4) * d.var(ddof=1))
    assert test["mean"] == pytest.approx(0.02) and test["df"] == 4
    assert test["high"] - test["mean"] == pytest.approx(2.776445 * se, rel=1e-5)
    naive = corrected_resampled_t_test(d, 0.0)
    assert naive["p_value"] < test["p_value"] < 0.2
    assert corrected_resampled_t_test(np.zeros(3), 0.5)["p_value"] == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        corrected_resampled_t_test(np.array([0.1]), 0.5)


def test_cross_validation_runs_each_leader_on_every_fold_and_resumes(real_slice, tmp_path):
    splits = DatasetSplits("trec6-slice", real_slice("trec6", "train", 240), real_slice("trec6", "test", 60),
                           info={"split": "test carved from train (stratified, seed 0)"})
    leaders = [Cell("tfidf-svm", None, 0, "x"), Cell("tfidf-nb", None, 0, "x")]
    plan = CrossValidation(3, 1)
    result = cross_validate(leaders, splits, plan, tmp_path, "accuracy")
    assert result["n_pool"] == 300 and result["extra_runs"] == 6 and "pooled" in result["data"]
    assert [len(result["scores"][m]["folds"]) for m in ("tfidf-svm", "tfidf-nb")] == [3, 3]
    svm, nb = (np.array(result["scores"][m]["folds"]) for m in ("tfidf-svm", "tfidf-nb"))
    assert result["difference"]["mean"] == pytest.approx(float((svm - nb).mean()))
    assert len(list((tmp_path / "cv" / "cells").glob("*.json"))) == 6
    seen = []
    again = cross_validate(leaders, splits, plan, tmp_path, "accuracy", on_start=lambda cell, done, total: seen.append(done))
    assert seen == [True] * 6 and again["scores"] == result["scores"]


def test_too_few_texts_in_a_class_for_the_folds_is_refused(tmp_path):
    splits = DatasetSplits("tiny", part(6), part(2, 100), info={"official_split": False})
    with pytest.raises(ConfigError, match=r"cv=5: the smallest class has 4 labeled texts.*cv=4"):
        cross_validate([Cell("tfidf-svm", None, 0, "x"), Cell("tfidf-nb", None, 0, "x")], splits,
                       CrossValidation(5), tmp_path, "accuracy")


def test_auto_never_more_than_doubles_the_training_time_and_says_how_to_ask():
    # Two leaders that trained in 100 s and 1 s on 900 texts; 5 folds over a pool of 1,000 train on 800 each.
    estimate = estimated_seconds([100.0, 1.0], CrossValidation(5, 1), n_pool=1000, n_train=900)
    assert estimate == pytest.approx(5 * 101 * 800 / 900)
    assert within_auto_budget(estimate, spent=600.0) and not within_auto_budget(estimate, spent=300.0)
    sentence = cv_skipped_sentence({"plan": "5-fold", "estimate_seconds": estimate, "spent_seconds": 300.0, "folds": 5})
    assert "7.5 min" in sentence and "5.0 min" in sentence and "--cv 5" in sentence
