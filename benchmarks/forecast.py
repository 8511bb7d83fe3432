"""Issue 18's measurements: learning-curve forecasts checked honestly, and single-split against cross-validated verdicts.

    # run a compare (cheap budget for a loaded CPU machine; see --help), then check its forecasts:
    python benchmarks/forecast.py run rt-snippets /tmp/h18/rt-snippets --cv 3 --seeds 1 \
        -p finetune.epochs=1 -p finetune.min_steps=20 -p finetune.freeze_layers=half
    python benchmarks/forecast.py honesty /tmp/demo-report /tmp/h18/rt-snippets

`honesty` fits each method's curve on the subsampled sizes only (what compare ran below the full training set)
and forecasts the full-set score, which compare measured: the error is forecast − measured, in points.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from tunetext.compare import Budget, run_comparison
from tunetext.compare.forecast import forecast_method


def honesty(report: Path) -> list[dict]:
    """Forecast error at the full training set for every method of `report` with two or more subsampled sizes."""
    summary = json.loads((report / "results.json").read_text())
    metric = summary["metric"]
    by_method: dict[str, list[dict]] = defaultdict(list)
    for cell in summary["cells"]:
        by_method[cell["method"]].append(cell)
    rows = []
    for method, cells in sorted(by_method.items()):
        sub = [c for c in cells if c["size_per_class"] is not None]
        full = [c for c in cells if c["size_per_class"] is None]
        if not full or len({c["n_train"] for c in sub}) < 2:
            continue
        measured = sum(c[metric] for c in full) / len(full)
        f = forecast_method(method, sub, metric, n_now=full[0]["n_train"])
        rows.append({"dataset": summary["dataset"], "method": method, "metric": metric, "sizes_fitted": f.sizes_used,
                     "seeds": max(sum(c["size_per_class"] == s for c in sub) for s in {c["size_per_class"] for c in sub}),
                     "n_full": full[0]["n_train"], "measured": measured, "forecast": f.score_now,
                     "error_points": 100 * (f.score_now - measured)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="compare one dataset with a chosen budget, cv and method params")
    run.add_argument("data")
    run.add_argument("out", type=Path)
    run.add_argument("--methods", default=None, help="comma-separated (default: the fast budget's)")
    run.add_argument("--sizes", default="16,64,256,all")
    run.add_argument("--seeds", type=int, default=3, help="seeds on subsamples")
    run.add_argument("--cv", default="auto")
    run.add_argument("-p", "--param", action="append", default=[], help="method.key=value")
    check = commands.add_parser("honesty", help="forecast error at the full set, from report folders")
    check.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "honesty":
        for report in args.reports:
            for r in honesty(report):
                print(json.dumps(r))
        return
    params: dict[str, dict] = defaultdict(dict)
    for item in args.param:
        key, value = item.split("=", 1)
        method, name = key.split(".", 1)
        params[method][name] = json.loads(value) if value[:1].isdigit() or value in ("true", "false") else value
    sizes = tuple(None if s == "all" else int(s) for s in args.sizes.split(","))
    started = time.perf_counter()
    summary = run_comparison(args.data, out=args.out, methods=args.methods.split(",") if args.methods else None,
                             budget=Budget(sizes=sizes, seeds_subsampled=args.seeds, seeds_full=1), params=dict(params),
                             cv=args.cv)
    print(json.dumps({"wall_seconds": time.perf_counter() - started, "paired_test": summary["paired_test"],
                      "cross_validation": summary["cross_validation"], "verdict": summary["verdict"]}, indent=1))


if __name__ == "__main__":
    main()
