"""Does augmentation help with 32 or 128 training examples? EDA and masked-LM replacement against none.

    python benchmarks/augmentation.py                         # trec6 + rt-snippets, sizes 32/128, seeds 0-2
    python benchmarks/augmentation.py --methods tfidf-svm --ratio 4 --mlm-steps 40

Each cell: a stratified subset of the catalog train split (size, seed), augmented (or not) with `ratio`
new examples per example, one method fitted, accuracy on the dataset's whole test split. Results are
appended to a JSON-lines file; a rerun skips the cells already there.

The bundled MiniLM has no MLM head, so "mlm" trains one per dataset, once, on `--mlm-pool` unlabeled
training texts disjoint from every subset (in-domain unlabeled text), and reuses it for all cells.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def subsets(train, sizes, seeds):
    from tunetext.data import stratified_holdout

    return {(size, seed): stratified_holdout(train, size, seed=seed)[1] for size in sizes for seed in seeds}


def mlm_augmenter(train, used: set, pool: int, steps: int):
    """A masked LM fitted on `pool` training texts that no subset contains."""
    from tunetext.augment import ContextualMLM

    rest = [text for text in train.texts if text not in used]
    texts = [rest[i] for i in np.random.default_rng(0).permutation(len(rest))[:pool]]
    return ContextualMLM(mlm_steps=steps).fit(texts, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="trec6,rt-snippets")
    parser.add_argument("--methods", default="tfidf-svm,probe")
    parser.add_argument("--sizes", default="32,128")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--ratio", type=float, default=4.0)
    parser.add_argument("--mlm-steps", type=int, default=40)
    parser.add_argument("--mlm-pool", type=int, default=256)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/augmentation.jsonl"))
    args = parser.parse_args()

    from tunetext.augment import augment
    from tunetext.augment.eda import EDA
    from tunetext.data import load_splits
    from tunetext.evaluation import evaluate
    from tunetext.methods import make_method

    done = set()
    if args.out.exists():
        done = {tuple(r[k] for k in ("data", "method", "size", "seed", "augment"))
                for r in map(json.loads, args.out.read_text().splitlines())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    for name in args.datasets.split(","):
        splits = load_splits(name)
        cells = subsets(splits.train, sizes, range(args.seeds))
        augmenters = {"none": None, "eda": EDA().fit([])}
        augmenters["mlm"] = mlm_augmenter(splits.train, {t for s in cells.values() for t in s.texts},
                                          args.mlm_pool, args.mlm_steps)
        for method in args.methods.split(","):
            for (size, seed), subset in cells.items():
                for kind, augmenter in augmenters.items():
                    key = (name, method, size, seed, kind)
                    if key in done:
                        continue
                    started = time.perf_counter()
                    train = subset if augmenter is None else augment(subset, augmenter, args.ratio, seed=seed)
                    model = make_method(method).fit(train.texts, train.labels)
                    metrics = evaluate(splits.test.labels, model.predict_proba(splits.test.texts), model.classes_)
                    record = dict(zip(("data", "method", "size", "seed", "augment"), key))
                    record |= {"ratio": args.ratio if augmenter else 0, "n_train": len(train),
                               "accuracy": metrics["accuracy"], "f1_macro": metrics["f1_macro"],
                               "seconds": time.perf_counter() - started}
                    with args.out.open("a") as f:
                        f.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)
    print(markdown_table([json.loads(line) for line in args.out.read_text().splitlines()]))


def markdown_table(records: list[dict]) -> str:
    """Mean test accuracy ± standard deviation over seeds; one row per (data, size, method), one column per augmentation."""
    import pandas as pd

    frame = pd.DataFrame(records)
    stats = frame.groupby(["data", "size", "method", "augment"])["accuracy"].agg(["mean", "std", "count"])
    cells = stats.apply(lambda r: f"{r['mean']:.3f} ± {r['std']:.3f} (n={int(r['count'])})", axis=1).unstack("augment")
    kinds = [kind for kind in ("none", "eda", "mlm") if kind in cells]
    lines = ["| data | size | method | " + " | ".join(kinds) + " |", "|---|---|---|" + "---|" * len(kinds)]
    for (data, size, method), row in cells[kinds].fillna("").iterrows():
        lines.append(f"| {data} | {size} | {method} | " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
