"""Class weighting on skewed data: per-class recall and macro-F1 with and without `class_weight="balanced"`.

    python benchmarks/skew.py                                    # sms-spam, reuters-r8, trec6; tfidf-svm, tfidf-logreg, probe
    python benchmarks/skew.py --data sms-spam --methods tfidf-svm
    python benchmarks/skew.py --compare --methods tfidf-svm,tfidf-logreg,tfidf-nb,probe   # reports before/after

Each method is fitted on the catalog training split with class_weight=None, "balanced" and "auto" and scored
on the validation split, which alone decides which of None and "balanced" is better (the `chosen` field: what
"auto" should pick; `resolved` is what it did pick); the test split is scored too, only to report what the
choice is worth. Every run is written to benchmarks/results/skew.json as it
finishes, so an interrupted sweep resumes.

`--compare` runs `compare` on the full training split of each dataset twice into one report folder (the second
run reuses the first's cells): ranked by accuracy (the old default) and by the metric chosen from the labels; the
leader, the verdict's first sentence and each method's macro-F1 and smallest-class recall go to skew.json.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from tunetext.data import load_splits
from tunetext.evaluation.metrics import evaluate
from tunetext.evaluation.skew import label_skew
from tunetext.io import read_json, write_json
from tunetext.methods import make_method

RESULTS = Path(__file__).parent / "results" / "skew.json"


def scores(method, split) -> dict:
    metrics = evaluate(split.labels, method.predict_proba(split.texts), method.classes_)
    recall = {c: round(row["recall"], 4) for c, row in metrics["per_class"].items()}
    return {"f1_macro": round(metrics["f1_macro"], 4), "accuracy": round(metrics["accuracy"], 4), "recall": recall}


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
    args = parser.parse_args()
    saved = read_json(RESULTS) if RESULTS.exists() else {"runs": []}
    if args.compare:
        for name in args.data.split(","):
            saved.setdefault("compare", {})[name] = compare_before_after(name, args.methods.split(","), args.out)
            write_json(RESULTS, saved)
        return
    done = {(r["data"], r["method"], r["class_weight"]) for r in saved["runs"]}
    saved["machine"] = (f"{platform.processor() or platform.machine()}, CPU only, shared with other jobs "
                        "(seconds are indicative only)")
    for name in args.data.split(","):
        splits = load_splits(name)
        skew = label_skew(splits.train.labels)
        saved.setdefault("datasets", {})[name] = {"train_counts": skew.counts, "imbalance_ratio": round(skew.ratio, 2),
                                                  "smallest_class": skew.smallest, "skewed": skew.skewed}
        for method_name in args.methods.split(","):
            for weight in (None, "balanced", "auto"):
                if (name, method_name, weight) in done:
                    continue
                method = make_method(method_name, class_weight=weight)
                start = time.perf_counter()
                method.fit(splits.train.texts, splits.train.labels, validation=splits.validation)
                seconds = time.perf_counter() - start
                saved["runs"].append({"data": name, "method": method_name, "class_weight": weight,
                                      "resolved": method.class_weight_,
                                      "fit_seconds": round(seconds, 1), "validation": scores(method, splits.validation),
                                      "test": scores(method, splits.test)})
                write_json(RESULTS, saved)
                print(name, method_name, weight, saved["runs"][-1]["validation"]["f1_macro"], flush=True)
    for run in saved["runs"]:  # the choice: higher validation macro-F1; a tie keeps the unweighted default
        rival = next((r for r in saved["runs"] if (r["data"], r["method"]) == (run["data"], run["method"])
                      and r is not run and r["class_weight"] != "auto"), None)
        if rival is not None and run["class_weight"] != "auto":
            ahead = run["validation"]["f1_macro"] - rival["validation"]["f1_macro"]
            run["chosen"] = ahead > 0 if run["class_weight"] else ahead >= 0
    write_json(RESULTS, saved)


if __name__ == "__main__":
    main()
