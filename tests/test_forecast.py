"""Learning-curve forecasts: the fit recovers a known curve, falls back with few sizes, and the sentences follow the numbers."""

import numpy as np
import pytest

from tunetext.compare.forecast import FALLBACK_EXPONENT, fit_curve, forecast_method, forecast_sentences, power_law


def cells(method, a, b, c, sizes=(48, 192, 768, 3000), noise=0.0, seeds=3, seed=0):
    """Cells along score = a − b·n^(−c): `seeds` per subsampled size, one at the largest (compare's layout)."""
    rng = np.random.default_rng(seed)
    return [{"method": method, "n_train": n, "accuracy": float(power_law(n, a, b, c) + rng.normal(0, noise))}
            for n in sizes for _ in range(1 if n == sizes[-1] else seeds)]


def test_the_fit_recovers_a_known_curve_and_forecasts_beyond_it():
    f = forecast_method("finetune", cells("finetune", 0.92, 1.5, 0.5, noise=0.003), "accuracy")
    truth = power_law(np.array([6000, 12000]), 0.92, 1.5, 0.5)
    assert f.n_now == 3000 and f.sizes_used == 4
    assert abs(f.points[2][0] - truth[0]) < 0.01 and abs(f.points[4][0] - truth[1]) < 0.015
    for factor in (2, 4):
        point, low, high = f.points[factor]
        assert low <= point <= high and high - low < 0.05


def test_an_honest_check_fits_the_subsamples_only_and_forecasts_the_full_size():
    sub = [c for c in cells("svm", 0.88, 1.2, 0.4, noise=0.002) if c["n_train"] < 3000]
    f = forecast_method("svm", sub, "accuracy", n_now=3000)
    assert f.sizes_used == 3 and abs(f.score_now - power_law(3000, 0.88, 1.2, 0.4)) < 0.015


def test_noisier_seeds_give_wider_intervals():
    width = [np.subtract(*forecast_method("m", cells("m", 0.9, 1.5, 0.5, noise=noise), "accuracy").points[4][2:0:-1])
             for noise in (0.002, 0.03)]
    assert width[1] > 2 * width[0]


def test_few_sizes_fall_back_and_a_falling_curve_is_never_extrapolated_downwards():
    two = fit_curve(np.array([100, 100, 400]), np.array([0.70, 0.72, 0.80]))
    assert two.c == FALLBACK_EXPONENT and two(400) == pytest.approx(0.80, abs=1e-6) and two(1600) > 0.80
    assert fit_curve(np.array([500.0]), np.array([0.75])).b == 0.0
    falling = fit_curve(np.array([100, 400]), np.array([0.80, 0.78]))
    assert falling.b == 0.0 and falling(10_000) == pytest.approx(0.79)
    capped = fit_curve(np.array([10, 100, 1000, 10000]), np.array([0.5, 0.9, 0.99, 0.999]))
    assert capped.a <= 1.0


def rising_and_flat():
    return [forecast_method("finetune", cells("finetune", 0.97, 3.0, 0.5), "accuracy"),
            forecast_method("tfidf-svm", cells("tfidf-svm", 0.86, 30.0, 1.2), "accuracy")]


def test_a_rising_leader_makes_more_labels_the_better_bet():
    finetune, svm = rising_and_flat()
    assert finetune.rising and not svm.rising
    text = " ".join(forecast_sentences([finetune, svm], "finetune", "accuracy"))
    assert f"Still rising (fitted learning curves, forecast at 2× and 4× the labeled data): finetune (+{finetune.gain(2):.1f} points" in text
    assert "every other curve gains under 1 point at 2×" in text
    assert f"More labels are a good bet: finetune is forecast to reach {finetune.points[2][0]:.3f} at 2×" in text


def test_a_flat_leader_overtaken_by_a_rising_method_says_so():
    finetune, svm = rising_and_flat()
    flat_leader = forecast_method("nbsvm", cells("nbsvm", 0.93, 200.0, 1.5), "accuracy")
    assert flat_leader.score_now > finetune.score_now and not flat_leader.rising
    text = " ".join(forecast_sentences([finetune, svm, flat_leader], "nbsvm", "accuracy"))
    assert "With 4× the labels, finetune is forecast to overtake nbsvm" in text and "better bet" in text


def test_when_every_curve_is_flat_more_labels_are_a_poor_bet():
    _, svm = rising_and_flat()
    text = " ".join(forecast_sentences([svm], "tfidf-svm", "accuracy"))
    assert "Every learning curve has flattened" in text
    assert "More labels are a poor bet for tfidf-svm" in text and "a different method" in text
    assert forecast_sentences([], "tfidf-svm", "accuracy") == []


def test_forecasts_start_from_the_measured_full_size_score():
    measured = cells("finetune", 0.92, 1.5, 0.5)
    measured[-1]["accuracy"] += 0.01  # the single full-size cell sits above the curve
    f = forecast_method("finetune", measured, "accuracy")
    assert f.score_now == pytest.approx(measured[-1]["accuracy"])
    rise = power_law(6000, 0.92, 1.5, 0.5) - power_law(3000, 0.92, 1.5, 0.5)
    assert f.points[2][0] == pytest.approx(f.score_now + rise, abs=0.004)
