"""Issue 6 experiments: FineText vs finetune/probe, multi-task vs single-task, the tweet pipeline.

    python benchmarks/issue6_experiments.py finetext|multitask|tweet [--train N] [--seeds 0,1,2]

Every arm trains on the same seeded subset of N training examples (default 500: CPU is scarce) and is
scored on the dataset's full test split. Each finished run is appended to benchmarks/results/issue6.jsonl
and skipped when any experiment asks for it again (the tweet experiment's raw-text arm is finetext's
`finetune`), so interrupted experiments resume; the Markdown table (mean ± std over seeds) is printed
from that file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from jsonl_log import Log

from tunetext.data import load_splits
from tunetext.evaluation.experiment import fit_and_evaluate
from tunetext.methods import make_method

RESULTS = Path(__file__).parent / "results"
FINETUNE = dict(epochs=2, batch_size=16, min_steps=0)
"""Shared by every fine-tuned arm: 2 epochs of batches of 16 (63 steps on 500 examples), no step floor."""
TWEET_ARMS = {
    "finetune": {},
    "finetune + normaliser": dict(preprocess="tweet"),
    "finetune + normaliser + domain tokens": dict(preprocess="tweet", domain_tokens=True),
    "finetune + normaliser + domain tokens + MLM (30 steps)": dict(preprocess="tweet", domain_tokens=True,
                                                                    adapt_mlm_steps=30),
}



def subset(name: str, n: int):
    splits = load_splits(name)
    rows = np.random.default_rng(0).permutation(len(splits.train))[:n]
    return splits.train.subset(np.sort(rows)), splits.test


def fit(method: str, train, test, **params) -> dict:
    estimator = make_method(method, **params)
    metrics, _ = fit_and_evaluate(estimator, train, test)
    row = {"accuracy": metrics["accuracy"], "train_seconds": metrics["train_seconds"]}
    if hasattr(estimator, "layer_weights_"):
        row["layer_weights"] = np.round(estimator.layer_weights_, 3).tolist()
    return row


def finetext(log: Log, n: int, seeds: list[int]) -> None:
    names = ("trec6", "rt-snippets", "election-tweets")
    data = {name: subset(name, n) for name in names}
    for name in names:  # frozen arms first: cheap once the features are cached
        for method in ("probe", "finetext-frozen"):
            log.run({"data": name, "arm": method, "n": n}, lambda: fit(method, *data[name]))
    for seed in seeds:  # seeds outermost, so a cut-short run still covers every dataset
        for name in names:
            for method in ("finetune", "finetext"):
                log.run({"data": name, "arm": method, "n": n, "seed": seed},
                        lambda: fit(method, *data[name], seed=seed, **FINETUNE))


def multitask(log: Log, n: int, seeds: list[int]) -> None:
    from tunetext.methods.multitask import MultiTask, pool_tasks
    from tunetext.tasks import evaluate_tasks

    data = {name: subset(name, n) for name in ("trec6", "rt-snippets", "sms-spam")}
    for seed in seeds:
        for name, (train, test) in data.items():
            log.run({"data": name, "arm": "finetune", "n": n, "seed": seed},
                    lambda: fit("finetune", train, test, seed=seed, **FINETUNE))
        key = {"arm": "multi-task", "n": n, "seed": seed}
        if not any(all(row.get(k) == v for k, v in key.items()) for row in log.rows):
            start = time.perf_counter()
            pooled = pool_tasks({k: v[0] for k, v in data.items()})
            model = MultiTask(seed=seed, **FINETUNE).fit(pooled.texts, pooled.labels)
            seconds = time.perf_counter() - start
            for name, metrics in evaluate_tasks(model, {k: v[1] for k, v in data.items()}).items():
                log.run({"data": name, **key}, lambda: {"accuracy": metrics["accuracy"], "train_seconds": seconds})


def tweet(log: Log, n: int, seeds: list[int]) -> None:
    train, test = subset("election-tweets", n)
    for seed in seeds:
        for arm, params in TWEET_ARMS.items():
            log.run({"data": "election-tweets", "arm": arm, "n": n, "seed": seed},
                    lambda: fit("finetune", train, test, seed=seed, **FINETUNE, **params))


def table(rows: list[dict]) -> str:
    """Mean ± std of accuracy (and mean train seconds) per (dataset, arm, training examples)."""
    groups: dict[tuple[str, str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["data"], row["arm"], row["n"]), []).append(row)
    lines = ["| data | arm | train examples | accuracy | runs | train s |", "|---|---|---|---|---|---|"]
    for (data, arm, n), group in sorted(groups.items()):
        acc = np.array([r["accuracy"] for r in group])
        spread = f" ± {acc.std(ddof=1):.3f}" if len(acc) > 1 else ""
        lines.append(f"| {data} | {arm} | {n} | {acc.mean():.3f}{spread} | {len(acc)} "
                     f"| {np.mean([r['train_seconds'] for r in group]):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("experiment", choices=["finetext", "multitask", "tweet"])
    parser.add_argument("--train", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    log = Log(RESULTS / "issue6.jsonl")
    globals()[args.experiment](log, args.train, [int(s) for s in args.seeds.split(",")])
    print(table(log.rows))
