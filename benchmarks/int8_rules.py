"""The export's int8 rules side by side: label agreement with fp32, texts/s and file size on a real test split.

    python benchmarks/int8_rules.py --model-dir trec6=runs/mpnet-trec6 --model-dir trec6=runs/minilm-trec6

For each fine-tuned model (exported to DIR/onnx/model.onnx first if it has no export), every rule of
`tunetext.export.onnx.INT8_RULES` quantises the fp32 file into a temporary folder; then the fp32 file and each int8
file predict the dataset's whole test split, arms interleaved --repeats times (texts/s: best and median). Agreement
is with the fp32 file's labels, which equal PyTorch's in fp32. JSON on stdout (and --out), a table on stderr.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_output import emit


def run_model(dataset: str, model_dir: Path, repeats: int, workdir: Path) -> dict:
    from tunetext.data import load_splits
    from tunetext.export import OnnxClassifier, export_onnx, has_export
    from tunetext.export.onnx import EXPORT_DIR, FP32_FILE, INT8_RULES, _session

    if not has_export(model_dir):
        export_onnx(model_dir)
    fp32 = model_dir / EXPORT_DIR / FP32_FILE
    files = {"fp32": fp32}
    for rule, quantize in INT8_RULES:
        files[rule] = workdir / f"{len(files)}.onnx"
        start = time.perf_counter()
        quantize(fp32, files[rule])
        print(f"{model_dir.name}: {rule} quantised in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    test = load_splits(dataset).test
    classifier = OnnxClassifier.load(model_dir, FP32_FILE)
    sessions = {arm: _session(path) for arm, path in files.items()}
    seconds = {arm: [] for arm in files}
    proba = {}
    for _ in range(repeats):
        for arm, session in sessions.items():
            classifier.session_ = session
            start = time.perf_counter()
            proba[arm] = classifier.predict_proba(test.texts)
            seconds[arm].append(time.perf_counter() - start)
    reference = proba["fp32"].argmax(axis=1)
    arms = {}
    for arm in files:
        labels = proba[arm].argmax(axis=1)
        arms[arm] = {"texts_per_s": len(test) / min(seconds[arm]),
                     "median_texts_per_s": len(test) / float(np.median(seconds[arm])),
                     "size_mb": files[arm].stat().st_size / 2**20,
                     "agreement": float(np.mean(labels == reference)),
                     "disagreements": int(np.sum(labels != reference)),
                     "max_abs_diff": float(np.abs(proba[arm] - proba["fp32"]).max()),
                     "accuracy": float(np.mean(classifier.classes_[labels] == np.array(test.labels, dtype=object)))}
    for r in arms.values():
        r["vs_fp32"] = r["texts_per_s"] / arms["fp32"]["texts_per_s"]
    return {"dataset": dataset, "model_dir": str(model_dir), "encoder": _encoder(model_dir), "texts": len(test),
            "repeats": repeats, "arms": arms}


def _encoder(model_dir: Path) -> str:
    from tunetext.methods.base import read_metadata

    return str(read_metadata(model_dir)["params"].get("model"))


def table(results: list[dict]) -> str:
    lines = ["| data | encoder | arm | agreement | texts/s (best) | × fp32 | size MB | accuracy |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for result in results:
        for arm, r in result["arms"].items():
            lines.append(f"| {result['dataset']} | {result['encoder']} | {arm} | {r['agreement']:.4f} "
                         f"({r['disagreements']}/{result['texts']}) | {r['texts_per_s']:.1f} | {r['vs_fp32']:.2f}× | "
                         f"{r['size_mb']:.0f} | {r['accuracy']:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", action="append", required=True, metavar="DATASET=DIR",
                        help="a fine-tuned model and the catalog dataset whose test split it predicts (repeatable)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timed calls per arm")
    parser.add_argument("--out", help="also write the JSON report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tunetext-int8-") as workdir:
        results = []
        for item in args.model_dir:
            dataset, model_dir = item.split("=", 1)
            folder = Path(workdir) / str(len(results))
            folder.mkdir()
            results.append(run_model(dataset, Path(model_dir), args.repeats, folder))
    print(table(results), file=sys.stderr)
    emit({"results": results}, args.out)


if __name__ == "__main__":
    main()
