"""Training throughput: the seeds' Hugging Face `Trainer` recipe against tunetext's `finetune`, same model and data.

    python benchmarks/train_throughput.py            # trec6 + election-tweets, 2,000 examples, 2 epochs
    python benchmarks/train_throughput.py --quick    # 256 examples, 1 epoch: a smoke run
    python benchmarks/train_throughput.py --limit 1000 --epochs 1 --datasets trec6 --out results.json
    python benchmarks/train_throughput.py --model mpnet-base --arms tunetext --limit 500 --epochs 1 --datasets trec6

Arms, each in its own child process so its peak RSS is its own (read with `os.wait4`):
  recipe    `transformers.Trainer`, fp32, `padding="max_length"` at 128 tokens, batch 32, lr 5e-5
  tunetext  `make_method("finetune", epochs=E, min_steps=0)`: the same epochs as the recipe, everything else default
Timing: the recipe's is `Trainer.train` (its model is loaded and its data tokenized before); tunetext's is all of
`fit`, model loading and tokenization included. Python imports happen before either timer starts.
Both train for the same epochs on the same examples; test accuracy is on the dataset's whole test split.
Useful FLOP/s counts only real (non-padding) tokens: 6 · non-embedding parameters · real tokens / second.
The ceiling it is a fraction of: this CPU's own matmul TFLOP/s (fp32, and bf16 where the CPU has it), at the
encoders' shapes (a batch of 32 × 32 tokens through MiniLM-L6's 384 → 1536 and MPNet-base's 768 → 3072
feed-forward layers) and at 2048³,
measured in the same run (`--arms none`: the ceiling alone).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ARMS = ("recipe", "tunetext")


def run_recipe(train, test, epochs: int, model_name: str) -> dict:
    """The seeds' recipe, as written there: Trainer, fp32, every text padded to 128 tokens, batch 32."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    from tunetext.encoders import resolve_model_path

    path = resolve_model_path(model_name)
    classes = sorted(set(train.labels))
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(classes))

    class Padded(torch.utils.data.Dataset):
        def __init__(self, data):
            self.enc = tokenizer(list(data.texts), padding="max_length", truncation=True, max_length=128)
            self.labels = [classes.index(y) for y in data.labels]

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            item = {k: torch.tensor(v[i]) for k, v in self.enc.items()}
            item["labels"] = torch.tensor(self.labels[i])
            return item

    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(), per_device_train_batch_size=32, per_device_eval_batch_size=32,
        num_train_epochs=epochs, learning_rate=5e-5, report_to=[], save_strategy="no", logging_strategy="no",
        disable_tqdm=True, seed=0,
    )
    train_set = Padded(train)
    trainer = Trainer(model=model, args=args, train_dataset=train_set)
    seconds = trainer.train().metrics["train_runtime"]
    predicted = trainer.predict(Padded(test)).predictions.argmax(axis=1)
    return {
        "train_seconds": seconds,
        "accuracy": float(np.mean(np.array(classes)[predicted] == np.array(test.labels))),
        "real_tokens": int(sum(sum(mask) for mask in train_set.enc["attention_mask"])) * epochs,
        "non_embedding_params": _non_embedding_params(model),
        "max_length": 128,
    }


def run_tunetext(train, test, epochs: int, model_name: str) -> dict:
    from accelerate import Accelerator  # noqa: F401
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from tunetext.encoders import resolve_model_path, tokenize
    from tunetext.methods import make_method

    # Imports are a once-per-process cost that the recipe pays before its timer starts: pay them here too
    # (building a model from its config imports the architecture's modules). Model loading stays timed.
    AutoModelForSequenceClassification.from_config(AutoConfig.from_pretrained(resolve_model_path(model_name)))
    method = make_method("finetune", model=model_name, epochs=epochs, min_steps=0).fit(train.texts, train.labels)
    accuracy = float(np.mean(method.predict(test.texts) == np.array(test.labels, dtype=object)))
    lengths = [len(ids) for ids in tokenize(method.tokenizer_, train.texts, method.max_length_)]
    return {
        "train_seconds": method.train_seconds_,  # all of fit: model loading and tokenization included
        "accuracy": accuracy,
        "real_tokens": int(sum(lengths)) * epochs,
        "non_embedding_params": _non_embedding_params(method.model_),
        "max_length": method.max_length_,
    }


MATMUL_SHAPES = {"MiniLM (1024×384 @ 384×1536)": (1024, 384, 1536), "MPNet (1024×768 @ 768×3072)": (1024, 768, 3072),
                 "large (2048³)": (2048, 2048, 2048)}


def matmul_ceiling(seconds: float = 1.0) -> dict:
    """TFLOP/s of torch.matmul per dtype and shape: the most a training step could get from this CPU."""
    import torch

    dtypes = {"fp32": torch.float32}
    if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        dtypes["bf16"] = torch.bfloat16
    ceiling = {}
    for dtype_name, dtype in dtypes.items():
        for shape_name, (m, k, n) in MATMUL_SHAPES.items():
            a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
            torch.matmul(a, b)  # warm-up: thread pool and kernel selection
            calls, start = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds:
                torch.matmul(a, b)
                calls += 1
            ceiling[f"{dtype_name} {shape_name}"] = 2 * m * k * n * calls / elapsed / 1e12
    return ceiling


def _non_embedding_params(model) -> int:
    return sum(p.numel() for name, p in model.named_parameters() if "embeddings." not in name)


def child(arm: str, dataset: str, limit: int | None, epochs: int, model: str, result_path: str) -> None:
    from tunetext.data import load_splits

    splits = load_splits(dataset)
    train = splits.train if limit is None else splits.train.subset(range(min(limit, len(splits.train))))
    result = {"recipe": run_recipe, "tunetext": run_tunetext}[arm](train, splits.test, epochs, model)
    result.update(arm=arm, dataset=dataset, model=model, examples=len(train), epochs=epochs,
                  samples_per_s=len(train) * epochs / result["train_seconds"])
    result["useful_tflops"] = 6 * result["non_embedding_params"] * result["real_tokens"] / result["train_seconds"] / 1e12
    with open(result_path, "w") as f:
        json.dump(result, f)


def measure(arm: str, dataset: str, limit: int | None, epochs: int, model: str) -> dict:
    """Run one arm in a fresh child process; add its peak RSS (this child's own, from wait4)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result_path = f.name
    command = [sys.executable, __file__, "--arm", arm, "--datasets", dataset, "--epochs", str(epochs), "--model", model,
               "--result", result_path]
    if limit is not None:
        command += ["--limit", str(limit)]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the {arm} arm on {dataset} failed (exit status {status}); its output is above.")
    with open(result_path) as f:
        result = json.load(f)
    os.unlink(result_path)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    result["wall_seconds"] = time.perf_counter() - started
    return result


def report(results: list[dict], ceiling: dict) -> dict:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Training throughput: HF Trainer recipe vs tunetext finetune, " + ", ".join(sorted({r["model"] for r in results})))
    best_fp32 = max(v for k, v in ceiling.items() if k.startswith("fp32"))
    for column in ("dataset", "arm", "examples×epochs", "max len", "samples/s", "peak RSS MB", "useful TFLOP/s",
                   "of fp32 ceiling", "test acc"):
        table.add_column(column, justify="left" if column in ("dataset", "arm") else "right")
    summary = {}
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        arms = {r["arm"]: r for r in results if r["dataset"] == dataset}
        for r in arms.values():
            table.add_row(dataset, r["arm"], f"{r['examples']}×{r['epochs']}", str(r["max_length"]),
                          f"{r['samples_per_s']:.1f}", f"{r['peak_rss_mb']:.0f}", f"{r['useful_tflops']:.3f}",
                          f"{r['useful_tflops'] / best_fp32:.0%}", f"{r['accuracy']:.4f}")
        if set(arms) == set(ARMS):
            ours, base = arms["tunetext"], arms["recipe"]
            summary[dataset] = {
                "throughput_ratio": ours["samples_per_s"] / base["samples_per_s"],
                "memory_ratio": ours["peak_rss_mb"] / base["peak_rss_mb"],
                "accuracy_delta": ours["accuracy"] - base["accuracy"],
            }
            s = summary[dataset]
            table.add_row(dataset, "ratio", "", "", f"{s['throughput_ratio']:.1f}×", f"{s['memory_ratio']:.2f}×", "",
                          "", f"{s['accuracy_delta']:+.4f}", end_section=True)
    Console(stderr=True).print(table)
    Console(stderr=True).print("matmul ceiling (TFLOP/s): " + ", ".join(f"{k} {v:.3f}" for k, v in ceiling.items()))
    for r in results:
        r["fraction_of_fp32_ceiling"] = r["useful_tflops"] / best_fp32
    return {"results": results, "summary": summary, "matmul_ceiling_tflops": ceiling, "cpu_threads": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="trec6,election-tweets", help="comma-separated catalog names")
    parser.add_argument("--limit", type=int, default=2000, help="training examples per dataset (0: all)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="256 examples, 1 epoch")
    parser.add_argument("--model", default="minilm-l6", help="catalog encoder or local model folder, for both arms")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated, or 'none' for the matmul ceiling alone")
    parser.add_argument("--out", help="also write the JSON report here")
    parser.add_argument("--arm", choices=ARMS, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    limit = args.limit or None
    if args.quick:
        limit, args.epochs = 256, 1
    if args.arm:
        return child(args.arm, args.datasets, limit, args.epochs, args.model, args.result)

    arms = [] if args.arms == "none" else args.arms.split(",")
    results = [measure(arm, dataset, limit, args.epochs, args.model) for dataset in args.datasets.split(",") for arm in arms]
    output = json.dumps(report(results, matmul_ceiling()), indent=2)
    print(output)
    if args.out:
        with open(args.out, "w") as f:
            f.write(output + "\n")


if __name__ == "__main__":
    main()
