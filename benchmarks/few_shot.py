"""Few labels: SetFit against tunetext's methods on identical stratified subsamples (issue 16).

    python benchmarks/few_shot.py                                       # 4 datasets, 8/16/32/64 per class, 5 seeds
    python benchmarks/few_shot.py --data trec6 --per-class 8,64 --seeds 0,1 --methods setfit,contrastive,finetune

For every (dataset, examples per class, seed), one stratified subsample of the catalog training split (k texts of
each class, fewer where a class has fewer) is drawn here and given to every method; each is scored on the
catalog test split. Training time is the whole fit, encoder loading included, for SetFit as for tunetext.

SetFit is the `setfit` library with its documented defaults (TrainingArguments(): cosine-similarity pairs,
oversampling, one epoch, batch 16, logistic-regression head) on the same bundled MiniLM folder, offline. It is
a benchmark-only dependency: the first run makes its own virtual environment in benchmarks/.venv-setfit
(the same CPU torch wheel first, so pip pulls no CUDA build), and this file, run there with `--setfit-worker`,
trains it; nothing of tunetext is imported in that environment.

Runs are appended to benchmarks/results/few_shot.jsonl and skipped when already there, so a cut-short sweep
resumes; few_shot.json (mean ± std per cell) and few_shot.md are written from that file after every run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SETFIT_VENV = Path(__file__).parent / ".venv-setfit"
SETFIT_REQUIREMENTS = ("torch==2.13.0", "setfit==1.2.0")
"""Installed in this order: torch from the CPU wheel first, so setfit's own requirement is already met."""
DATASETS = "trec6,rt-snippets,election-tweets,sms-spam"
METHODS = "setfit,contrastive,finetune,probe,tfidf-svm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DATASETS, help="catalog datasets, comma-separated")
    parser.add_argument("--per-class", default="8,16,32,64", help="training examples per class, comma-separated")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--methods", default=METHODS, help="'setfit' and tunetext method names, comma-separated")
    parser.add_argument("--note", default="", help="the conditions of this run (machine, load), kept in the results")
    parser.add_argument("--setfit-worker", metavar="JOBS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setfit_worker:
        return setfit_worker(Path(args.setfit_worker))

    sys.path.insert(0, str(Path(__file__).parent))
    from issue6_experiments import Log

    RESULTS.mkdir(exist_ok=True)
    warm_imports()
    log = Log(RESULTS / "few_shot.jsonl")
    methods = args.methods.split(",")
    for seed in (int(s) for s in args.seeds.split(",")):  # seeds outermost: a cut-short sweep covers every cell
        for name in args.data.split(","):
            for k in (int(s) for s in args.per_class.split(",")):
                run_cell(log, name, k, seed, methods, args.note)
                write_summary(log.rows)
    print((RESULTS / "few_shot.md").read_text())


def run_cell(log, name: str, k: int, seed: int, methods: list[str], note: str) -> None:
    """Every method on one subsample: `k` texts per class of `name`'s training split, drawn with `seed`."""
    from issue6_experiments import fit

    from tunetext.data import load_splits
    from tunetext.methods import get_method_class

    splits = load_splits(name)
    train = splits.train.subset(stratified_rows([str(y) for y in splits.train.labels], k, seed))
    for method in methods:
        key = {"data": name, "per_class": k, "seed": seed, "method": method}
        if method == "setfit":
            log.run(key, lambda: {**run_setfit(train, splits.test, seed), "note": note})
        else:
            accepted = get_method_class(method)().get_params()
            cold = {"seed": seed, "cache": False}  # seeded where a method takes a seed; timed without cached features
            log.run(key, lambda: {**fit(method, train, splits.test, **{k: v for k, v in cold.items() if k in accepted}),
                                  "note": note})


def warm_imports() -> None:
    """Import the encoder's code before any clock starts, as SetFit's worker does (setfit imports before timing)."""
    from tunetext.encoders import load_encoder, resolve_model_path

    load_encoder(resolve_model_path("minilm"))


def stratified_rows(labels: list[str], k: int, seed: int) -> list[int]:
    """`k` row indices of each class (all of a smaller class), drawn with `seed`, in ascending order."""
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    rows = [rng.choice(np.flatnonzero(labels == c), min(k, int((labels == c).sum())), replace=False)
            for c in sorted(set(labels))]
    return sorted(int(i) for i in np.concatenate(rows))


# ---- SetFit, in its own environment --------------------------------------------------------------------
def run_setfit(train, test, seed: int) -> dict:
    """Train and score SetFit in benchmarks/.venv-setfit on the same texts and the same MiniLM folder."""
    from tunetext.encoders import resolve_model_path

    python = setfit_python()
    job = {"model": resolve_model_path("minilm"), "seed": seed, "train_texts": list(train.texts),
           "train_labels": [str(y) for y in train.labels], "test_texts": list(test.texts),
           "test_labels": [str(y) for y in test.labels]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "job.json"
        path.write_text(json.dumps(job))
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "WANDB_DISABLED": "true"}
        done = subprocess.run([str(python), __file__, "--setfit-worker", str(path)], env=env,
                              capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"SetFit failed in {SETFIT_VENV} (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def setfit_python() -> Path:
    """The Python of benchmarks/.venv-setfit, made and filled on first use."""
    python = SETFIT_VENV / "bin" / "python"
    if not python.exists() or subprocess.run([str(python), "-c", "import setfit"], capture_output=True).returncode:
        subprocess.run([sys.executable, "-m", "venv", str(SETFIT_VENV)], check=True)
        for requirement in SETFIT_REQUIREMENTS:
            subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def setfit_worker(job_path: Path) -> None:
    """In the SetFit environment: fit with TrainingArguments' defaults, print accuracy and seconds as JSON."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from transformers.utils import logging

    logging.set_verbosity_error()
    job = json.loads(job_path.read_text())
    start = time.perf_counter()
    model = SetFitModel.from_pretrained(job["model"])
    with tempfile.TemporaryDirectory() as checkpoints:  # SetFit writes checkpoints into ./checkpoints otherwise
        arguments = TrainingArguments(output_dir=checkpoints, seed=job["seed"], report_to="none",
                                      show_progress_bar=False)
        trainer = Trainer(model=model, args=arguments,
                          train_dataset=Dataset.from_dict({"text": job["train_texts"], "label": job["train_labels"]}))
        trainer.train()
    seconds = time.perf_counter() - start
    predicted = [str(y) for y in model.predict(job["test_texts"], as_numpy=True)]
    accuracy = sum(p == y for p, y in zip(predicted, job["test_labels"])) / len(predicted)
    print(json.dumps({"accuracy": accuracy, "train_seconds": seconds}))


# ---- summary ----------------------------------------------------------------------------------------------
def write_summary(rows: list[dict]) -> None:
    """few_shot.json (one entry per dataset, size and method) and few_shot.md, from every finished run."""
    import numpy as np

    from tunetext.io import atomic_path, write_json

    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        cells.setdefault((row["data"], row["per_class"], row["method"]), []).append(row)
    summary = []
    for (data, k, method), group in sorted(cells.items()):
        acc = np.array([r["accuracy"] for r in group])
        summary.append({"data": data, "per_class": k, "method": method, "runs": len(group),
                        "seeds": sorted(r["seed"] for r in group), "accuracy_mean": float(acc.mean()),
                        "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else None,
                        "train_seconds_mean": float(np.mean([r["train_seconds"] for r in group])),
                        "notes": sorted({r.get("note", "") for r in group} - {""})})
    write_json(RESULTS / "few_shot.json", summary)
    setfit = {(s["data"], s["per_class"]): s for s in summary if s["method"] == "setfit"}
    lines = ["| data | per class | method | accuracy | runs | train s | time / SetFit's |", "|---|---|---|---|---|---|---|"]
    for s in summary:
        spread = f" ± {s['accuracy_std']:.3f}" if s["accuracy_std"] is not None else ""
        reference = setfit.get((s["data"], s["per_class"]))
        ratio = f"{s['train_seconds_mean'] / reference['train_seconds_mean']:.2f}" if reference else ""
        lines.append(f"| {s['data']} | {s['per_class']} | {s['method']} | {s['accuracy_mean']:.3f}{spread} | {s['runs']} "
                     f"| {s['train_seconds_mean']:.0f} | {ratio} |")
    notes = sorted({note for s in summary for note in s["notes"]})
    with atomic_path(RESULTS / "few_shot.md") as tmp:
        tmp.write_text("\n".join(lines + [""] + [f"Conditions: {n}" for n in notes]) + "\n")


if __name__ == "__main__":
    main()
