"""`compare`: every method on one dataset, at several training sizes and seeds, into one report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np

from tunetext.compare import label_audit, label_sets, model_size, plots
from tunetext.compare.crossval import (CrossValidation, cross_validate, estimated_seconds, labeled_pool,
                                      needs_cross_validation, parse_cv, within_auto_budget)
from tunetext.compare.forecast import forecast_all, forecast_sentences
from tunetext.compare.plan import BUDGETS, Budget, Cell, cap_evaluation, caps_sentence, curve_splits, plan_cells
from tunetext.compare.report import curve_table, cv_table, forecast_table, summary_table, write_report
from tunetext.compare.lengths import length_table
from tunetext.compare.runner import claim_report_dir, run_cells
from tunetext.compare.statistics import METRICS, aggregate, bootstrap_interval, paired_test
from tunetext.compare.verdict import FINE_TUNED, calibration_sentence, contenders, cv_skipped_sentence, verdict
from tunetext.data import load_splits
from tunetext.data.dataset import DatasetSplits, indicator
from tunetext.errors import ConfigError
from tunetext.evaluation.skew import choose_metric, label_skew, recall_table


def run_comparison(
    data: str | DatasetSplits = "trec6",
    *,
    out: str | Path = "compare-report",
    methods: list[str] | None = None,
    budget: str | Budget = "fast",
    metric: str | None = None,
    params: dict[str, dict] | None = None,
    on_cell: Callable[[Cell, bool, int], None] | None = None,
    encoders: list[str] | None = None,
    cv: str | CrossValidation = "auto",
    **load_options,
) -> dict:
    """Run (or resume) the comparison and write the report into `out`; returns the summary written to results.json.

    `out` must be new, empty, or the report of an earlier comparison on the same data (which resumes).
    `metric` ranks the methods; None chooses from the training labels (macro-F1 when skewed, see `choose_metric`).
    `encoders` (two or more): every method with a `model` hyperparameter runs on each, and the report adds a model-size section.
    `cv`: "auto" cross-validates the two leaders over the labeled data when the test split is too small to separate
    them (see `crossval`), "K" or "KxR" always does (K folds, R repeats), "off" never.
    """
    cv_mode, cv_plan = parse_cv(cv)
    if metric is not None and metric not in METRICS + label_sets.METRICS:
        raise ConfigError(f"metric={metric!r}; use one of {', '.join(METRICS)} ({', '.join(label_sets.METRICS)} "
                          "for multi-label data).")
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ConfigError(f"budget={budget!r}; use one of {', '.join(BUDGETS)}.")
        budget = BUDGETS[budget]
    given = data if isinstance(data, DatasetSplits) else load_splits(data, **load_options)
    splits = cap_evaluation(given)
    if cv_mode == "always" and splits.train.is_multilabel:
        raise ConfigError(f"cv={cv!r}: cross-validating the leaders works on single-label data only so far; pass "
                          "cv='auto' or 'off' for multi-label data (its verdict rests on a paired bootstrap of the test split).")
    metric, metric_reason = choose_metric(splits.train.labels, metric)
    out = Path(out)
    fingerprint = splits.fingerprint()
    curve = curve_splits(splits)
    cells = plan_cells(methods, budget, splits.train, params, data=fingerprint, curve_data=curve.fingerprint(),
                       encoders=encoders)
    claim_report_dir(out, splits, fingerprint)
    results = run_cells(cells, splits, out, on_start=on_cell, curve=curve)
    rows = aggregate(results)

    classes = splits.classes
    first_full = {r["method"]: r for r in reversed(results) if r["size_per_class"] is None and r["seed"] == 0}
    if splits.train.is_multilabel:  # texts resampled, and both methods scored on the same resamples
        truth = indicator(splits.test.labels, classes)
        intervals = {m: label_sets.bootstrap_interval(truth, np.array(r["predicted"])) for m, r in first_full.items()}

        def test(a: list, b: list) -> dict:
            return label_sets.paired_bootstrap(truth, np.array(a), np.array(b), metric)
    else:
        true_index = np.array([classes.index(label) for label in splits.test.labels])
        intervals = {m: bootstrap_interval(true_index, np.array(r["predicted"]), len(classes)) for m, r in first_full.items()}

        def test(a: list, b: list) -> dict:
            return paired_test(true_index, np.array(a), np.array(b), len(classes), metric)

    def rows_test(a: str, b: str) -> dict:
        """The paired test of two full-size rows, by name."""
        return test(first_full[a]["predicted"], first_full[b]["predicted"])

    paired = _paired_test(rows, metric, rows_test)
    cross_validated = cv_skipped = None
    if cv_plan and needs_cross_validation(cv_mode, paired, len(splits.test)):
        leaders = [next(c for c in cells if c.label == name and c.size is None and c.seed == 0)
                   for name in (paired["first"], paired["second"])]
        estimate = estimated_seconds([first_full[c.label]["train_seconds"] for c in leaders], cv_plan,
                                     len(labeled_pool(splits)[0]), len(splits.train))
        spent = sum(float(r["train_seconds"]) for r in results)
        if cv_mode == "auto" and not within_auto_budget(estimate, spent):
            cv_skipped = {"plan": cv_plan.name, "estimate_seconds": estimate, "spent_seconds": spent,
                          "folds": cv_plan.folds}
        else:
            cross_validated = cross_validate(leaders, splits, cv_plan, out, metric, on_start=on_cell)
    learners = [r["method"] for r in contenders(rows) if r["size_per_class"] is not None]
    forecasts = forecast_all(results, metric, sorted(set(learners)))

    lines = verdict(rows, metric, splits.name, len(classes), paired, cross_validated, n_train=len(splits.train))
    if cv_skipped:
        lines.append(cv_skipped_sentence(cv_skipped))
    leaders = _leaders(rows, first_full, metric)
    if sentence := calibration_sentence(leaders):
        lines.append(sentence)
    size = model_size.section(rows, cells, metric, out, rows_test)
    lines += size.sentences
    audit = label_audit.section(splits.train, cells, out)
    lines += audit.sentences
    best = max((r for r in contenders(rows) if r["size_per_class"] is None), key=lambda r: r[metric])
    lines += forecast_sentences(forecasts, best["method"], metric)
    figures = [
        ("Learning curves", plots.learning_curves(rows, metric, out / "learning_curves.png", forecasts)),
        ("Accuracy against training cost", plots.pareto(rows, metric, out / "pareto.png")),
        ("F1 per class", plots.per_class_f1(_best_per_family(rows, first_full, metric), out / "per_class_f1.png")),
    ]
    if "confusion_matrix" in first_full[best["method"]]:  # multi-label data has none: a text may have several labels
        figures.insert(2, (f"Confusion matrix of {best['method']}",
                           plots.confusion(first_full[best["method"]]["confusion_matrix"], classes,
                                           f"{best['method']} on {splits.name} (test)", out / "confusion_best.png")))
    if leaders:
        figures.append(("Reliability diagram (are the probabilities honest?)",
                        plots.reliability({r["method"]: r["reliability"] for r in leaders}, out / "reliability.png")))
    for name, series in _diagnostics(first_full).items():
        path = out / f"diagnostic-{re.sub(r'[^A-Za-z0-9_-]', '_', name)}.png"  # a file name, whatever the key
        figures.append((next(iter(series.values()))["title"], plots.diagnostic(series, path)))
    summary = {
        "dataset": splits.name, "classes": classes, "metric": metric, "n_train": len(splits.train),
        "n_test": len(splits.test), "budget": budget.__dict__, "verdict": lines, "aggregated": rows,
        "bootstrap_95": intervals, "paired_test": paired, "cross_validation": cross_validated, "cross_validation_skipped": cv_skipped,
        "forecast": [f.as_dict() for f in forecasts], "metric_reason": metric_reason,
    } | size.summary | audit.summary
    lengths = length_table(cells, splits.train.texts)  # None when no planned method reads texts with an encoder
    length_tables = [] if lengths is None else [("Text lengths (training texts, tokens) and how long ones are read",
                                                  lengths[0])]
    summary |= {} if lengths is None else lengths[1]
    setup = (f"Dataset {splits.name}: {len(splits.train):,} train / {len(splits.test):,} test texts, "
             f"{len(classes)} classes. Training sizes per class: "
             f"{', '.join('all' if s is None else str(s) for s in budget.sizes)}; "
             f"{budget.seeds_subsampled} seeds on subsamples, {budget.seeds_full} on the full set. "
             f"Costs measured on this machine.{caps_sentence(given)} {metric_reason}")
    write_report(out, title=f"tunetext compare — {splits.name}", setup=setup, verdict=lines,
                 tables=[("Full training set", summary_table(rows, intervals, metric)),
                         (f"Learning curves ({metric}, mean ± std over seeds)", curve_table(rows, metric)),
                         ("Recall per class of the leaders (full training set, smallest classes first)",
                          _leaders_recall(rows, first_full, metric, splits.train.labels)),
                         ("Learning-curve forecast (fitted power law; 95% interval from seeds)",
                          forecast_table(forecasts))]
                 + ([("Cross-validation of the leaders", cv_table(cross_validated, rows, metric))] if cross_validated else [])
                 + size.tables + length_tables + audit.tables,
                 plots=figures + size.figures, cells=results, summary=summary)
    return summary


def _paired_test(rows: list[dict], metric: str, test: Callable[[str, str], dict]) -> dict | None:
    """`test(row_a, row_b)` (`statistics.paired_test`; for multi-label, a paired bootstrap) between the best
    fine-tuned and the best other method on the full training set."""
    full = [r for r in contenders(rows) if r["size_per_class"] is None]
    ft = [r for r in full if r["family"] == FINE_TUNED]
    other = [r for r in full if r["family"] != FINE_TUNED]
    if not ft or not other:
        return None
    a, b = max(ft, key=lambda r: r[metric])["method"], max(other, key=lambda r: r[metric])["method"]
    return {"first": a, "second": b} | test(a, b)


def _leaders_recall(rows: list[dict], first_full: dict, metric: str, train_labels) -> tuple[list[str], list[list[str]]]:
    """The three best contenders' recall on the smallest classes: a method ignoring a small class shows here."""
    full = sorted((r for r in contenders(rows) if r["size_per_class"] is None), key=lambda r: -r[metric])
    leaders = [r["method"] for r in full[:3]]
    return recall_table({m: first_full[m]["per_class"] for m in leaders}, leaders, label_skew(train_labels))


def _best_per_family(rows: list[dict], first_full: dict, metric: str) -> dict[str, dict]:
    best: dict[str, dict] = {}
    for r in contenders(rows):
        if r["size_per_class"] is None and (r["family"] not in best or r[metric] > best[r["family"]][metric]):
            best[r["family"]] = r
    return {r["method"]: first_full[r["method"]]["per_class"] for r in best.values()}


def _leaders(rows: list[dict], first_full: dict, metric: str, n: int = 3) -> list[dict]:
    """The full-size cells of the `n` best contenders, for calibration (cells saved before it existed have none)."""
    full = sorted((r for r in contenders(rows) if r["size_per_class"] is None), key=lambda r: -r[metric])
    return [first_full[r["method"]] for r in full[:n] if "ece" in first_full.get(r["method"], {})]


def _diagnostics(first_full: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """{diagnostic name: {method: series}} from the full-size cells, so each name becomes one figure."""
    figures: dict[str, dict[str, dict]] = {}
    for method, result in first_full.items():
        for name, series in result.get("diagnostics", {}).items():  # cells saved before diagnostics existed have none
            figures.setdefault(name, {})[method] = series
    return figures
