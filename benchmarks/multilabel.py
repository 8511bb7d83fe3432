"""Multi-label methods on a catalog set: each method trained on train (thresholds tuned on validation), scored on
test, with its tuned thresholds and with a fixed 0.5 on the same probabilities.

    python benchmarks/multilabel.py                                          # reuters-corn-grain, the main methods
    python benchmarks/multilabel.py --methods tfidf-logreg,probe -p finetune.epochs=2

Writes benchmarks/results/multilabel.jsonl (one line per method) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tunetext.cli import configure_environment
from tunetext.data import load_splits
from tunetext.evaluation import evaluate
from tunetext.methods import make_method
from tunetext.methods.thresholds import DEFAULT_THRESHOLD, decide, to_label_sets

RESULTS = Path(__file__).parent / "results" / "multilabel.jsonl"
KEYS = ("f1_micro", "f1_macro", "accuracy", "hamming_loss", "empty_predicted")


def run(method_name: str, params: dict, splits) -> dict:
    method = make_method(method_name, **params)
    start = time.perf_counter()
    method.fit(splits.train.texts, splits.train.labels, validation=splits.validation)
    seconds = time.perf_counter() - start
    proba = method.predict_proba(splits.test.texts)
    tuned = evaluate(splits.test.labels, proba, method.classes_, predicted=method.decide(proba))
    fixed_thresholds = np.full(len(method.classes_), DEFAULT_THRESHOLD)
    fixed = evaluate(splits.test.labels, proba, method.classes_,
                     predicted=to_label_sets(decide(proba, fixed_thresholds, at_least_one=False), method.classes_))
    return {"method": method_name, "params": params, "train_seconds": round(seconds, 1),
            "thresholds": dict(zip(method.classes_.tolist(), np.round(method.thresholds_, 3).tolist())),
            "at_least_one": method.at_least_one_,
            "tuned": {k: round(tuned[k], 4) for k in KEYS}, "fixed_0.5": {k: round(fixed[k], 4) for k in KEYS},
            "per_label_f1_tuned": {c: round(v["f1"], 4) for c, v in tuned["per_class"].items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="reuters-corn-grain")
    parser.add_argument("--methods", default="tfidf-logreg,tfidf-svm,nbsvm,probe,finetune")
    parser.add_argument("-p", "--param", action="append", default=[], help="method.key=value (JSON value)")
    args = parser.parse_args()
    configure_environment()
    params: dict[str, dict] = {}
    for pair in args.param:
        key, _, value = pair.partition("=")
        method, _, name = key.partition(".")
        params.setdefault(method, {})[name] = json.loads(value)
    splits = load_splits(args.data)
    print(f"{args.data}: {len(splits.train)} train, {len(splits.validation)} validation, {len(splits.test)} test")
    RESULTS.parent.mkdir(exist_ok=True)
    for name in args.methods.split(","):
        row = run(name, params.get(name, {}), splits) | {"data": args.data}
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        t, f5 = row["tuned"], row["fixed_0.5"]
        print(f"{name:14s} micro-F1 {t['f1_micro']:.3f} (0.5: {f5['f1_micro']:.3f})  macro-F1 {t['f1_macro']:.3f} "
              f"(0.5: {f5['f1_macro']:.3f})  subset acc {t['accuracy']:.3f} (0.5: {f5['accuracy']:.3f})  "
              f"{row['train_seconds']} s  thresholds {row['thresholds']}", flush=True)


if __name__ == "__main__":
    main()
