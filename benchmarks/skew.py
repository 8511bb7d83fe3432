"""Class weighting on skewed data: per-class recall and macro-F1 with and without `class_weight="balanced"`.

    python benchmarks/skew.py                                    # sms-spam, reuters-r8, trec6; tfidf-svm, tfidf-logreg, probe
    python benchmarks/skew.py --data sms-spam --methods tfidf-svm
    python benchmarks/skew.py --compare --methods tfidf-svm,tfidf-logreg,tfidf-nb,probe   # reports before/after
    python benchmarks/skew.py --data reuters-r8 --methods finetune --weights none,balanced \
        --params '{"max_length": 128}' --train-size 1500     # finetune has no "auto"; a stratified subsample

Each method is fitted on the catalog training split with class_weight=None, "balanced" and "auto" and scored
on the validation split, which alone decides which of None and "balanced" is better (the `chosen` field: what
"auto" should pick; `resolved` is what it did pick); the test split is scored too, only to report what the
choice is worth. Every run is written to benchmarks/results/skew.json as it
finishes, so an interrupted sweep resumes. `--params` (method settings as JSON) and `--train-size` (a stratified,
seeded subsample of the training split; validation and test stay whole) are recorded with each run and keep
its comparison apart from runs made with other settings.

`--compare` runs `compare` on the full training split of each dataset twice into one report folder (the second
run reuses the first's cells): ranked by accuracy (the old default) and by the metric chosen from the labels; the
leader, the verdict's first sentence and each method's macro-F1 and smallest-class recall go to skew.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from tunetext.data import load_splits, stratified_holdout
from tunetext.evaluation.metrics import evaluate
from tunetext.evaluation.skew import label_skew
from tunetext.io import read_json, write_json
from tunetext.methods import make_method

RESULTS = Path(__file__).parent / "results" / "skew.json"


def scores(method, split) -> dict:
    metrics = evaluate(split.labels, method.predict_proba(split.texts), method.classes_)
    recall = {c: round(row["recall"], 4) for c, row in metrics["per_class"].items()}
    return {"f1_macro": round(metrics["f1_macro"], 4), "accuracy": round(metrics["accuracy"], 4), "recall": recall}


def setup(run: dict) -> tuple:
    """What a run's None/"balanced" comparison is made within: data, method and any settings it was run with."""
    return run["data"], run["method"], json.dumps(run.get("params", {}), sort_keys=True), run.get("train_size")


def save(saved: dict) -> None:
    """Write skew.json, keeping runs another sweep wrote since this one read it (two sweeps may run at once)."""
    ours = {setup(r) + (r["class_weight"],) for r in saved["runs"]}
    if RESULTS.exists():
        saved["runs"] += [r for r in read_json(RESULTS)["runs"] if setup(r) + (r["class_weight"],) not in ours]
    write_json(RESULTS, saved)


def compare_before_after(name: str, methods: list[str], out: Path) -> dict:
    from tunetext.compare import Budget, run_comparison
    from tunetext.compare.runner import CELLS_DIR

    budget = Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1)
    runs = {}
    for label, metric in (("before", "accuracy"), ("after", None)):
        summary = run_comparison(name, out=out / name, methods=methods, budget=budget, metric=metric)
        runs[label] = {"metric": summary["metric"], "verdict": summary["verdict"]}
    smallest = label_skew(load_splits(name).train.labels).smallest
    cells = [read_json(path) for path in sorted((out / name / CELLS_DIR).glob("*.json"))]
    runs["methods"] = {c["method"]: {"accuracy": round(c["accuracy"], 4), "f1_macro": round(c["f1_macro"], 4),
                                     f"recall_{smallest}": round(c["per_class"][smallest]["recall"], 4),
                                     "train_seconds": round(c["train_seconds"], 1)} for c in cells}
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="sms-spam,reuters-r8,trec6")
    parser.add_argument("--methods", default="tfidf-svm,tfidf-logreg,probe")
    parser.add_argument("--compare", action="store_true", help="compare reports before/after instead of the sweep")
    parser.add_argument("--out", type=Path, default=Path("skew-reports"), help="with --compare: report folders")
    parser.add_argument("--weights", default="none,balanced,auto", help="the class_weight values to sweep")
    parser.add_argument("--params", type=json.loads, default={}, help="method settings, as a JSON object")
    parser.add_argument("--train-size", type=int, help="fit on a stratified subsample of this many training texts")
    args = parser.parse_args()
    saved = read_json(RESULTS) if RESULTS.exists() else {"runs": []}
    if args.compare:
        for name in args.data.split(","):
            saved.setdefault("compare", {})[name] = compare_before_after(name, args.methods.split(","), args.out)
            write_json(RESULTS, saved)
        return
    weights = [None if w == "none" else w for w in args.weights.split(",")]
    setting = {k: v for k, v in (("params", args.params), ("train_size", args.train_size)) if v}
    done = {setup(r) + (r["class_weight"],) for r in saved["runs"]}
    saved["machine"] = (f"{platform.processor() or platform.machine()}, CPU only, shared with other jobs "
                        "(seconds are indicative only)")
    for name in args.data.split(","):
        splits = load_splits(name)
        skew = label_skew(splits.train.labels)
        saved.setdefault("datasets", {})[name] = {"train_counts": skew.counts, "imbalance_ratio": round(skew.ratio, 2),
                                                  "smallest_class": skew.smallest, "skewed": skew.skewed}
        train = splits.train
        if args.train_size:
            train = stratified_holdout(train, args.train_size, seed=0)[1]
        for method_name in args.methods.split(","):
            for weight in weights:
                if setup({"data": name, "method": method_name, **setting}) + (weight,) in done:
                    continue
                method = make_method(method_name, class_weight=weight, **args.params)
                start = time.perf_counter()
                method.fit(train.texts, train.labels, validation=splits.validation)
                seconds = time.perf_counter() - start
                run = {"data": name, "method": method_name, **setting, "class_weight": weight,
                       "resolved": getattr(method, "class_weight_", weight),
                       "fit_seconds": round(seconds, 1), "validation": scores(method, splits.validation),
                       "test": scores(method, splits.test)}
                saved["runs"].append(run)
                save(saved)  # may append another sweep's runs after this one
                print(name, method_name, weight, run["validation"]["f1_macro"], flush=True)
    for run in saved["runs"]:  # the choice: higher validation macro-F1; a tie keeps the unweighted default
        rival = next((r for r in saved["runs"] if setup(r) == setup(run)
                      and r is not run and r["class_weight"] != "auto"), None)
        if rival is not None and run["class_weight"] != "auto":
            ahead = run["validation"]["f1_macro"] - rival["validation"]["f1_macro"]
            run["chosen"] = ahead > 0 if run["class_weight"] else ahead >= 0
    save(saved)


if __name__ == "__main__":
    main()
