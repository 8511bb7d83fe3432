"""Do tuned per-label thresholds beat a fixed 0.5 when the validation split has few positives? Measured without the
test split: the catalog's train + validation texts are reshuffled R times into train / validation / held-out parts
(the validation part as large as the real one), each method fitted once per reshuffle, and every threshold rule
scored on the held-out part.

    python benchmarks/threshold_rules.py                        # reuters-corn-grain, tfidf-logreg,nbsvm,tfidf-svm
    python benchmarks/threshold_rules.py --repeats 10 --methods nbsvm

Rules: fixed 0.5; tuned (each label's F1-best threshold on validation); min-N (tuned only for a label with at least N
validation positives, else 0.5); shrink-k (tuned pulled toward 0.5 by k pseudo-positives: (n t + k 0.5) / (n + k)).
Writes benchmarks/results/threshold_rules.jsonl and prints mean micro/macro-F1 per method and rule.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from tunetext.cli import configure_environment
from tunetext.data import load_splits
from tunetext.data.dataset import indicator
from tunetext.methods import make_method
from tunetext.methods.thresholds import DEFAULT_THRESHOLD, decide, tune_thresholds

RESULTS = Path(__file__).parent / "results" / "threshold_rules.jsonl"


def rules(truth: np.ndarray, proba: np.ndarray) -> dict[str, np.ndarray]:
    tuned = tune_thresholds(truth, proba)
    positives = truth.sum(axis=0)
    fixed = np.full(truth.shape[1], DEFAULT_THRESHOLD)
    out = {"fixed 0.5": fixed, "tuned": tuned}
    for n in (10, 20, 30):
        out[f"min-{n}"] = np.where(positives >= n, tuned, fixed)
    for k in (5, 10, 20):
        out[f"shrink-{k}"] = (positives * tuned + k * fixed) / (positives + k)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="reuters-corn-grain")
    parser.add_argument("--methods", default="tfidf-logreg,nbsvm,tfidf-svm")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--held-out", type=float, default=0.3, help="share of train + validation scored")
    args = parser.parse_args()
    configure_environment()
    splits = load_splits(args.data)
    texts = list(splits.train.texts) + list(splits.validation.texts)
    labels = list(splits.train.labels) + list(splits.validation.labels)
    n_val, n_out = len(splits.validation), int(args.held_out * len(texts))
    scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for seed in range(args.repeats):
        order = np.random.default_rng(seed).permutation(len(texts))
        val, out, train = order[:n_val], order[n_val:n_val + n_out], order[n_val + n_out:]
        for name in args.methods.split(","):
            method = make_method(name).fit([texts[i] for i in train], [labels[i] for i in train])  # no validation: 0.5
            truth_val = indicator([labels[i] for i in val], method.classes_)
            truth_out = indicator([labels[i] for i in out], method.classes_)
            proba_val = method.predict_proba([texts[i] for i in val])
            proba_out = method.predict_proba([texts[i] for i in out])
            for rule, thresholds in rules(truth_val, proba_val).items():
                decided = decide(proba_out, thresholds, at_least_one=False)
                scores.setdefault((name, rule), []).append(
                    (f1_score(truth_out, decided, average="micro", zero_division=0),
                     f1_score(truth_out, decided, average="macro", zero_division=0)))
            print(f"seed {seed} {name}: validation positives {truth_val.sum(axis=0).tolist()}", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    with open(RESULTS, "a", encoding="utf-8") as f:
        for (name, rule), values in scores.items():
            micro, macro = np.array(values).T
            row = {"data": args.data, "method": name, "rule": rule, "repeats": args.repeats, "validation": n_val,
                   "held_out": n_out, "f1_micro": round(float(micro.mean()), 4), "f1_micro_sd": round(float(micro.std()), 4),
                   "f1_macro": round(float(macro.mean()), 4), "f1_macro_sd": round(float(macro.std()), 4)}
            f.write(json.dumps(row) + "\n")
            print(f"{name:13s} {rule:10s} micro-F1 {row['f1_micro']:.3f} ± {row['f1_micro_sd']:.3f}  "
                  f"macro-F1 {row['f1_macro']:.3f} ± {row['f1_macro_sd']:.3f}")


if __name__ == "__main__":
    main()
