"""Issue 6 experiments: FineText vs finetune/probe, multi-task vs single-task, the tweet pipeline.

    python benchmarks/issue6_experiments.py finetext|multitask|tweet [--train N] [--seeds 0,1,2]

Each writes benchmarks/results/issue6_<name>.json and prints a Markdown table. CPU budget: every arm
trains on the same seeded subset of N training examples (default 500) and is scored on the full test split.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tunetext.data import load_splits
from tunetext.evaluation.experiment import fit_and_evaluate
from tunetext.methods import make_method

RESULTS = Path(__file__).parent / "results"
FINETUNE = dict(epochs=2, batch_size=16)
"""Shared by every fine-tuned arm: 2 epochs of batches of 16 (63 steps on 500 examples)."""


def subset(name: str, n: int):
    splits = load_splits(name)
    rows = np.random.default_rng(0).permutation(len(splits.train))[:n]
    return splits.train.subset(np.sort(rows)), splits.test


def run(method: str, train, test, **params) -> dict:
    metrics, _ = fit_and_evaluate(make_method(method, **params), train, test)
    row = {"method": method, "params": params, "accuracy": metrics["accuracy"], "train_seconds": metrics["train_seconds"]}
    print(json.dumps(row), flush=True)
    return row


def finetext(n: int, seeds: list[int]) -> list[dict]:
    rows = []
    for name in ("trec6", "rt-snippets", "election-tweets"):
        train, test = subset(name, n)
        for method in ("probe", "finetext-frozen"):
            rows.append({"data": name, **run(method, train, test)})
        for seed in seeds:
            for method in ("finetune", "finetext"):
                rows.append({"data": name, "seed": seed, **run(method, train, test, seed=seed, **FINETUNE)})
    return rows


def multitask(n: int, seeds: list[int]) -> list[dict]:
    from tunetext.methods.multitask import MultiTask, evaluate_tasks

    data = {name: subset(name, n) for name in ("trec6", "rt-snippets", "sms-spam")}
    rows = [{"data": name, "arm": "single", **run("finetune", train, test, seed=seeds[0], **FINETUNE)}
            for name, (train, test) in data.items()]
    for temperature in (1.0, 2.0):
        start = time.perf_counter()
        model = MultiTask(temperature=temperature, seed=seeds[0], **FINETUNE).fit({k: v[0] for k, v in data.items()})
        seconds = time.perf_counter() - start
        for name, metrics in evaluate_tasks(model, {k: v[1] for k, v in data.items()}).items():
            row = {"data": name, "arm": f"multi T={temperature:g}", "accuracy": metrics["accuracy"], "train_seconds": seconds}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def tweet(n: int, seeds: list[int]) -> list[dict]:
    train, test = subset("election-tweets", n)
    arms = {
        "raw text": {},
        "+ normaliser": dict(preprocess="tweet"),
        "+ domain tokens": dict(preprocess="tweet", domain_tokens=True),
        "+ MLM adaptation (100 steps)": dict(preprocess="tweet", domain_tokens=True, adapt_mlm_steps=100),
    }
    return [{"data": "election-tweets", "arm": arm, "seed": seed, **run("finetune", train, test, seed=seed, **FINETUNE, **params)}
            for seed in seeds for arm, params in arms.items()]


def table(rows: list[dict], key: str) -> str:
    """Mean ± std of accuracy (and mean train seconds) per (dataset, arm)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["data"], row.get(key) or row["method"]), []).append(row)
    lines = ["| data | arm | accuracy | runs | train s |", "|---|---|---|---|---|"]
    for (data, arm), group in groups.items():
        acc = np.array([r["accuracy"] for r in group])
        lines.append(f"| {data} | {arm} | {acc.mean():.3f} ± {acc.std(ddof=1) if len(acc) > 1 else 0:.3f} | {len(acc)} "
                     f"| {np.mean([r['train_seconds'] for r in group]):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("experiment", choices=["finetext", "multitask", "tweet"])
    parser.add_argument("--train", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    rows = globals()[args.experiment](args.train, [int(s) for s in args.seeds.split(",")])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"issue6_{args.experiment}.json").write_text(json.dumps(rows, indent=1))
    print(table(rows, "method" if args.experiment == "finetext" else "arm"))
