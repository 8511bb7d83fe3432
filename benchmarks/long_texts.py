"""Issue 15: long documents. Accuracy and training time of each `long_texts` strategy, and the prediction cost of
one long document against its length.

    python benchmarks/long_texts.py accuracy [--data bbc-news,20newsgroups] [--methods probe,finetune]
    python benchmarks/long_texts.py cost

`accuracy` runs probe and finetune with `truncate` at 128 and 256 tokens, `head_tail` and `chunks` at 128, plus
tfidf-svm on the same texts. The default (`auto`) is not run again: it resolves to `chunks` when over 10% of the
training texts are longer than the window, else to `truncate`, and the table shows that share. A CPU is scarce,
so every cell uses seeded subsamples of the catalog's train and test splits (`SUBSAMPLE`), the same for every arm. Finished runs are
appended to results/long_texts.jsonl and skipped when asked for again; the Markdown table is printed from it.

`cost` times frozen-encoder `chunks` inference (MiniLM, 128-token windows) on one document of 500 to
8,000 tokens; seconds per 1,000 tokens stay flat if the cost is linear in the length. Written to
results/long_texts_cost.json and printed as a table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from jsonl_log import Log

RESULTS = Path(__file__).parent / "results"
ARMS = {
    "truncate 128": dict(long_texts="truncate", max_length=128),
    "truncate 256": dict(long_texts="truncate", max_length=256),
    "head_tail 128": dict(long_texts="head_tail", max_length=128),
    "chunks 128": dict(long_texts="chunks", max_length=128),
}
SUBSAMPLE = {  # (data, method) -> (training texts, test texts): a loaded 2-core machine allows no more
    ("bbc-news", "probe"): (300, 223),
    ("20newsgroups", "probe"): (200, 150),
    ("bbc-news", "finetune"): (120, 100),
    ("20newsgroups", "finetune"): (120, 100),
}
FINETUNE = dict(epochs=1, batch_size=16, min_steps=24)
"""One pass over the training windows, batches of 16, at least 24 steps (so the one-window arms get about two epochs)."""


def splits(name: str, method: str):
    from tunetext.data import load_splits

    data = load_splits(name)
    train, test = data.train, data.test
    n_train, n_test = SUBSAMPLE[(name, method)]
    if n_train < len(train):
        train = train.subset(np.sort(np.random.default_rng(0).permutation(len(train))[:n_train]))
    if n_test < len(test):
        test = test.subset(np.sort(np.random.default_rng(1).permutation(len(test))[:n_test]))
    return train, test


def fit(method: str, train, test, **params) -> dict:
    from tunetext.evaluation.experiment import fit_and_evaluate
    from tunetext.methods import make_method

    estimator = make_method(method, **params)
    metrics, _ = fit_and_evaluate(estimator, train, test, time_prediction=False)
    row = {"accuracy": round(metrics["accuracy"], 4), "train_seconds": round(metrics["train_seconds"], 1)}
    if getattr(estimator, "long_texts_", None):
        row["long_texts_"] = estimator.long_texts_
    return row


def accuracy(log: "Log", names: list[str], methods: list[str], arms: list[str]) -> None:
    for method in methods:
        for name in names:
            train, test = splits(name, method)
            size = {"train": len(train), "test": len(test)}
            extra = FINETUNE if method == "finetune" else {}
            log.run({"data": name, "method": "tfidf-svm", "arm": "-", **size}, lambda: fit("tfidf-svm", train, test))
            for arm in arms:  # "auto" is one of these: the table says which, from the share longer
                params = ARMS[arm]
                log.run({"data": name, "method": method, "arm": arm, **size},
                        lambda: fit(method, train, test, **extra, **params))


def cost() -> None:
    import torch

    from tunetext.encoders import embed, load_encoder, load_tokenizer, resolve_model_path

    path = resolve_model_path()
    tokenizer, encoder = load_tokenizer(path), load_encoder(path)
    words = Path(__file__).read_text().split()
    rows = []
    for window in (128,):
        embed(encoder, tokenizer, [" ".join(words[:300])], max_length=window, long_texts="chunks")  # warm-up
        for tokens in (500, 1000, 2000, 4000, 8000):  # one document each, median of 3 runs
            ids = tokenizer(" ".join(words * (1 + 2 * tokens // len(words))), add_special_tokens=False,
                            verbose=False)["input_ids"][:tokens]
            text = tokenizer.decode(ids)
            length = len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
            times = []
            for _ in range(3):
                start = time.perf_counter()
                with torch.inference_mode():
                    embed(encoder, tokenizer, [text], max_length=window, long_texts="chunks", batch_size=32)
                times.append(time.perf_counter() - start)
            seconds = float(np.median(times))
            rows.append({"window": window, "tokens": length, "seconds": round(seconds, 3),
                         "seconds_per_1k_tokens": round(1000 * seconds / length, 4)})
            print(json.dumps(rows[-1]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "long_texts_cost.json").write_text(json.dumps({"threads": torch.get_num_threads(), "rows": rows}, indent=1))
    print("| window | tokens | seconds | s per 1k tokens |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['window']} | {r['tokens']:,} | {r['seconds']:.2f} | {r['seconds_per_1k_tokens']:.3f} |")



def table(rows: list[dict]) -> str:
    lines = ["| data | method | arm | train / test texts | accuracy | train s | texts longer than the window |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        resolved = r.get("long_texts_", {})
        note = (f"{100 * resolved['share_longer']:.0f}% of train > {resolved['window']} tokens"
                if "share_longer" in resolved else "")
        lines.append(f"| {r['data']} | {r['method']} | {r['arm']} | {r['train']} / {r['test']} | {r['accuracy']:.3f} "
                     f"| {r['train_seconds']:.1f} | {note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("experiment", choices=["accuracy", "cost"])
    parser.add_argument("--data", default="bbc-news,20newsgroups")
    parser.add_argument("--methods", default="probe,finetune")
    parser.add_argument("--arms", default=",".join(ARMS), help="a comma-separated subset of: " + ", ".join(ARMS))
    args = parser.parse_args()
    if args.experiment == "cost":
        cost()
    else:
        RESULTS.mkdir(exist_ok=True)
        log = Log(RESULTS / "long_texts.jsonl")
        accuracy(log, args.data.split(","), args.methods.split(","), args.arms.split(","))
        print(table(log.rows))
