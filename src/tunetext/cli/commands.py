"""`tunetext train | evaluate | predict` and the mounting of the other command groups."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from tunetext.cli import BACKEND_HELP, TASK_HELP, app, friendly_errors
from tunetext.cli.data import app as data_app
from tunetext.cli import models  # noqa: F401  (registers `tunetext models`)

console = Console()
app.add_typer(data_app, name="data", help="List, inspect and fetch the bundled real datasets.")

DATA_HELP = "A CSV/TSV/JSONL/Parquet file, a folder (train.*/test.* or a saved HF dataset), or a catalog name (see `tunetext data list`)."
LABEL_COLUMNS_HELP = "Multi-label: several 0/1 columns, one per label, e.g. billing,refund,bug (instead of --label-column)."
LABEL_DELIMITER_HELP = "Multi-label: what joins several labels in one label cell (default: '|' when present, ',' when unambiguous)."


def split_names(value: str | None) -> list[str] | None:
    """"a,b,c" -> ["a", "b", "c"]; None stays None."""
    return None if value is None else [name.strip() for name in value.split(",") if name.strip()]


def parse_params(pairs: list[str]) -> dict:
    """`key=value` pairs; values are read as JSON when they parse (numbers, lists, true/null), else as strings."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {pair!r} (e.g. --param C=0.5)")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


@app.command()
@friendly_errors
def train(
    data: Optional[str] = typer.Option(None, "--data", "-d", help=DATA_HELP),
    task: list[str] = typer.Option([], "--task", help="NAME=PATH|DATASET, twice or more instead of --data: "
                                   "multi-task fine-tuning, one shared encoder and one head per task."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for the trained model and metrics.json."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="A method name; see `tunetext methods` "
                                         "(default: the --config file's, else tfidf-svm)."),
    config: Optional[Path] = typer.Option(None, "--config", help="A JSON file written by `tunetext tune` (best.json): "
                                          "its method and parameters; --method and --param given here win."),
    param: list[str] = typer.Option([], "--param", "-p", help="Hyperparameter as key=value (repeatable)."),
    model: Optional[str] = typer.Option(None, help="Encoder for transformer methods: 'minilm' or a local HF model folder."),
    text_column: Optional[str] = typer.Option(None, help="Text column (auto-detected by default)."),
    text_pair_column: Optional[str] = typer.Option(None, help="Second text column, for text pairs."),
    label_column: Optional[str] = typer.Option(None, help="Label column (auto-detected by default)."),
    label_columns: Optional[str] = typer.Option(None, help=LABEL_COLUMNS_HELP),
    label_delimiter: Optional[str] = typer.Option(None, help=LABEL_DELIMITER_HELP),
    drop_empty: bool = typer.Option(False, help="Skip rows with empty texts or labels instead of stopping."),
    seed: int = typer.Option(0, help="Seed for the train/validation/test split."),
    preprocess: Optional[str] = typer.Option(None, help="Normaliser applied at training and prediction: 'tweet'."),
    adapt_mlm_steps: Optional[int] = typer.Option(None, help="Masked-LM steps on the training texts before fine-tuning."),
    augment: Optional[str] = typer.Option(None, help="Augment the training split (never validation or test): "
                                          "eda (word edits with embedding-neighbour synonyms) or mlm (masked-LM replacement)."),
    augment_ratio: float = typer.Option(1.0, help="With --augment: new examples per training example."),
    metric: Optional[str] = typer.Option(None, help="Headline metric, accuracy or f1_macro (default: f1_macro when "
                                         "the training labels are skewed, else accuracy)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out even if it holds files tunetext did not "
                                   "write (never the current folder, a file, or a folder holding the input)."),
) -> None:
    """Fit a method, evaluate it on the test split, and save the model with DIR/metrics.json.

    An existing DIR is replaced only if it is empty or a model tunetext saved (or with --overwrite).
    """
    from tunetext import api
    from tunetext.evaluation.tables import metrics_table, per_class_table

    options = {"model": model, "preprocess": preprocess, "adapt_mlm_steps": adapt_mlm_steps}
    params = parse_params(param) | {key: value for key, value in options.items() if value is not None}
    if task:
        from tunetext.tasks import train_multitask

        sources = dict(pair.partition("=")[::2] for pair in task)
        with console.status(f"Multi-task fine-tuning on {', '.join(sources)}…"):
            metrics = train_multitask(sources, out=out, params=params, config=config, split_seed=seed, overwrite=overwrite)
        for name, task_metrics in metrics["tasks"].items():
            console.print(metrics_table(task_metrics, title=name))
        console.print(f"Model and metrics saved to [bold]{out}[/]")
        return
    if data is None:
        raise typer.BadParameter("pass --data PATH|DATASET, or --task NAME=PATH|DATASET twice or more for multi-task.")
    metrics = api.train(data, out=out, method=method, params=params, config=config, augment=augment,
                        augment_ratio=augment_ratio, seed=seed, text_column=text_column, label_column=label_column,
                        text_pair_column=text_pair_column, label_columns=split_names(label_columns),
                        label_delimiter=label_delimiter, drop_empty=drop_empty, overwrite=overwrite, metric=metric,
                        console=console)
    if not api.is_main_process():
        return
    console.print(metrics_table(metrics), per_class_table(metrics))
    console.print(f"Model and metrics saved to [bold]{out}[/]")


@app.command()
@friendly_errors
def evaluate(
    model_dir: Path = typer.Argument(..., help="A directory written by `tunetext train`."),
    data: str = typer.Option(..., "--data", "-d", help=DATA_HELP),
    split: str = typer.Option("auto", help="Which rows: all, train, validation, test. auto = test for catalog names, all for files."),
    text_column: Optional[str] = typer.Option(None),
    text_pair_column: Optional[str] = typer.Option(None),
    label_column: Optional[str] = typer.Option(None),
    label_columns: Optional[str] = typer.Option(None, help=LABEL_COLUMNS_HELP),
    label_delimiter: Optional[str] = typer.Option(None, help=LABEL_DELIMITER_HELP),
    drop_empty: bool = typer.Option(False),
    out: Optional[Path] = typer.Option(None, help="Write the metrics here as JSON."),
    task: Optional[str] = typer.Option(None, "--task", help=TASK_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file."),
) -> None:
    """Evaluate a saved model on labeled data."""
    from tunetext.data import check_known_labels, load_labeled, load_splits
    from tunetext.evaluation import evaluate as compute_metrics
    from tunetext.evaluation.tables import metrics_table, per_class_table
    from tunetext.io import check_output_file, write_json
    from tunetext.prediction import load_predictor

    if out is not None:
        check_output_file(out, inputs=[data], overwrite=overwrite)
    columns = dict(text_column=text_column, label_column=label_column, text_pair_column=text_pair_column,
                   label_columns=split_names(label_columns), label_delimiter=label_delimiter)
    if split == "auto":
        split = "all" if Path(data).exists() else "test"
    if split == "all":
        rows = load_labeled(data, drop_empty=drop_empty, **columns)
    elif split in ("train", "validation", "test"):
        rows = getattr(load_splits(data, drop_empty=drop_empty, **columns), split)
    else:
        raise typer.BadParameter(f"--split {split!r}: use all, train, validation, test or auto")
    method = load_predictor(model_dir, "torch", task)
    check_known_labels(rows.labels, method.classes_, rows.source or str(data))
    with console.status(f"Predicting {len(rows):,} texts…"):
        proba = method.predict_proba(rows.texts)
        metrics = compute_metrics(rows.labels, proba, method.classes_, texts=rows.texts, predicted=method.decide(proba))
    console.print(metrics_table(metrics, title=f"{method.name} on {data} ({split})"), per_class_table(metrics))
    if out is not None:
        write_json(out, metrics)


@app.command()
@friendly_errors
def predict(
    model_dir: Path = typer.Argument(..., help="A directory written by `tunetext train`."),
    data: Path = typer.Option(..., "--data", "-d", help="CSV/TSV/JSONL/Parquet file of texts to label."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file; its suffix picks the format (.csv, .tsv, .jsonl, .parquet)."),
    text_column: Optional[str] = typer.Option(None, help="Text column (auto-detected by default)."),
    text_pair_column: Optional[str] = typer.Option(None, help="Second text column, for models trained on pairs."),
    chunk_size: int = typer.Option(10_000, help="Rows read, predicted and written at a time (bounds memory)."),
    backend: str = typer.Option("auto", help=BACKEND_HELP),
    task: Optional[str] = typer.Option(None, "--task", help=TASK_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file (never the --data file)."),
    at_least_one: Optional[bool] = typer.Option(None, "--at-least-one/--no-at-least-one", help="Multi-label models: "
                                                "give a text whose labels all fall below their thresholds its most "
                                                "likely one, or leave it empty (default: as trained; at least one "
                                                "when no training text had an empty label set)."),
) -> None:
    """Label every row of a file: keeps the input columns, adds `predicted_label` and one probability per class."""
    from tunetext.io import check_output_file
    from tunetext.prediction import load_predictor, predict_file

    check_output_file(out, inputs=[data], overwrite=overwrite)  # before the model is loaded
    method = load_predictor(model_dir, backend, task, at_least_one=at_least_one)
    rows = predict_file(method, data, out, text_column=text_column, text_pair_column=text_pair_column,
                        chunk_size=chunk_size, overwrite=overwrite, console=console)
    console.print(f"Labeled {rows:,} rows → [bold]{out}[/]")


@app.command()
@friendly_errors
def compare(
    data: str = typer.Option("trec6", "--data", "-d", help=DATA_HELP),
    methods: Optional[str] = typer.Option(None, help="Comma-separated method names (default: the budget's: fast runs the main ones, full every registered method)."),
    budget: str = typer.Option("fast", help="fast: sizes 16/64/256/all per class (8 added, and contrastive, when no class has over 64 texts), 3 seeds on subsamples; full: every method, sizes 8/16/32/64/256/1024/all, 5 and 3 seeds."),
    sizes: Optional[str] = typer.Option(None, help="Override the budget's examples per class, e.g. 16,64,all."),
    metric: Optional[str] = typer.Option(None, help="accuracy or f1_macro: ranks methods and drives the verdict "
                                         "(default: f1_macro when the training labels are skewed, else accuracy)."),
    out: Path = typer.Option(Path("compare-report"), "--out", "-o", help="Report directory; rerunning resumes from its finished cells."),
    param: list[str] = typer.Option([], "--param", "-p", help="method.key=value, e.g. finetune.epochs=2 (repeatable)."),
    model: Optional[str] = typer.Option(None, help="Encoder for every transformer method: 'minilm' or a local HF model folder."),
    models: Optional[str] = typer.Option(None, help="Comma-separated encoders (catalog names or folders), e.g. "
                                         "minilm-l6,mpnet-base: every transformer method runs on each, rows are "
                                         "METHOD@ENCODER and the report weighs model size against its cost."),
    cv: str = typer.Option("auto", help="Cross-validate the two leaders over the labeled data: auto (only when the "
                           "test split is too small to separate them; 5 folds), K or KxR (always: K folds, R repeats), off."),
    text_column: Optional[str] = typer.Option(None),
    text_pair_column: Optional[str] = typer.Option(None),
    label_column: Optional[str] = typer.Option(None),
    label_columns: Optional[str] = typer.Option(None, help=LABEL_COLUMNS_HELP),
    label_delimiter: Optional[str] = typer.Option(None, help=LABEL_DELIMITER_HELP),
    drop_empty: bool = typer.Option(False),
) -> None:
    """Every method on one dataset, across training sizes and seeds: which approach to ship, and what it costs."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tunetext import api

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("Comparing", total=None)

        def on_cell(cell, done: bool, total: int) -> None:
            size = "all" if cell.size is None else f"{cell.size}/class"
            state = " (reused)" if done else ""
            progress.update(task, total=total, description=f"{cell.label} · {size} · seed {cell.seed}{state}")
            progress.advance(task)

        summary = api.compare(data, out=out, methods=methods, budget=budget, sizes=sizes, metric=metric,
                              params=parse_params(param), model=model, models=models, on_cell=on_cell, cv=cv, text_column=text_column,
                              label_column=label_column, text_pair_column=text_pair_column, drop_empty=drop_empty,
                              label_columns=split_names(label_columns), label_delimiter=label_delimiter)
    for line in summary["verdict"]:
        console.print("• " + line.replace("**", ""))
    console.print(f"Report: [bold]{out / 'report.html'}[/] (also report.md, results.json, results.csv, PNG plots)")


@app.command()
@friendly_errors
def methods(name: Optional[str] = typer.Argument(None, help="A method: show its hyperparameters, defaults and what each does.")) -> None:
    """List the available methods, or describe one's hyperparameters (`tunetext methods finetune`)."""
    from rich.table import Table

    from tunetext.methods import get_method_class, list_methods
    from tunetext.methods.base import describe_params

    if name is not None:
        method_cls = get_method_class(name)
        table = Table(title=f"{name}: {_first_line(method_cls.__doc__)}")
        for column in ("parameter", "default", "what it does"):
            table.add_column(column)
        for param, default, doc in describe_params(method_cls):
            table.add_row(param, repr(default), doc)
        console.print(table)
        console.print(f"Set one with `-p NAME=VALUE` on `tunetext train` (`-p {name}.NAME=VALUE` on compare).", highlight=False)
        return
    table = Table(title="Methods (`tunetext methods NAME` for one's hyperparameters)")
    table.add_column("name")
    table.add_column("what it is")
    for method in list_methods():
        table.add_row(method, _first_line(get_method_class(method).__doc__))
    console.print(table)


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n")[0]


from tunetext.cli import deploy, tune  # noqa: E402,F401  (registers `serve`, `export` and `tune`)
from tunetext.cli import audit  # noqa: E402,F401  (registers `audit`)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
