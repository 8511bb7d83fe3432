"""Label audit on planted noise: flip a seeded 5% of a catalog dataset's training labels, audit, and score the
flagged rows against the flipped ones (precision, recall); then audit the clean split and keep its first flags.

    python benchmarks/audit.py                                   # trec6 and sms-spam, tfidf-logreg + probe
    python benchmarks/audit.py --data trec6 --methods tfidf-logreg

Writes benchmarks/results/audit.json (one entry per dataset × methods), and prints a table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tunetext.audit import FILTER_BY, audit_labels, label_issues
from tunetext.cli import configure_environment
from tunetext.data import load_splits
from tunetext.data.dataset import LabeledTexts

RESULTS = Path(__file__).parent / "results" / "audit.json"
RULES = (FILTER_BY, "prune_by_noise_rate", "both", "confident_learning", "low_normalized_margin")
"""cleanlab's filter_by rules scored on the same out-of-fold probabilities; the first is tunetext's default."""


def flip(data: LabeledTexts, share: float, seed: int) -> tuple[LabeledTexts, np.ndarray]:
    """`share` of the labels replaced by another class drawn uniformly; returns the noisy data and the flipped rows."""
    rng = np.random.default_rng(seed)
    labels = [str(label) for label in data.labels]
    classes = sorted(set(labels))
    rows = np.sort(rng.choice(len(labels), size=round(share * len(labels)), replace=False))
    for i in rows:
        labels[i] = str(rng.choice([c for c in classes if c != labels[i]]))
    return LabeledTexts(list(data.texts), labels, data.source), rows


def score(flagged: np.ndarray, flipped: np.ndarray) -> dict:
    hits = len(set(flagged.tolist()) & set(flipped.tolist()))
    return {"flagged": len(flagged), "precision": round(hits / max(len(flagged), 1), 3),
            "recall": round(hits / len(flipped), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="trec6,sms-spam")
    parser.add_argument("--methods", default="tfidf-logreg,probe")
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    configure_environment()
    methods = args.methods.split(",")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    for name in args.data.split(","):
        train = load_splits(name).train
        noisy, flipped = flip(train, args.share, args.seed)
        start = time.perf_counter()
        audit = audit_labels(noisy, methods=methods, seed=args.seed)
        seconds = time.perf_counter() - start
        given = np.searchsorted(audit.classes, np.asarray(noisy.labels, dtype=object))
        rules = {rule: score(label_issues(given, audit.proba, rule), flipped) for rule in RULES}
        clean = audit_labels(train, methods=methods, seed=args.seed)
        entry = {
            "dataset": name, "methods": methods, "n_train": len(train), "flipped": len(flipped), **rules[FILTER_BY],
            "rules": rules, "out_of_fold_accuracy": audit.accuracy, "seconds": round(seconds),
            "clean_flagged": len(clean.flagged), "clean_first": clean.rows()[:15],
            "machine": "2 shared CPU cores, loaded (4 engineers)",
        }
        results = [r for r in results if (r["dataset"], r["methods"]) != (name, methods)] + [entry]
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
        print(f"{name} ({', '.join(methods)}): {len(flipped)} flipped, {seconds:.0f} s; clean data: "
              f"{len(clean.flagged)} flagged", flush=True)
        for rule, result in rules.items():
            print(f"  {rule}: {result}", flush=True)


if __name__ == "__main__":
    main()
