"""The verdict's wording in every direction: fine-tuning ahead (significantly or not), level, and behind."""

from tunetext.compare.verdict import verdict


def full_row(method, family, f1, seconds, accuracy=0.80):
    return {"method": method, "family": family, "size_per_class": None, "accuracy": accuracy, "f1_macro": f1,
            "seeds": 1, "n_train": 979, "train_seconds": seconds, "predict_texts_per_second": 100.0, "size_mb": 1.0,
            "reference": False}


def text(ft_f1, other_f1, p_value, ft_seconds=366.0, other_seconds=1.0):
    rows = [full_row("finetune", "fine-tuned", ft_f1, ft_seconds), full_row("tfidf-svm", "traditional", other_f1, other_seconds)]
    return "\n".join(verdict(rows, "f1_macro", "reviews", 3, {"p_value": p_value}))


def test_a_significant_lead_ships_fine_tuning():
    lines = text(0.60, 0.53, 0.001)
    assert "the best method by f1_macro is **finetune**: f1_macro 0.600" in lines
    assert "Fine-tuning (finetune) beats the best method without fine-tuning (tfidf-svm) by 7.0 points" in lines
    assert "**Ship finetune** if 7.0 points are worth its training and serving cost; otherwise tfidf-svm." in lines


def test_with_one_training_size_no_sentence_about_sizes():
    lines = text(0.60, 0.53, 0.001)
    assert "training size" not in lines and "leads at every" not in lines


def test_a_lead_that_is_not_significant_ships_the_cheap_method():
    assert ("**Ship tfidf-svm**: fine-tuning's 3.0-point lead is not significant at 5% (McNemar p = 0.3) and costs "
            "366× the training time.") in text(0.56, 0.53, 0.30)
    rows = [full_row("finetune", "fine-tuned", 0.56, 366.0), full_row("tfidf-svm", "traditional", 0.53, 1.0)]
    paired = {"p_value": 0.25, "test": "paired bootstrap of f1_macro", "n_test": 484}
    assert ("(test split of 484 texts, paired bootstrap of f1_macro p = 0.25: not significant at 5%)"
            in "\n".join(verdict(rows, "f1_macro", "reviews", 3, paired)))


def test_a_lead_under_a_point_is_too_small():
    assert "**Ship tfidf-svm**: fine-tuning's 0.5-point lead is too small to pay for 366× the training time." in text(0.535, 0.53, 0.01)


def test_a_tie_says_level_not_behind():
    lines = text(0.53, 0.53, 1.0)
    assert "Fine-tuning (finetune) is level with the best method without fine-tuning (tfidf-svm) on the full" in lines
    assert "trails" not in lines and "beats" not in lines
    assert "**Ship tfidf-svm**: fine-tuning scores the same f1_macro for 366× the training time." in lines


def test_a_loss_says_fine_tuning_trails_and_the_other_method_is_better_and_cheaper():
    """The case of issue 21: finetune 9.2 points behind was reported as a lead 'within noise'."""
    lines = text(0.438, 0.530, 0.001)
    assert "the best method by f1_macro is **tfidf-svm**: f1_macro 0.530" in lines
    assert "Fine-tuning (finetune) trails the best method without fine-tuning (tfidf-svm) by 9.2 points" in lines
    assert ("**Ship tfidf-svm**: fine-tuning (finetune) trails it by 9.2 points of f1_macro; tfidf-svm is better "
            "and cheaper.") in lines
    assert "within noise" not in lines and "-9.2" not in lines


def test_a_loss_to_a_slower_method_says_so():
    lines = text(0.50, 0.53, 0.2, ft_seconds=10.0, other_seconds=30.0)
    assert "(1/3 of the time)" in lines
    assert ("trails it by 3.0 points of f1_macro (not significant at 5%); tfidf-svm is better, though slower to "
            "train (fine-tuning takes 1/3 of the training time).") in lines


def cv_result(ft_mean, other_mean, low, high, p_value, first="finetune", second="tfidf-svm"):
    return {"first": first, "second": second, "plan": "5-fold", "folds": 5, "repeats": 1, "n_pool": 4866,
            "data": "train, validation and test splits pooled (the test split was carved by tunetext)",
            "scores": {first: {"mean": ft_mean, "std": 0.01}, second: {"mean": other_mean, "std": 0.012}},
            "difference": {"mean": ft_mean - other_mean, "low": low, "high": high, "p_value": p_value, "df": 4},
            "extra_runs": 10, "extra_train_seconds": 1260.0}


def with_cv(cv, ft_f1=0.56, other_f1=0.53, p_value=0.30):
    rows = [full_row("finetune", "fine-tuned", ft_f1, 366.0), full_row("tfidf-svm", "traditional", other_f1, 1.0)]
    return "\n".join(verdict(rows, "f1_macro", "reviews", 3, {"p_value": p_value, "n_test": 487}, cv))


def test_a_cross_validated_lead_overrules_a_test_split_too_small_to_tell():
    lines = with_cv(cv_result(0.84, 0.81, 0.012, 0.048, 0.008))
    assert "(test split of 487 texts, McNemar p = 0.3: not significant at 5%)" in lines
    assert ("Cross-validated (5-fold, 4,866 labeled texts: train, validation and test splits pooled (the test split "
            "was carved by tunetext); the test split's scores above are reported separately): finetune f1_macro "
            "0.840 ± 0.010, tfidf-svm 0.810 ± 0.012 over folds; difference +3.0 points (95% interval +1.2 to +4.8, "
            "corrected resampled t-test p = 0.008: a real difference). It cost 10 extra training runs, 21.0 min") in lines
    assert ("**Ship finetune** if 3.0 points are worth its training and serving cost; otherwise tfidf-svm. "
            "(evidence: 5-fold cross-validation)") in lines


def test_a_cross_validated_tie_keeps_the_cheap_method_and_says_which_evidence():
    lines = with_cv(cv_result(0.825, 0.81, -0.004, 0.034, 0.09))
    assert ("**Ship tfidf-svm**: fine-tuning's 1.5-point lead is not significant at 5% (corrected resampled t-test "
            "p = 0.09) and costs 366× the training time. (evidence: 5-fold cross-validation)") in lines


def test_a_test_split_that_separated_the_leaders_is_not_overruled_by_few_folds_pointing_the_same_way():
    """rt-snippets, measured: the test split gave finetune +6.4 points over probe (interval +2.7 to +10.3, McNemar
    p = 0.003); 3 forced folds gave +5.4 (-2.0 to +12.9, p = 0.088). The folds must not turn that into 'ship probe'."""
    rows = [full_row("finetune", "fine-tuned", 0.791, 355.0), full_row("probe", "pretrained", 0.727, 1.0)]
    paired = {"p_value": 0.00265, "n_test": 487, "difference_95": (0.027, 0.103)}
    cv = cv_result(0.799, 0.744, -0.020, 0.129, 0.0878, second="probe") | {"plan": "3-fold", "folds": 3}
    cv["difference"]["df"] = 2
    lines = "\n".join(verdict(rows, "f1_macro", "rt-snippets", 2, paired, cv))
    assert ("**Ship finetune** if 6.4 points are worth its training and serving cost; otherwise probe. (evidence: "
            "the test split, which separated them; 3-fold cross-validation points the same way)") in lines
    assert "3 fold results leave the t-test 2 degrees of freedom and little power; --cv 5x2 gives it more." in lines
    opposite = cv_result(0.744, 0.799, -0.129, 0.020, 0.0878, second="probe") | {"plan": "3-fold", "folds": 3}
    lines = "\n".join(verdict(rows, "f1_macro", "rt-snippets", 2, paired, opposite))
    assert "trails it by 5.5 points" in lines and "(evidence: 3-fold cross-validation)" in lines


def test_cross_validation_of_another_pair_leaves_the_recommendation_on_the_test_split():
    lines = with_cv(cv_result(0.84, 0.81, 0.01, 0.05, 0.01, second="nbsvm"))
    assert "Cross-validated (5-fold" in lines
    assert "(McNemar p = 0.3) and costs 366× the training time. (evidence: the test split)" in lines


def test_the_cross_validated_difference_keeps_its_sign_when_the_other_method_is_first():
    lines = with_cv(cv_result(0.81, 0.84, 0.012, 0.048, 0.008, first="tfidf-svm", second="finetune"))
    assert "**Ship finetune** if 3.0 points" in lines


def small_row(method, family, f1, std, seconds=2.0):
    return {**full_row(method, family, f1, seconds), "size_per_class": 8, "f1_macro_std": std, "n_train": 24}


def few_label_rows(contrastive_f1, finetune_f1, std):
    return [full_row("finetune", "fine-tuned", 0.60, 366.0), full_row("tfidf-svm", "traditional", 0.53, 1.0),
            small_row("contrastive", "fine-tuned", contrastive_f1, std), small_row("finetune", "fine-tuned", finetune_f1, std),
            small_row("tfidf-svm", "traditional", 0.30, std, seconds=0.1)]


def test_the_verdict_names_the_best_method_at_the_smallest_size():
    lines = "\n".join(verdict(few_label_rows(0.70, 0.55, 0.03), "f1_macro", "reviews", 3, {"p_value": 0.01}))
    assert ("With few labels (8 examples per class), start with **contrastive**: f1_macro 0.700 ± 0.030, ahead of "
            "finetune by 15.0 points, trained in 2.0 s.") in lines


def test_a_few_label_lead_within_the_seed_spread_is_called_level():
    lines = "\n".join(verdict(few_label_rows(0.56, 0.55, 0.03), "f1_macro", "reviews", 3, {"p_value": 0.01}))
    assert "start with **contrastive**: f1_macro 0.560 ± 0.030, level with finetune (1.0 points, within the spread" in lines
    assert "ahead of finetune" not in lines


def test_no_few_label_sentence_without_subsamples():
    assert "With few labels" not in text(0.60, 0.53, 0.001)


def test_a_leader_trained_on_a_capped_sample_is_said_to_be():
    """On 400,000 training texts the report said '200,000 training texts': the leader's capped sample, not the data."""
    rows = [full_row("finetune", "fine-tuned", 0.56, 366.0), full_row("tfidf-svm", "traditional", 0.60, 1.0)]
    assert "On reviews (979 training texts, 3 classes)" in "\n".join(verdict(rows, "f1_macro", "reviews", 3, n_train=979))
    first = verdict(rows, "f1_macro", "reviews", 3, n_train=400_000)[0]
    assert first == ("On reviews (400,000 training texts, 3 classes) the best method by f1_macro is **tfidf-svm**: "
                     "f1_macro 0.600, trained on a stratified sample of 979.")
