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


def test_a_lead_that_is_not_significant_ships_the_cheap_method():
    assert ("**Ship tfidf-svm**: fine-tuning's 3.0-point lead is not significant at 5% (McNemar p = 0.3) and costs "
            "366× the training time.") in text(0.56, 0.53, 0.30)


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
