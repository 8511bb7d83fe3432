"""What each `tunetext` command does, as one Python call with the CLI's defaults.

`tunetext train | tune | compare | export` parse their flags, call these and print; a script or notebook
calls them directly. Errors name these functions' parameters (`text_column=...`); the CLI shows them as
its flags. Pass a `rich.console.Console` as `console` to see the CLI's progress messages.

The functions live here and not in `tunetext/__init__.py` because `tunetext.tune`, `tunetext.compare` and
`tunetext.export` are sub-packages, whose import would replace functions of the same name there.
Imports are deferred to the calls, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from tunetext.errors import ConfigError

DEFAULT_METHOD = "tfidf-svm"
"""What `train` fits when neither `method` nor a `config` file names one."""


def is_main_process() -> bool:
    """False in all but the first process of `accelerate launch` / torchrun: every process trains its share,
    only the first one writes."""
    return int(os.environ.get("RANK", "0")) == 0


def merge_config(method: str | None, params: dict | None, config: str | Path | None) -> tuple[str, dict]:
    """The method and parameters to train: `config` (a `tune` best.json) gives defaults that `method` and
    `params` override; with neither, `DEFAULT_METHOD` with its defaults."""
    params = dict(params or {})
    if config is not None:
        from tunetext.tune import read_config

        config_method, config_params = read_config(config)
        method, params = method or config_method, config_params | params
    return method or DEFAULT_METHOD, params


def paths_used(*sources: str | os.PathLike | None, config: str | Path | None, params: dict) -> list[Path]:
    """What training reads or writes besides its output folder: data, the config file, the encoder folder,
    checkpoints. Data sources and `model` may be catalog or bundled names rather than paths, so only
    existing ones count."""
    named = [Path(source) for source in (*sources, params.get("model")) if source and Path(source).exists()]
    return named + [Path(path) for path in (config, params.get("checkpoint_dir")) if path]


def train(
    data: str | os.PathLike,
    *,
    out: str | os.PathLike,
    method: str | None = None,
    params: dict[str, Any] | None = None,
    config: str | os.PathLike | None = None,
    augment: str | None = None,
    augment_ratio: float = 1.0,
    seed: int = 0,
    text_column: str | None = None,
    label_column: str | None = None,
    text_pair_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    label_delimiter: str | None = None,
    drop_empty: bool = False,
    overwrite: bool = False,
    metric: str | None = None,
    console=None,
) -> dict:
    """Fit `method` on `data`'s train split, evaluate on its test split, save the model and metrics.json to `out`.

    Returns the metrics. `augment` ("eda" or "mlm") adds `augment_ratio` changed copies per training
    example, to the training split only. `out` is checked before any work (see `Method.save` for when
    an existing folder is replaced); `seed` drives the split and the augmentation. `metric` is the headline
    metric (recorded as metrics["metric"], with why in "metric_reason"); None chooses from the training labels.
    """
    from tunetext.data import load_splits
    from tunetext.evaluation.experiment import fit_and_evaluate
    from tunetext.evaluation.skew import choose_metric
    from tunetext.io import write_json
    from tunetext.methods import make_method
    from tunetext.methods.base import check_model_dir

    method, params = merge_config(method, params, config)
    out = check_model_dir(out, inputs=paths_used(data, config=config, params=params), overwrite=overwrite)
    splits = load_splits(data, text_column=text_column, label_column=label_column, text_pair_column=text_pair_column,
                         label_columns=label_columns, label_delimiter=label_delimiter, drop_empty=drop_empty, seed=seed)
    headline = choose_metric(splits.train.labels, metric)  # before training: a wrong metric fails fast
    estimator = make_method(method, **params)
    train_data = splits.train
    if augment is not None:
        from tunetext.augment import augment as augmented

        with _status(console, f"Augmenting the training split ({augment}, ratio {augment_ratio})…"):
            train_data = augmented(splits.train, augment, augment_ratio, seed=seed, model=params.get("model", "minilm"))
    _print(console, f"[bold]{method}[/] on [bold]{splits.name}[/]: {len(train_data):,} train, "
                    f"{len(splits.validation or []):,} validation, {len(splits.test):,} test, {len(splits.classes)} classes")
    main_process = is_main_process()
    with _status(console, f"Training {method}…"):
        metrics, _ = fit_and_evaluate(estimator, train_data, splits.test, validation=splits.validation,
                                      save_to=out if main_process else None, overwrite=overwrite)
    metrics["data"] = splits.name
    metrics["metric"], metrics["metric_reason"] = headline
    if getattr(estimator, "long_texts_", None):  # a transformer method: say how long texts were read
        from tunetext.methods.long_texts import describe

        metrics["long_texts"] = estimator.long_texts_
        _print(console, describe(estimator.long_texts_), highlight=False)
    if main_process:
        write_json(out / "metrics.json", metrics)
    return metrics


def tune(
    method: str,
    data: str | os.PathLike,
    *,
    trials: int = 20,
    out: str | os.PathLike | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    space: dict | str | os.PathLike | None = None,
    params: dict[str, Any] | None = None,
    metric: str = "accuracy",
    seed: int = 0,
    text_column: str | None = None,
    label_column: str | None = None,
    overwrite: bool = False,
    console=None,
) -> dict:
    """Search `method`'s hyperparameters on the validation split (never the test split); return the best config.

    The config (also written to OUT/best.json, with trials.csv and plots) is what `train(config=...)` reads.
    `space` overrides the method's search space (a dict, or a JSON file of one); `params` fixes values.
    Data without a validation split gets one: 20% of train, stratified. `out` defaults to
    tune-METHOD-DATA, `storage` to sqlite:///OUT/study.db and `study_name` to METHOD-DATA: the same
    name and storage resume the study, from any number of processes or machines.
    """
    from tunetext.data import load_splits, stratified_holdout
    from tunetext.io import check_output_dir, write_json
    from tunetext.tune import SearchSpace, best_config, run_study, save_plots

    space_file = Path(space) if space is not None and not isinstance(space, dict) else None
    if space_file is not None:
        try:
            space = json.loads(space_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"space={str(space_file)!r} is not valid JSON ({exc}); it maps parameter names to "
                              "ranges or choices, e.g. {\"lr\": {\"low\": 1e-5, \"high\": 1e-3, \"log\": true}, "
                              "\"batch_size\": [16, 32]}.") from None
    search = SearchSpace.for_method(method, (space or {}) | (params or {}))
    splits = load_splits(data, text_column=text_column, label_column=label_column, seed=seed)
    train_data, validation = splits.train, splits.validation
    if not validation:
        train_data, validation = stratified_holdout(train_data, 0.2, seed=seed)
    out = Path(out or f"tune-{method}-{splits.name}")
    # An earlier run's folder (rerunning resumes its study) or a new one; never a folder of other files.
    inputs = [path for path in (Path(data), space_file) if path is not None and path.exists()]
    check_output_dir(out, markers=("best.json", "study.db"), inputs=inputs, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    study_name = study_name or f"{method}-{splits.name}"
    _print(console, f"[bold]{method}[/] on [bold]{splits.name}[/]: {len(train_data):,} train, {len(validation):,} "
                    f"validation; searching {', '.join(search.searched)}; study {study_name!r} in {storage}")

    def progress(study, trial) -> None:
        value = "pruned" if trial.value is None else f"{trial.value:.4f}"
        _print(console, f"trial {trial.number}: {value}  {search.params_of(trial.params)}", highlight=False)

    study = run_study(search, train_data, validation, trials=trials, storage=storage, study_name=study_name,
                      metric=metric, seed=seed, on_trial=progress)
    config = best_config(study, search)
    write_json(out / "best.json", config)
    study.trials_dataframe().to_csv(out / "trials.csv", index=False)
    plots = save_plots(study, out)
    tuned = config["tuned"]
    default = "n/a" if tuned["default_score"] is None else f"{tuned['default_score']:.4f}"
    _print(console, f"validation {metric}: best {tuned['validation_score']:.4f} (trial {tuned['trial']}), "
                    f"defaults {default}; {tuned['finished_trials']} finished trials")
    _print(console, f"Best parameters: {json.dumps(config['params'])}", highlight=False)
    _print(console, f"Wrote {out / 'best.json'} (use: tunetext train --config {out / 'best.json'} --data ... "
                    f"--out ...), trials.csv, {', '.join(p.name for p in plots)}")
    return config


def compare(
    data: str | os.PathLike = "trec6",
    *,
    out: str | os.PathLike = "compare-report",
    methods: str | Sequence[str] | None = None,
    budget: str = "fast",
    sizes: str | Sequence[int | None] | None = None,
    metric: str | None = None,
    params: dict[str, Any] | None = None,
    model: str | None = None,
    models: str | Sequence[str] | None = None,
    on_cell: Callable | None = None,
    cv: str = "auto",
    **load_options,
) -> dict:
    """Every method on one dataset, across training sizes and seeds; writes the report to `out` and returns
    its summary (see `tunetext.compare.run_comparison`, which this calls; rerunning resumes).

    `methods`: names (a list or "a,b,c"; default: the budget's). `sizes`: examples per class replacing the
    budget's (a list, None meaning all, or "16,64,all"). `params`: per method, as {"finetune": {"epochs": 2}}
    or {"finetune.epochs": 2}. `model`: the encoder of every method that takes one. `models` (a list or "a,b"):
    several encoders, each method that takes one runs on every one (rows `method@encoder`, plus a model-size
    section); one name is the same as `model`. `cv`: "auto" cross-validates the two leaders when the test split is
    too small to separate them, "K" or "KxR" always (K folds, R repeats), "off" never.
    """
    from tunetext.compare import BUDGETS, run_comparison
    from tunetext.methods import get_method_class, list_methods

    names = [name.strip() for name in methods.split(",")] if isinstance(methods, str) else methods
    per_method = _per_method(params or {})
    encoders = [name.strip() for name in models.split(",")] if isinstance(models, str) else list(models or [])
    if model is not None and encoders:
        raise ConfigError(f"model={model!r} and models={','.join(encoders)!r} both given; pass one encoder as model "
                          "or several as models.")
    if len(encoders) == 1:
        model, encoders = encoders[0], []
    if len(set(encoders)) < len(encoders):
        raise ConfigError(f"models={','.join(encoders)!r} names an encoder twice; list each once.")
    if model is not None:
        for name in names or list_methods():
            if "model" in get_method_class(name)().get_params():
                per_method.setdefault(name, {})["model"] = model
    if budget not in BUDGETS:
        raise ConfigError(f"budget={budget!r}; use one of {', '.join(BUDGETS)}.")
    chosen = BUDGETS[budget]
    if sizes is not None:  # the user's sizes, exactly
        chosen = dataclasses.replace(chosen, sizes=_sizes(sizes), few_label_sizes=())
    return run_comparison(data, out=out, methods=names, budget=chosen, metric=metric, params=per_method,
                          on_cell=on_cell, encoders=encoders or None, cv=cv, **load_options)


def audit(
    data: str | os.PathLike,
    *,
    out: str | os.PathLike = "audit-report",
    methods: str | Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    overwrite: bool = False,
    **load_options,
) -> dict:
    """Rank the likely label errors of `data` (a file: every row; a catalog name or folder: its train split)
    and write audit.csv/.md/.html/.json to `out`; returns the summary (see `tunetext.audit.audit_labels`).

    `methods`: names (a list or "a,b"; default tfidf-logreg and probe) whose out-of-fold probabilities are averaged.
    """
    from tunetext.audit import DEFAULT_METHODS, audit_labels, check_audit_dir, write_audit
    from tunetext.data import load_splits
    from tunetext.data.loading import load_labeled

    out = check_audit_dir(out, inputs=paths_used(data, config=None, params={}), overwrite=overwrite)
    names = [name.strip() for name in methods.split(",")] if isinstance(methods, str) else methods
    if Path(data).is_file():
        labeled = load_labeled(data, **load_options)
    else:
        labeled = load_splits(data, **load_options).train
    result = audit_labels(labeled, methods=names or DEFAULT_METHODS, folds=folds, seed=seed)
    return write_audit(result, out, overwrite=overwrite)


def export(
    model_dir: str | os.PathLike,
    *,
    quantize: str | None = None,
    data: str | os.PathLike | None = None,
    text_column: str | None = None,
    sample_size: int = 200,
) -> dict:
    """Export a model folder to DIR/onnx/ (plus an int8 file with `quantize="int8"`); returns the export record.

    Parity with PyTorch is checked on the first `sample_size` texts of `data` (a file), or on built-in
    sentences; `serve` and `predict` use the export from then on.
    """
    from tunetext.export.onnx import export_onnx

    texts = _first_texts(Path(data), text_column, sample_size) if data is not None else None
    return export_onnx(model_dir, quantize=quantize, sample_texts=texts)


def _per_method(params: dict[str, Any]) -> dict[str, dict]:
    """{"finetune.epochs": 2} and {"finetune": {"epochs": 2}} both become the latter."""
    per_method: dict[str, dict] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            per_method.setdefault(key, {}).update(value)
            continue
        name, dot, field = key.rpartition(".")
        if not dot:
            raise ConfigError(f"compare parameter {key!r} names no method; write it as METHOD.{key}, "
                              f"e.g. finetune.{key}.")
        per_method.setdefault(name, {})[field] = value
    return per_method


def _sizes(sizes: str | Sequence[int | None]) -> tuple[int | None, ...]:
    """Examples per class; None, or "all" in a comma-separated string, is the whole training set."""
    if not isinstance(sizes, str):
        return tuple(sizes)
    try:
        return tuple(None if size.strip() == "all" else int(size) for size in sizes.split(","))
    except ValueError:
        raise ConfigError(f"sizes={sizes!r}: give examples per class separated by commas, e.g. 16,64,all.") from None


def _first_texts(data: Path, text_column: str | None, n: int) -> list[str]:
    from tunetext.data import find_text_column, iter_table_chunks

    chunk = next(iter_table_chunks(data, chunk_size=n))
    return chunk[find_text_column(chunk.columns, text_column, source=data.name)].fillna("").astype(str).tolist()


def _status(console, message: str):
    return console.status(message) if console is not None else contextlib.nullcontext()


def _print(console, message: str, **options) -> None:
    if console is not None:
        console.print(message, **options)
