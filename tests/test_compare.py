"""compare: the report's files, its resumability, and a verdict that says what the numbers say."""

import csv
import json

import matplotlib.image
import numpy as np
import pytest

from tunetext.compare import Budget, run_comparison
from tunetext.compare.plan import plan_cells, subsample
from tunetext.compare.statistics import bootstrap_interval, mcnemar
from tunetext.compare.verdict import crossover, verdict
from tunetext.data.dataset import DatasetSplits


@pytest.fixture(scope="module")
def splits(real_slice):
    return DatasetSplits("trec6-slice", real_slice("trec6", "train", 240), real_slice("trec6", "test", 80))


def test_report_is_complete_and_a_rerun_reuses_every_cell(splits, tmp_path, tiny_bert_path, feature_cache):
    methods = ["tfidf-svm", "tfidf-nb", "zeroshot", "finetune"]
    params = {"finetune": {"model": tiny_bert_path, "epochs": 1, "min_steps": 0}, "zeroshot": {"model": tiny_bert_path}}
    budget = Budget(sizes=(8, None), seeds_subsampled=2, seeds_full=1)
    summary = run_comparison(splits, out=tmp_path, methods=methods, budget=budget, params=params)

    # Every cell: learners at 2 seeds × size 8 + 1 at full size; zeroshot once.
    results = json.loads((tmp_path / "results.json").read_text())
    keys = {(c["method"], c["size_per_class"], c["seed"]) for c in results["cells"]}
    expected = {(m, s, seed) for m in ("tfidf-svm", "tfidf-nb", "finetune") for s, seed in ((8, 0), (8, 1), (None, 0))}
    assert keys == expected | {("zeroshot", None, 0)}
    at_most_8 = sum(min(8, n) for n in np.unique(splits.train.labels, return_counts=True)[1])
    assert {c["n_train"] for c in results["cells"] if c["size_per_class"] == 8} == {at_most_8}
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert len(rows) == len(results["cells"]) and {"accuracy", "ece", "brier", "train_seconds", "size_mb"} <= set(rows[0])
    assert results["verdict"] == summary["verdict"] and results["paired_test"]["first"] == "finetune"

    for name in ("learning_curves", "pareto", "confusion_best", "per_class_f1", "reliability"):
        png = tmp_path / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(png).shape[0] > 100
    md = (tmp_path / "report.md").read_text()
    assert "## Verdict" in md and "| tfidf-svm |" in md and "![Learning curves](learning_curves.png)" in md
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5 and "<table>" in html

    seen = []
    run_comparison(splits, out=tmp_path, methods=methods, budget=budget, params=params,
                   on_cell=lambda cell, done, total: seen.append(done))
    assert seen and all(seen)


def test_changed_params_are_not_reused(splits, tmp_path):
    budget = Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1)
    run_comparison(splits, out=tmp_path, methods=["tfidf-svm", "tfidf-nb"], budget=budget)
    seen = {}
    run_comparison(splits, out=tmp_path, methods=["tfidf-svm", "tfidf-nb"], budget=budget,
                   params={"tfidf-svm": {"C": 0.1}}, on_cell=lambda cell, done, total: seen.update({cell.method: done}))
    assert seen == {"tfidf-svm": False, "tfidf-nb": True}


def test_plan_collapses_sizes_that_cover_the_whole_training_set(real_slice):
    train = real_slice("trec6", "train", 120)  # no class has 1,000 examples
    cells = plan_cells(["tfidf-nb"], Budget(sizes=(4, 1000, None), seeds_subsampled=2, seeds_full=1), train, data="x")
    assert [(c.size, c.seed) for c in cells] == [(4, 0), (4, 1), (None, 0)]
    small = subsample(train, 4, seed=0)
    counts = dict(zip(*np.unique(train.labels, return_counts=True)))
    assert dict(zip(*np.unique(small.labels, return_counts=True))) == {c: min(4, n) for c, n in counts.items()}
    assert subsample(train, 4, seed=0).texts == small.texts and subsample(train, 4, seed=1).texts != small.texts


def test_the_fast_budget_starts_at_8_per_class_with_contrastive_only_on_few_label_data(real_slice):
    from tunetext.compare.plan import BUDGETS, FEW_LABELS

    few = real_slice("trec6", "train", 120)  # the largest class is far below FEW_LABELS
    many = real_slice("trec6", "train")
    assert np.unique(few.labels, return_counts=True)[1].max() <= FEW_LABELS
    assert np.unique(many.labels, return_counts=True)[1].max() > FEW_LABELS
    planned = plan_cells(None, BUDGETS["fast"], few, data="x")
    assert "contrastive" in {c.method for c in planned}
    assert [c.size for c in planned if c.method == "contrastive" and c.seed == 0] == [8, 16, None]
    planned = plan_cells(None, BUDGETS["fast"], many, data="x")
    assert "contrastive" not in {c.method for c in planned}
    assert 8 not in {c.size for c in planned} and 16 in {c.size for c in planned}


def test_the_full_budget_plans_only_methods_that_learn_from_one_dataset(real_slice):
    from tunetext.compare.plan import BUDGETS
    from tunetext.errors import ConfigError
    from tunetext.methods import get_method_class, list_methods

    train = real_slice("trec6", "train", 120)
    planned = {c.method for c in plan_cells(None, BUDGETS["full"], train, data="x")}
    assert planned == {m for m in list_methods() if get_method_class(m).comparable}
    assert "multitask" in list_methods() and "multitask" not in planned
    with pytest.raises(ConfigError, match="methods=multitask: compare runs methods on one labeled dataset"):
        plan_cells(["tfidf-nb", "multitask"], BUDGETS["fast"], train, data="x")


def row(method, family, size, accuracy, seconds=1.0, n_train=100, reference=False):
    return {"method": method, "family": family, "size_per_class": size, "accuracy": accuracy, "seeds": 1,
            "n_train": n_train, "train_seconds": seconds, "predict_texts_per_second": 100.0, "size_mb": 1.0,
            "reference": reference}


FIXTURE = [
    row("tfidf-svm", "traditional", 16, 0.70, 0.5), row("tfidf-svm", "traditional", 64, 0.78, 0.5),
    row("tfidf-svm", "traditional", None, 0.85, 1.0, 4000),
    row("finetune", "fine-tuned", 16, 0.60, 20.0), row("finetune", "fine-tuned", 64, 0.80, 40.0),
    row("finetune", "fine-tuned", None, 0.95, 200.0, 4000),
    row("probe", "pretrained", 16, 0.65, 5.0), row("probe", "pretrained", 64, 0.74, 5.0),
    row("probe", "pretrained", None, 0.84, 10.0, 4000),
    row("pretrained-head", "pretrained", None, 0.17, 0.1, 4000, reference=True),
]


def test_verdict_states_the_numbers():
    assert crossover(FIXTURE, "accuracy") == (64, True)
    lines = verdict(FIXTURE, "accuracy", "trec6", 6, {"p_value": 0.001})
    text = "\n".join(lines)
    assert "the most accurate method is **finetune**: accuracy 0.950" in text
    assert "beats the best method without fine-tuning (tfidf-svm) by 10.0 points" in text
    assert "a real difference" in text
    assert "from 64 examples per class on; at 16 examples per class, tfidf-svm is ahead by 10.0 points at 1/40" in text
    assert "200.0 s against 1.0 s for tfidf-svm (200× the time)" in text
    assert "the same encoder reaches 0.840 (probe); fine-tuning adds 11.0 points" in text
    assert "For scale, pretrained-head (a reference, not a contender) scores 0.170, against 0.167" in text
    assert "**Ship finetune**" in text


def test_a_reference_row_is_reported_apart_and_never_wins():
    """The verdict reads the row's `reference` flag (the method's `reference_row`), not the method's name."""
    rows = FIXTURE + [row("oracle", "pretrained", None, 0.99, 0.1, 4000, reference=True)]
    text = "\n".join(verdict(rows, "accuracy", "trec6", 6, {"p_value": 0.001}))
    assert "the most accurate method is **finetune**" in text and "reaches 0.840 (probe)" in text
    assert "For scale, oracle (a reference, not a contender) scores 0.990" in text


def test_a_lead_within_the_spread_over_seeds_is_not_a_crossover():
    noisy = [r | {"accuracy": 0.785, "accuracy_std": 0.02} if r["method"] == "finetune" and r["size_per_class"] == 64 else r
             for r in FIXTURE]
    assert crossover(noisy, "accuracy") == (None, True)  # 0.5 points ahead at 64/class, with a 2-point spread
    text = "\n".join(verdict(noisy, "accuracy", "trec6", 6, {"p_value": 0.001}))
    assert "at 64 examples per class, tfidf-svm is level (fine-tuning's 0.5 points are within the 2.0-point spread" in text


def test_verdict_recommends_the_cheap_method_when_fine_tuning_barely_helps():
    rows = [r | {"accuracy": 0.855} if r["method"] == "finetune" and r["size_per_class"] is None else r for r in FIXTURE]
    text = "\n".join(verdict(rows, "accuracy", "trec6", 6, {"p_value": 0.6}))
    assert "not significant at 5%" in text and "**Ship tfidf-svm**" in text


def test_bootstrap_interval_contains_the_point_estimate_and_mcnemar_counts_disagreements():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 300)
    pred = np.where(rng.random(300) < 0.8, truth, (truth + 1) % 3)
    low, high = bootstrap_interval(truth, pred, 3)["accuracy"]
    assert low < (pred == truth).mean() < high and high - low < 0.15
    test = mcnemar(truth, truth, pred)
    assert test["only_first_right"] == int((pred != truth).sum()) and test["only_second_right"] == 0
    assert test["p_value"] < 1e-6


def test_finetext_layer_weights_are_plotted(splits, tmp_path, tiny_bert_path, feature_cache):
    budget = Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1)
    run_comparison(splits, out=tmp_path, methods=["tfidf-nb", "finetext-frozen"], budget=budget,
                   params={"finetext-frozen": {"model": tiny_bert_path}})
    cells = {c["method"]: c for c in json.loads((tmp_path / "results.json").read_text())["cells"]}
    weights = cells["finetext-frozen"]["diagnostics"]["layer_weights"]
    assert weights["labels"] == ["emb", "1", "2"] and abs(sum(weights["values"]) - 1) < 1e-4  # tiny BERT: 2 layers
    assert cells["tfidf-nb"]["diagnostics"] == {}
    assert (tmp_path / "diagnostic-layer_weights.png").read_bytes()[:4] == b"\x89PNG"
    assert "![FineText layer weights](diagnostic-layer_weights.png)" in (tmp_path / "report.md").read_text()


def test_cross_validated_leaders_and_forecasts_reach_the_report(splits, tmp_path, tiny_bert_path):
    params = {"finetune": {"model": tiny_bert_path, "epochs": 1, "min_steps": 0}}
    budget = Budget(sizes=(8, 24, None), seeds_subsampled=2, seeds_full=1)
    summary = run_comparison(splits, out=tmp_path, methods=["tfidf-svm", "finetune"], budget=budget, params=params, cv="2")
    cv = summary["cross_validation"]
    assert (cv["first"], cv["second"], cv["n_pool"], cv["extra_runs"]) == ("finetune", "tfidf-svm", 240, 4)
    assert "stays held out" in cv["data"]  # a DatasetSplits of unknown provenance: its test split is never pooled
    full = {r["method"]: r[summary["metric"]] for r in summary["aggregated"] if r["size_per_class"] is None}
    low, high = summary["paired_test"]["difference_95"]
    assert low <= full["finetune"] - full["tfidf-svm"] <= high and low < high
    text = "\n".join(summary["verdict"])
    assert "Cross-validated (2-fold, 240 labeled texts" in text
    # the tiny model trails clearly: a split that separated the leaders stays the evidence, the folds agreeing
    assert not low <= 0 <= high and "(evidence: the test split, which separated them; 2-fold cross-validation" in text
    assert {f["method"] for f in summary["forecast"]} == {"tfidf-svm", "finetune"}
    md = (tmp_path / "report.md").read_text()
    assert "## Cross-validation of the leaders" in md and "## Learning-curve forecast" in md
    off = run_comparison(splits, out=tmp_path, methods=["tfidf-svm", "finetune"], budget=budget, params=params, cv="off")
    assert off["cross_validation"] is None and "evidence: the test split" in "\n".join(off["verdict"])


def test_full_size_cells_of_a_capped_family_train_on_a_stratified_sample_and_the_report_says_so(
        splits, tmp_path, monkeypatch):
    from tunetext.compare import plan

    monkeypatch.setitem(plan.FULL_SIZE_ROWS, "traditional", 100)
    budget = Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1)
    results = run_comparison(splits, out=tmp_path, methods=["tfidf-svm", "tfidf-nb"], budget=budget)
    cells = json.loads((tmp_path / "results.json").read_text())["cells"]
    assert {c["n_train"] for c in cells} == {100} and results["n_train"] == len(splits.train) > 100
    capped = plan.cap_rows(splits.train, "traditional", seed=0)
    assert set(capped.labels) == set(splits.train.labels)  # stratified: every class kept
    assert "capped to a stratified sample: traditional methods on 100 texts" in (tmp_path / "report.md").read_text()
    assert plan.cap_rows(splits.train, "traditional", seed=0).texts == capped.texts  # seeded


def test_every_cell_scores_the_same_stratified_sample_of_a_large_test_split_and_the_report_says_so(
        splits, tmp_path, monkeypatch):
    from tunetext.compare import plan

    monkeypatch.setitem(plan.EVALUATION_ROWS, "test", 60)
    budget = Budget(sizes=(4, None), seeds_subsampled=1, seeds_full=1)
    results = run_comparison(splits, out=tmp_path, methods=["tfidf-svm", "tfidf-nb"], budget=budget)
    cells = [json.loads(path.read_text()) for path in (tmp_path / "cells").glob("*.json")]
    assert len(splits.test) > 60 and results["n_test"] == 60 and len(cells) == 4
    assert {len(c["predicted"]) for c in cells} == {60}  # every cell: the same texts, so the paired tests stay paired
    sample = plan.cap_evaluation(splits).test
    assert set(sample.labels) == set(splits.test.labels) and set(sample.texts) <= set(splits.test.texts)
    assert f"Every cell scored on a stratified sample: 60 of its {len(splits.test):,} test texts." in \
        (tmp_path / "report.md").read_text()


def test_learning_curve_cells_score_a_nested_smaller_sample_and_the_report_says_so(splits, tmp_path, monkeypatch):
    from tunetext.compare import plan

    monkeypatch.setitem(plan.EVALUATION_ROWS, "test", 60)
    monkeypatch.setattr(plan, "CURVE_TEST_ROWS", 30)
    budget = Budget(sizes=(4, None), seeds_subsampled=1, seeds_full=1)
    run_comparison(splits, out=tmp_path, methods=["tfidf-nb"], budget=budget)
    cells = {c["size_per_class"]: c for c in (json.loads(p.read_text()) for p in (tmp_path / "cells").glob("*.json"))}
    assert len(cells[4]["predicted"]) == 30 and len(cells[None]["predicted"]) == 60
    full_sample = plan.cap_evaluation(splits)
    curve_sample = plan.curve_splits(full_sample).test
    assert set(curve_sample.texts) < set(full_sample.test.texts) and set(curve_sample.labels) == set(splits.test.labels)
    assert "Learning-curve cells scored on 30 of those 60 test texts." in (tmp_path / "report.md").read_text()
