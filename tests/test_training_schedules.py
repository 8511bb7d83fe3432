import math

import pytest

from tunetext.errors import ConfigError
from tunetext.training.schedules import constant, cosine, get_schedule, inverse_sqrt, linear, warmup_steps


def test_linear_warms_up_to_the_peak_then_decays_to_zero():
    assert linear(0, 10, 110) == pytest.approx(0.1)
    assert linear(9, 10, 110) == pytest.approx(1.0)
    assert linear(10, 10, 110) == pytest.approx(1.0)
    assert linear(60, 10, 110) == pytest.approx(0.5)
    assert linear(110, 10, 110) == 0.0


def test_cosine_is_half_way_down_at_mid_decay():
    assert cosine(4, 5, 105) == pytest.approx(1.0)
    assert cosine(55, 5, 105) == pytest.approx(0.5)
    assert cosine(105, 5, 105) == pytest.approx(0.0)


def test_constant_holds_the_peak_after_warmup():
    assert constant(1, 4, 100) == pytest.approx(0.5)
    assert constant(50, 4, 100) == 1.0
    assert constant(0, 0, 100) == 1.0


def test_inverse_sqrt_peaks_at_one_at_the_end_of_warmup_then_falls_as_one_over_root_step():
    warmup = 16
    assert inverse_sqrt(warmup - 1, warmup, 1000) == pytest.approx(1.0)  # s = w
    assert inverse_sqrt(7, warmup, 1000) == pytest.approx(0.5)  # s = w / 2: linear warm-up
    assert inverse_sqrt(4 * warmup - 1, warmup, 1000) == pytest.approx(0.5)  # s = 4w: 1 / sqrt(4)
    assert max(inverse_sqrt(s, warmup, 1000) for s in range(1000)) == pytest.approx(1.0)


def test_no_schedule_exceeds_the_peak_or_goes_negative():
    for name in ("linear", "cosine", "constant", "inverse_sqrt"):
        values = [get_schedule(name)(s, 7, 50) for s in range(50)]
        assert all(0 <= v <= 1 + 1e-12 for v in values), name
        assert max(values) == pytest.approx(1.0), name


def test_warmup_is_a_ratio_as_float_and_steps_as_int():
    assert warmup_steps(0.1, 250) == 25
    assert warmup_steps(30, 250) == 30
    assert warmup_steps(500, 250) == 250


def test_unknown_schedule_names_the_choices():
    with pytest.raises(ConfigError, match="unknown lr schedule 'triangle'; choose one of: linear, cosine"):
        get_schedule("triangle")
    assert not math.isnan(linear(0, 0, 1))
