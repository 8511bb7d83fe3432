"""Inference speed on CPU: Hugging Face `pipeline` against tunetext's backends, and the service under load.

    python benchmarks/inference.py                 # trains a quick model per dataset (1,000 examples, 2 epochs)
    python benchmarks/inference.py --quick         # 300 examples, 200 test texts, 300 service requests
    python benchmarks/inference.py --model-dir trec6=runs/trec6 --out results.json

Arms, on the same fine-tuned model and the dataset's test split (the model folder gets an ONNX export in DIR/onnx):
  pipeline     `pipeline("text-classification", model=DIR)` with default settings (one text per forward pass)
  torch        `Method.load(DIR).predict_proba`: length-sorted batches, bf16 autocast where the CPU has it
               (so the int8 accuracy loss is measured against onnx-fp32, which equals PyTorch in fp32)
  onnx-fp32    the ONNX export, same batching, in ONNX Runtime
  onnx-int8    the same after dynamic int8 quantisation of the matrix multiplications
texts/s is one call on the whole test split; latency is one text per call (p50/p99 over --latency-texts texts).
Then `tunetext serve` runs in a child process on 127.0.0.1 and this process sends it a bounded load
(--requests requests, one text each, --concurrency at a time, at most --load-seconds).

    python benchmarks/inference.py --frozen --datasets trec6,rt-snippets --model-dir trec6=DIR ...

`--frozen` instead puts the frozen-encoder methods (probe, finetext-frozen, zeroshot; fitted on the same
--train-size examples) beside the fine-tuned model on its encoder: texts/s of `predict_proba` on the test split
with the feature cache bypassed (real encoding), arms interleaved --repeats times (best and median), and the
probe's one-text latency with the cache on (the lookup `tunetext predict` and serve pay). --proba-out saves
every arm's probabilities, to check that a change keeps predictions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_output import emit

ARMS = ("pipeline", "torch", "onnx-fp32", "onnx-int8")
FROZEN = ("probe", "finetext-frozen", "zeroshot")


def train_quick_model(dataset: str, size: int, epochs: float, into: Path) -> Path:
    from tunetext.data import load_splits
    from tunetext.methods import make_method

    train = load_splits(dataset).train
    train = train.subset(np.random.default_rng(0).permutation(len(train))[:size])  # catalog order may be by class
    make_method("finetune", epochs=epochs).fit(train.texts, train.labels).save(into)
    return into


def load_arm(arm: str, model_dir: Path):
    """A function from texts to labels for `arm`."""
    from tunetext.export import OnnxClassifier
    from tunetext.methods import Method

    if arm == "pipeline":
        from transformers import pipeline

        pipe = pipeline("text-classification", model=str(model_dir))
        return lambda texts: [result["label"] for result in pipe(list(texts))]
    predictor = {"torch": lambda: Method.load(model_dir),
                 "onnx-fp32": lambda: OnnxClassifier.load(model_dir, file="model.onnx"),
                 "onnx-int8": lambda: OnnxClassifier.load(model_dir, file="model.int8.onnx")}[arm]()
    return lambda texts: list(predictor.classes_[predictor.predict_proba(texts).argmax(axis=1)])


def measure_arm(arm: str, model_dir: Path, texts: list[str], labels: list[str], latency_texts: int) -> dict:
    predict = load_arm(arm, model_dir)
    predict(texts[:16])  # warm-up: lazy initialisation, first-call allocations
    start = time.perf_counter()
    predicted = predict(texts)
    seconds = time.perf_counter() - start
    latencies = []
    for text in texts[:latency_texts]:
        start = time.perf_counter()
        predict([text])
        latencies.append(time.perf_counter() - start)
    return {
        "arm": arm,
        "texts": len(texts),
        "texts_per_s": len(texts) / seconds,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "accuracy": float(np.mean(np.array(predicted, dtype=object) == np.array(labels, dtype=object))),
        "predicted": predicted,
    }


def load_test_service(model_dir: Path, texts: list[str], requests: int, concurrency: int, max_seconds: float) -> dict:
    """Start `tunetext serve` on 127.0.0.1, send it a bounded load, stop it: latency, throughput, status counts."""
    from tunetext.serve.local import local_server

    log = Path(tempfile.gettempdir()) / f"tunetext-serve-{os.getpid()}.log"
    with local_server(model_dir, log, options=["--access-log", os.devnull], timeout_s=120) as running:
        return asyncio.run(_send_load(running.url, texts, requests, concurrency, max_seconds))


async def _send_load(url: str, texts: list[str], requests: int, concurrency: int, max_seconds: float) -> dict:
    import httpx

    latencies, statuses, labels = [], {}, {}
    next_request = 0
    stop_at = time.monotonic() + max_seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_request
        while next_request < requests and time.monotonic() < stop_at:
            i = next_request
            next_request += 1
            start = time.perf_counter()
            response = await client.post("/predict", json={"text": texts[i % len(texts)]})
            latencies.append(time.perf_counter() - start)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                labels[i] = response.json()["predictions"][0]["label"]

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "concurrency": concurrency,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "labels": labels,
    }


def run_dataset(dataset: str, model_dir: Path | None, args, workdir: Path) -> dict:
    import torch

    from tunetext.data import load_splits
    from tunetext.export import export_onnx
    from tunetext.training.loop import resolve_precision

    test = load_splits(dataset).test
    texts, labels = list(test.texts[: args.test_texts or None]), list(test.labels[: args.test_texts or None])
    started = time.perf_counter()
    if model_dir is None:
        model_dir = train_quick_model(dataset, args.train_size, args.epochs, workdir / dataset)
    train_seconds = time.perf_counter() - started
    export = export_onnx(model_dir, quantize="int8", sample_texts=texts[:200])
    arms = {}
    for arm in ARMS:
        arms[arm] = measure_arm(arm, model_dir, texts, labels, args.latency_texts)
        print(f"{dataset} {arm}: {arms[arm]['texts_per_s']:.1f} texts/s", file=sys.stderr)
    base = arms["pipeline"]
    for result in arms.values():
        result["speedup"] = result["texts_per_s"] / base["texts_per_s"]
        result["latency_ratio"] = base["p50_ms"] / result["p50_ms"]
    # fp32 is the reference: the torch arm may compute in bf16 (precision "auto" on a CPU with AMX).
    int8, fp32 = arms["onnx-int8"], arms["onnx-fp32"]
    summary = {
        "int8_accuracy_loss_points": 100 * (fp32["accuracy"] - int8["accuracy"]),
        "int8_label_agreement_with_fp32": float(np.mean(np.array(int8["predicted"]) == np.array(fp32["predicted"]))),
        "int8_speedup_vs_pipeline": int8["speedup"],
        "torch_precision": resolve_precision("auto", torch.device("cpu")),
        "export_parity": {name: info["parity"] for name, info in export["files"].items()},
        "train_seconds": train_seconds,
    }
    service = None
    if args.requests:
        service = load_test_service(model_dir, texts, args.requests, args.concurrency, args.load_seconds)
        served = service.pop("labels")
        service["label_agreement_with_offline_int8"] = float(np.mean([served[i] == int8["predicted"][i % len(texts)]
                                                                      for i in served])) if served else None
    for result in arms.values():
        del result["predicted"]
    return {"dataset": dataset, "model_dir": str(model_dir), "arms": arms, "summary": summary, "service": service}


def run_frozen(dataset: str, model_dir: Path | None, args, workdir: Path) -> tuple[dict, dict]:
    """Frozen-encoder methods against the fine-tuned model, side by side: texts/s (best, median) and the probabilities."""
    from tunetext import features
    from tunetext.data import load_splits
    from tunetext.methods import Method, make_method

    splits = load_splits(dataset)
    train = splits.train.subset(np.random.default_rng(0).permutation(len(splits.train))[: args.train_size])
    texts, labels = list(splits.test.texts[: args.test_texts or None]), list(splits.test.labels[: args.test_texts or None])
    if model_dir is None:
        model_dir = train_quick_model(dataset, args.train_size, args.epochs, workdir / dataset)
    models = {"finetune": Method.load(model_dir)}
    models |= {name: make_method(name).fit(train.texts, train.labels) for name in FROZEN}
    seconds = {name: [] for name in models}
    proba = {}
    for name, model in models.items():
        model.predict_proba(texts[:16])  # warm-up
    with features.bypass_cache():
        for _ in range(args.repeats):  # interleaved, so a change of load hits every arm alike
            for name, model in models.items():
                start = time.perf_counter()
                proba[name] = model.predict_proba(texts)
                seconds[name].append(time.perf_counter() - start)
    latencies = []
    probe = models["probe"]
    probe.predict_proba(texts[: args.latency_texts])  # cached: what follows are lookups plus the regression
    for text in texts[: args.latency_texts]:
        start = time.perf_counter()
        probe.predict_proba([text])
        latencies.append(time.perf_counter() - start)
    arms = {}
    for name, model in models.items():
        predicted = model.classes_[proba[name].argmax(axis=1)]
        arms[name] = {"arm": name, "texts": len(texts), "texts_per_s": len(texts) / min(seconds[name]),
                      "median_texts_per_s": len(texts) / float(np.median(seconds[name])),
                      "accuracy": float(np.mean(predicted == np.array(labels, dtype=object)))}
    for result in arms.values():
        result["vs_finetune"] = result["texts_per_s"] / arms["finetune"]["texts_per_s"]
    summary = {"finetune_max_length": models["finetune"].max_length_, "repeats": args.repeats,
               "probe_cached_one_text_p50_ms": float(np.percentile(latencies, 50) * 1000),
               "cache_shards_in_probe_space": len(list(features.cache_root().glob("features/*/*.keys.npy")))}
    return ({"dataset": dataset, "model_dir": str(model_dir), "arms": arms, "summary": summary},
            {f"{dataset}/{name}": p for name, p in proba.items()})


def report_frozen(results: list[dict]) -> str:
    """The frozen-vs-fine-tuned table, as Markdown."""
    lines = ["| dataset | arm | texts | texts/s (best) | texts/s (median) | × finetune | accuracy |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for result in results:
        for r in result["arms"].values():
            lines.append(f"| {result['dataset']} | {r['arm']} | {r['texts']} | {r['texts_per_s']:.0f} | "
                         f"{r['median_texts_per_s']:.0f} | {r['vs_finetune']:.2f}× | {r['accuracy']:.4f} |")
    cached = ", ".join(f"{r['dataset']} {r['summary']['probe_cached_one_text_p50_ms']:.1f} ms" for r in results)
    return "\n".join(lines) + f"\n\nprobe, one text per call with the feature cache on (p50): {cached}\n"


def report(results: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title="Inference on CPU: texts/s and latency (one text per call); ratios against HF pipeline")
    for column in ("dataset", "arm", "texts", "texts/s", "× pipeline", "p50 ms", "p99 ms", "accuracy"):
        table.add_column(column, justify="left" if column in ("dataset", "arm") else "right")
    for result in results:
        for i, r in enumerate(result["arms"].values()):
            table.add_row(result["dataset"], r["arm"], str(r["texts"]), f"{r['texts_per_s']:.1f}", f"{r['speedup']:.1f}×",
                          f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['accuracy']:.4f}",
                          end_section=i == len(result["arms"]) - 1)
    console.print(table)
    service = Table(title="tunetext serve (auto backend: ONNX int8) under load from another process, 127.0.0.1")
    for column in ("dataset", "requests", "concurrency", "statuses", "requests/s", "p50 ms", "p99 ms", "int8 loss vs fp32 (points)"):
        service.add_column(column, justify="left" if column == "dataset" else "right")
    for result in results:
        s, loss = result["service"] or {}, result["summary"]["int8_accuracy_loss_points"]
        service.add_row(result["dataset"], str(s.get("requests", "-")), str(s.get("concurrency", "-")),
                        json.dumps(s.get("statuses", {})), f"{s.get('requests_per_s', 0):.1f}",
                        f"{s.get('p50_ms', 0):.1f}", f"{s.get('p99_ms', 0):.1f}", f"{loss:+.2f}")
    console.print(service)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="trec6,election-tweets", help="comma-separated catalog names")
    parser.add_argument("--model-dir", action="append", default=[], metavar="DATASET=DIR",
                        help="a fine-tuned model to use instead of training one (repeatable)")
    parser.add_argument("--train-size", type=int, default=1000, help="training examples for the quick model")
    parser.add_argument("--epochs", type=float, default=2, help="1 left trec6 at 50%% accuracy (1,000 examples)")
    parser.add_argument("--test-texts", type=int, default=0, help="test texts per dataset (0: the whole split)")
    parser.add_argument("--latency-texts", type=int, default=100, help="single-text calls per arm for p50/p99")
    parser.add_argument("--requests", type=int, default=2000, help="service requests (0: skip the service)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--load-seconds", type=float, default=120, help="the load stops after this, whatever is left")
    parser.add_argument("--quick", action="store_true", help="300 examples, 200 test texts, 30 latency calls, 300 requests")
    parser.add_argument("--out", help="also write the JSON report here")
    parser.add_argument("--frozen", action="store_true", help="frozen-encoder methods against the fine-tuned model")
    parser.add_argument("--repeats", type=int, default=3, help="--frozen: interleaved timed calls per arm")
    parser.add_argument("--proba-out", help="--frozen: save every arm's test probabilities here (.npz)")
    args = parser.parse_args()
    if args.quick:
        args.train_size, args.test_texts, args.latency_texts, args.requests = 300, 200, 30, 300
    given = dict(item.split("=", 1) for item in args.model_dir)
    with tempfile.TemporaryDirectory(prefix="tunetext-bench-") as workdir:
        run = run_frozen if args.frozen else run_dataset
        results = [run(name, Path(given[name]) if name in given else None, args, Path(workdir))
                   for name in args.datasets.split(",")]
    if args.frozen:
        results, probas = [result for result, _ in results], [proba for _, proba in results]
        if args.proba_out:
            np.savez(args.proba_out, **{key: p for proba in probas for key, p in proba.items()})
        print(report_frozen(results), file=sys.stderr)
    else:
        report(results)
    emit({"results": results}, args.out)


if __name__ == "__main__":
    main()
