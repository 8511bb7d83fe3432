"""Multi-task training from several labelled sources: what `tunetext train --task NAME=SOURCE ...` runs.

The `multitask` method itself fits on `task:label` labels like any method; this module loads each task's
splits, pools their training sets, and scores each task on its own test split.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tunetext.data.dataset import LabeledTexts
from tunetext.errors import ConfigError


def evaluate_tasks(model, tests: dict[str, LabeledTexts]) -> dict[str, dict]:
    """Each task's metrics on its own test set; the model's chosen `task` is as it was afterwards."""
    from tunetext.evaluation import evaluate

    chosen = model.task
    try:
        return {task: evaluate(test.labels, model.set_params(task=task).predict_proba(test.texts), model.classes_,
                               texts=test.texts) for task, test in tests.items()}
    finally:
        model.set_params(task=chosen)


def train_multitask(
    sources: dict[str, str],
    *,
    out: str | os.PathLike,
    params: dict[str, Any] | None = None,
    config: str | os.PathLike | None = None,
    split_seed: int = 0,
    overwrite: bool = False,
) -> dict:
    """Fit `multitask` on every task's train split, save it to `out`, score each task's test split.

    `sources` maps task names to a file, folder or catalog name each; `params` are the method's
    hyperparameters (over those of `config`, a `tune` best.json). Writes the model and `metrics.json`
    (per-task metrics and the training time) to `out`; returns the metrics.
    """
    from tunetext.api import merge_config, paths_used
    from tunetext.data import load_splits
    from tunetext.io import write_json
    from tunetext.methods import make_method
    from tunetext.methods.base import check_model_dir
    from tunetext.methods.multitask import pool_tasks

    if not sources or not all(sources.values()):
        raise ConfigError(f"sources maps each task name to a PATH or DATASET, e.g. {{'trec6': 'trec6'}}; got {sources}.")
    _, params = merge_config("multitask", params, config)
    check_model_dir(out, inputs=paths_used(*sources.values(), config=config, params=params), overwrite=overwrite)
    splits = {name: load_splits(source, seed=split_seed) for name, source in sources.items()}
    pooled = pool_tasks({name: split.train for name, split in splits.items()})
    model = make_method("multitask", **params).fit(pooled.texts, pooled.labels)
    model.save(out, overwrite=overwrite)
    metrics = {"method": "multitask", "params": params, "train_seconds": model.train_seconds_,
               "tasks": evaluate_tasks(model, {name: split.test for name, split in splits.items()})}
    write_json(Path(out) / "metrics.json", metrics)
    return metrics
