"""ECE before and after temperature scaling for default `finetune` on full catalog splits.

    python benchmarks/calibration.py                          # trec6, seed 0
    python benchmarks/calibration.py --data trec6,rt-snippets,election-tweets --seeds 0,1

As `tunetext train` does: fit on the training split with the validation split (early stopping, and the
temperature fitted on it), score the test split with the fitted temperature and with none (T = 1): the same
model and logits, so the difference is the temperature alone. Appends to benchmarks/results/calibration.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from tunetext.cli import configure_environment
from tunetext.data import load_splits
from tunetext.evaluation.metrics import evaluate
from tunetext.methods import make_method

RESULTS = Path(__file__).parent / "results" / "calibration.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="trec6")
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    configure_environment()
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in args.data.split(","):
            splits = load_splits(name)
            method = make_method("finetune", seed=seed).fit(splits.train.texts, splits.train.labels,
                                                           validation=splits.validation)
            scores = {}
            for arm, temperature in (("raw", 1.0), ("scaled", method.temperature_)):
                method.temperature_ = temperature
                metrics = evaluate(splits.test.labels, method.predict_proba(splits.test.texts), method.classes_)
                scores[arm] = {key: round(metrics[key], 4) for key in ("accuracy", "ece", "brier", "log_loss")}
            row = {"data": name, "seed": seed, "temperature": round(method.temperature_, 4),
                   "train_seconds": round(method.train_seconds_), "steps": method.steps_, **scores,
                   "machine": f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the end"}
            RESULTS.parent.mkdir(exist_ok=True)
            with RESULTS.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
