"""Is it worth labeling more? Each method's learning curve, fitted and extrapolated to 2× and 4× the labeled data.

The curve is a saturating power law, score = a − b·n^(−c): it rises ever more slowly towards a ceiling `a`,
the shape learning curves take in practice (Hestness et al. 2017, "Deep learning scaling is predictable,
empirically"). The interval comes from refitting on seeds drawn with replacement at each size, so it
reflects seed-to-seed noise, not the chance that the curve's shape itself is wrong.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

FACTORS = (2, 4)
"""Forecast at these multiples of the current labeled data."""

FALLBACK_EXPONENT = 0.5
"""The exponent `c` assumed when fewer than three sizes leave it undetermined: a middle value of those seen in
text classification learning curves (roughly 0.2–1)."""

RISING_POINTS = 1.0
"""A curve forecast to gain at least this many points at 2× the data is 'still rising'."""


def power_law(n, a, b, c):
    return a - b * np.power(n, -c)


@dataclass(frozen=True)
class Curve:
    """A fitted learning curve: score = a − b·n^(−c)."""

    a: float
    b: float
    c: float

    def __call__(self, n) -> np.ndarray:
        return power_law(np.asarray(n, dtype=float), self.a, self.b, self.c)


EXPONENTS = np.geomspace(0.02, 2.0, 80)
"""Exponents `c` tried in the fit: for each, (a, b) is a linear least-squares problem, so the whole search is a few
array operations — fast enough to refit hundreds of times for the interval, and it cannot fail to converge."""


def fit_curve(n: np.ndarray, score: np.ndarray) -> Curve:
    """Least-squares fit of the power law to (training size, score) points, one point per seed.

    The ceiling `a` is at most 1 (scores are) and `b` at least 0 (a curve never forecasts a fall with more data).
    With three or more distinct sizes `c` is fitted too (over `EXPONENTS`); with two it is fixed at
    `FALLBACK_EXPONENT`; with one the curve is flat.
    """
    n, y = np.asarray(n, dtype=float), np.asarray(score, dtype=float)
    distinct = len(np.unique(n))
    if distinct < 2:
        return Curve(float(y.mean()), 0.0, FALLBACK_EXPONENT)
    c = EXPONENTS if distinct >= 3 else np.array([FALLBACK_EXPONENT])
    x = -np.power(n[None, :], -c[:, None])  # score = a + b·x, one row per exponent
    dx = x - x.mean(axis=1, keepdims=True)
    b = np.maximum((dx * (y - y.mean())).sum(axis=1) / (dx * dx).sum(axis=1), 0.0)
    a = y.mean() - b * x.mean(axis=1)
    over = a > 1.0  # refit b with the ceiling at 1
    b[over] = np.maximum((x[over] * (y - 1.0)).sum(axis=1) / (x[over] ** 2).sum(axis=1), 0.0)
    a[over] = 1.0
    best = int(np.argmin(((a[:, None] + b[:, None] * x - y) ** 2).sum(axis=1)))
    return Curve(float(a[best]), float(b[best]), float(c[best]))


@dataclass(frozen=True)
class Forecast:
    """One method's fitted curve and its score forecast at `FACTORS` × `n_now` (point, 95% interval)."""

    method: str
    n_now: float
    score_now: float
    """The measured score at `n_now` (mean over its cells) when compare ran that size, else the fitted curve's."""
    curve: Curve
    points: dict[int, tuple[float, float, float]]
    """{factor: (forecast, low, high)}."""
    sizes_used: int

    @property
    def rising(self) -> bool:
        return 100 * (self.points[FACTORS[0]][0] - self.score_now) >= RISING_POINTS

    def gain(self, factor: int) -> float:
        """Points forecast to be gained at `factor` × the current labeled data."""
        return 100 * (self.points[factor][0] - self.score_now)

    def as_dict(self) -> dict:
        return {"method": self.method, "n_now": self.n_now, "score_now": self.score_now, "a": self.curve.a,
                "b": self.curve.b, "c": self.curve.c, "sizes_used": self.sizes_used, "rising": self.rising,
                "forecast": {f"{factor}x": {"n": factor * self.n_now, "score": p, "low": low, "high": high}
                             for factor, (p, low, high) in self.points.items()}}


def forecast_method(method: str, cells: list[dict], metric: str, *, n_now: float | None = None,
                    resamples: int = 200, seed: int = 0) -> Forecast:
    """Fit `method`'s curve to its `cells` (one per size and seed: `n_train`, `metric`) and forecast `FACTORS` × `n_now`.

    `n_now` defaults to the largest training size among the cells (the full training set). When cells were run at
    `n_now`, forecasts start from their measured score and add the curve's rise beyond it, so the verdict's
    numbers agree with the measured ones.
    """
    by_size: dict[float, list[float]] = defaultdict(list)
    for cell in cells:
        by_size[float(cell["n_train"])].append(float(cell[metric]))
    sizes = sorted(by_size)
    n_now = float(n_now or sizes[-1])
    targets = np.array([n_now] + [factor * n_now for factor in FACTORS])

    measured = float(np.mean(by_size[n_now])) if n_now in by_size else None

    def predict(samples: dict[float, list[float]]) -> tuple[Curve, np.ndarray]:
        n = np.concatenate([[size] * len(scores) for size, scores in samples.items()])
        curve = fit_curve(n, np.concatenate(list(samples.values())))
        scores = curve(targets) if measured is None else measured + curve(targets) - curve(n_now)
        return curve, np.clip(scores, 0.0, 1.0)

    curve, point = predict({s: by_size[s] for s in sizes})
    rng = np.random.default_rng(seed)
    draws = np.array([predict({s: rng.choice(by_size[s], size=len(by_size[s])).tolist() for s in sizes})[1]
                      for _ in range(resamples)])
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    points = {factor: (float(point[i + 1]), float(min(low[i + 1], point[i + 1])), float(max(high[i + 1], point[i + 1])))
              for i, factor in enumerate(FACTORS)}
    return Forecast(method, n_now, float(point[0]), curve, points, len(sizes))


def forecast_all(cells: list[dict], metric: str, methods: list[str]) -> list[Forecast]:
    """A forecast for each of `methods` that was run at two or more training sizes (others have no curve)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for cell in cells:
        grouped[cell["method"]].append(cell)
    return [forecast_method(m, grouped[m], metric) for m in methods
            if len({c["n_train"] for c in grouped.get(m, [])}) >= 2]


def forecast_sentences(forecasts: list[Forecast], leader: str, metric: str) -> list[str]:
    """Which curves still rise, and whether more labels or a different method is the better bet — from the numbers.

    `leader` is the method the verdict ranks first on the full training set.
    """
    if not forecasts:
        return []
    by_method = {f.method: f for f in forecasts}
    big = FACTORS[-1]
    rising = sorted((f for f in forecasts if f.rising), key=lambda f: -f.gain(FACTORS[0]))
    if rising:
        parts = [f"{f.method} (+{f.gain(FACTORS[0]):.1f} points at {FACTORS[0]}×, +{f.gain(big):.1f} at {big}×)" for f in rising]
        lines = [f"Still rising (fitted learning curves, forecast at {FACTORS[0]}× and {big}× the labeled data): "
                 f"{', '.join(parts)}; every other curve gains under {RISING_POINTS:.0f} point at {FACTORS[0]}×."]
    else:
        lines = [f"Every learning curve has flattened: none is forecast to gain {RISING_POINTS:.0f} point or more of "
                 f"{metric} at {FACTORS[0]}× the labeled data."]
    if leader not in by_method:
        return lines
    lead = by_method[leader]
    score, low, high = lead.points[big]
    overtakers = [f for f in forecasts if f.method != leader and f.points[big][0] - score >= RISING_POINTS / 100]
    if overtakers:
        best = max(overtakers, key=lambda f: f.points[big][0])
        lines.append(f"With {big}× the labels, {best.method} is forecast to overtake {leader}: {best.points[big][0]:.3f} "
                     f"against {score:.3f}; if more labels are coming, that method is the better bet.")
    elif lead.rising:
        lines.append(f"More labels are a good bet: {leader} is forecast to reach {lead.points[FACTORS[0]][0]:.3f} at "
                     f"{FACTORS[0]}× the labeled data and {score:.3f} (95% interval {low:.3f}–{high:.3f}) at {big}×, "
                     f"from {lead.score_now:.3f} now.")
    else:
        lines.append(f"More labels are a poor bet for {leader} (+{lead.gain(big):.1f} points forecast at {big}× the "
                     f"labeled data, {score:.3f}, 95% interval {low:.3f}–{high:.3f}): a different method or cleaner "
                     "labels are likelier to help.")
    return lines
