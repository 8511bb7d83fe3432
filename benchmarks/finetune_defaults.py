"""Default `finetune` on the full catalog splits, over seeds: the figures behind the README's fine-tuning claims.

    python benchmarks/finetune_defaults.py                                   # trec6, rt-snippets, election-tweets; seeds 0,1,2
    python benchmarks/finetune_defaults.py --data rt-snippets --param pooling=mean --param lr=5e-5

Each run trains `make_method("finetune", seed=S, **params)` on the whole training split (no validation set: the
method's default) and scores the whole test split. Runs are appended to benchmarks/results/finetune_defaults.jsonl
and skipped when already there, so an interrupted sweep resumes; the table (mean ± std over seeds) is printed
from that file.
"""

from __future__ import annotations

import argparse
import json

from issue6_experiments import RESULTS, Log, fit, table

from tunetext.data import load_splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="trec6,rt-snippets,election-tweets")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--param", action="append", default=[], help="KEY=VALUE (JSON value, else a string)")
    args = parser.parse_args()
    params = {}
    for pair in args.param:
        key, _, value = pair.partition("=")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    arm = "finetune" + "".join(f" {k}={v}" for k, v in sorted(params.items()))
    RESULTS.mkdir(exist_ok=True)
    log = Log(RESULTS / "finetune_defaults.jsonl")
    for seed in (int(s) for s in args.seeds.split(",")):  # seeds outermost: a cut-short sweep covers every dataset
        for name in args.data.split(","):
            splits = load_splits(name)
            log.run({"data": name, "arm": arm, "n": len(splits.train), "seed": seed},
                    lambda: fit("finetune", splits.train, splits.test, seed=seed, **params))
    print(table(log.rows))


if __name__ == "__main__":
    main()
