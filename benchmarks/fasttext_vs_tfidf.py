"""fastText against TF-IDF + SVM on every catalog dataset: accuracy, train time, texts/s and size on disk.

    python benchmarks/fasttext_vs_tfidf.py                       # every catalog dataset (fetched when missing)
    python benchmarks/fasttext_vs_tfidf.py --datasets trec6,sms-spam --out-stem benchmarks/results/ft

Both methods with their defaults, fitted on the catalog train split and scored on its test split (nothing is
tuned). Train time is `fit` (fastText's includes starting its training process); texts/s is one
`predict_proba` call on the whole test split; size is the saved model folder. One run per cell: on a shared
machine the times are noisy, so the Markdown says what machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

METHODS = ("fasttext", "tfidf-svm")


def measure(method: str, dataset: str) -> dict:
    from tunetext.data import load_catalog
    from tunetext.evaluation.metrics import evaluate
    from tunetext.methods import make_method

    splits = load_catalog(dataset)
    model = make_method(method).fit(splits.train.texts, splits.train.labels)
    start = time.perf_counter()
    proba = model.predict_proba(splits.test.texts)
    seconds = time.perf_counter() - start
    metrics = evaluate(splits.test.labels, proba, list(model.classes_))
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save(Path(tmp) / "model")
        size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    return {"dataset": dataset, "method": method, "train": len(splits.train), "test": len(splits.test),
            "accuracy": metrics["accuracy"], "f1_macro": metrics["f1_macro"], "train_seconds": model.train_seconds_,
            "texts_per_second": len(splits.test) / seconds, "size_mb": size / 1e6}


def markdown(rows: list[dict], note: str) -> str:
    lines = [f"fastText vs TF-IDF + SVM, defaults, catalog train -> test. {note}", "",
             "| dataset | train | method | accuracy | F1 macro | train s | texts/s | size MB |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['dataset']} | {r['train']:,} | {r['method']} | {r['accuracy']:.3f} | {r['f1_macro']:.3f} | "
              f"{r['train_seconds']:.1f} | {r['texts_per_second']:,.0f} | {r['size_mb']:.1f} |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    from tunetext.data import list_datasets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(info.name for info in list_datasets()))
    parser.add_argument("--out-stem", default="benchmarks/results/fasttext_vs_tfidf")
    parser.add_argument("--note", default=f"One run each on {os.cpu_count()} CPU threads.",
                        help="the measuring conditions, printed above the table (e.g. a shared, loaded machine)")
    args = parser.parse_args()
    rows = []
    for dataset in args.datasets.split(","):
        for method in METHODS:
            rows.append(measure(method, dataset))
            print(json.dumps(rows[-1]), flush=True)
    stem = Path(args.out_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps({"note": args.note, "results": rows}, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(rows, args.note))
    print(markdown(rows, args.note))


if __name__ == "__main__":
    main()
