"""Multi-task fine-tuning: one shared encoder, one classification head per task.

Each task keeps its own label set. The heads are the column blocks of one linear layer over the
labels `task:label` of every task; the loss is a softmax *within* each example's own task block, so
heads never compete across tasks, and predicting for a task reads only its block. Training texts of all
tasks are pooled and shuffled together, so every batch samples across tasks; `temperature` re-weights how
often each task is seen (1: in proportion to its size; larger: closer to uniform, n_t^(1/T)).

Not a registered method: predicting needs a task name, which the one-label-set `Method` protocol lacks.
A saved multi-task folder still loads with `Method.load` as a `finetune` over all `task:label` classes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tunetext.data.dataset import LabeledTexts, Text
from tunetext.errors import ConfigError
from tunetext.io import read_json, write_json
from tunetext.methods.finetune import FineTune
from tunetext.model_files import TASKS_FILE as _TASKS_FILE, saved_tasks  # noqa: F401  (defined there: no torch needed)

SEPARATOR = ":"


def task_sample_sizes(sizes: dict[str, int], temperature: float = 1.0) -> dict[str, int]:
    """Examples per task in one epoch of the pooled data: the same total, shared in proportion to n_t^(1/T)."""
    if temperature <= 0:
        raise ConfigError(f"temperature={temperature!r} must be > 0: 1 samples in proportion to task size, "
                          "larger values flatten towards uniform (2-5 is usual).")
    shares = np.array([n ** (1 / temperature) for n in sizes.values()], dtype=float)
    shares /= shares.sum()
    return {task: max(1, round(sum(sizes.values()) * share)) for task, share in zip(sizes, shares)}


def pool_tasks(tasks: dict[str, LabeledTexts], temperature: float = 1.0, seed: int = 0) -> LabeledTexts:
    """All tasks' examples in one set, labels prefixed `task:`; each task drawn to its `task_sample_sizes` count.

    A task drawn more often than it has examples repeats whole passes over them before any example repeats
    twice; one drawn less often takes a random subset.
    """
    rng = np.random.default_rng(seed)
    texts: list[Text] = []
    labels: list[str] = []
    for task, count in task_sample_sizes({t: len(d) for t, d in tasks.items()}, temperature).items():
        data = tasks[task]
        rows = np.concatenate([rng.permutation(len(data)) for _ in range(-(-count // len(data)))])[:count]
        texts += [data.texts[i] for i in rows]
        labels += [f"{task}{SEPARATOR}{data.labels[i]}" for i in rows]
    return LabeledTexts(texts, labels, "+".join(tasks))


class TaskHeads(FineTune):
    """`finetune` over `task:label` classes, with the softmax of the loss taken within each task's block."""

    def _task_blocks(self) -> dict[str, np.ndarray]:
        tasks = np.array([label.split(SEPARATOR, 1)[0] for label in self.classes_])
        return {str(task): np.flatnonzero(tasks == task) for task in dict.fromkeys(tasks)}

    def _loss_fn(self, weight: torch.Tensor | None):
        blocks = [torch.as_tensor(columns) for columns in self._task_blocks().values()]
        local = torch.empty(len(self.classes_), dtype=torch.long)  # a class's index inside its task's block
        for columns in blocks:
            local[columns] = torch.arange(len(columns))

        def loss_fn(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            total = logits.new_zeros(())
            for columns in blocks:
                rows = torch.isin(labels, columns.to(labels.device))
                if rows.any():
                    w = None if weight is None else weight[columns].to(logits.device)
                    task_logits = logits[rows][:, columns.to(logits.device)]
                    total = total + rows.sum() * F.cross_entropy(task_logits, local.to(labels.device)[labels[rows]],
                                                                 weight=w, label_smoothing=self.label_smoothing)
            return total / len(labels)

        return loss_fn


class MultiTask:
    """One encoder fine-tuned on several tasks at once; `predict(texts, task)` answers for one of them.

    `params` are `finetune`'s hyperparameters (epochs, lr, batch_size, preprocess, ...), shared by all tasks.
    """

    def __init__(self, *, temperature: float = 1.0, **params) -> None:
        self.temperature = temperature
        self.params = params

    def fit(self, tasks: dict[str, LabeledTexts]) -> "MultiTask":
        bad = [task for task in tasks if SEPARATOR in task or not task]
        if bad or len(tasks) < 2:
            raise ConfigError(f"multi-task training needs two or more named tasks, without {SEPARATOR!r} in the "
                              f"name; got {list(tasks)}. Name them like --task trec6=trec6 --task spam=sms.csv.")
        pooled = pool_tasks(tasks, self.temperature, seed=self.params.get("seed", 0))
        self.model_ = TaskHeads(**self.params).fit(pooled.texts, pooled.labels)
        self.train_seconds_ = self.model_.train_seconds_
        return self

    @property
    def tasks(self) -> list[str]:
        return list(self.model_._task_blocks())

    def classes(self, task: str) -> np.ndarray:
        return np.array([label.split(SEPARATOR, 1)[1] for label in self.model_.classes_[self._block(task)]], dtype=object)

    def predict_proba(self, texts: list[Text], task: str) -> np.ndarray:
        """float32 `(n, classes(task))`: the task head's softmax (the pooled softmax restricted to its block)."""
        proba = self.model_.predict_proba(texts)[:, self._block(task)]
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, texts: list[Text], task: str) -> np.ndarray:
        proba = self.predict_proba(texts, task)
        return self.classes(task)[proba.argmax(axis=1)] if len(proba) else np.array([], dtype=object)

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        directory = self.model_.save(directory, overwrite=overwrite)
        write_json(directory / _TASKS_FILE, {"temperature": self.temperature, "tasks": self.tasks})
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "MultiTask":
        meta = read_json(Path(directory) / _TASKS_FILE)
        multitask = cls(temperature=meta["temperature"])
        multitask.model_ = TaskHeads.load(directory)
        multitask.params = multitask.model_.get_params()
        return multitask

    def for_task(self, task: str) -> "TaskPredictor":
        return TaskPredictor(self, task)

    def _block(self, task: str) -> np.ndarray:
        blocks = self.model_._task_blocks()
        if task not in blocks:
            raise ConfigError(f"unknown task {task!r}; this model was trained on: {', '.join(blocks)}.")
        return blocks[task]


class TaskPredictor:
    """One task of a multi-task model as a plain predictor (`classes_`, `predict_proba`): for predict and evaluate."""

    def __init__(self, model: MultiTask, task: str) -> None:
        self.classes_ = model.classes(task)  # an unknown task fails here, naming the known ones
        self.name = f"multitask[{task}]"
        self._model, self._task = model, task

    def predict_proba(self, texts: list[Text]) -> np.ndarray:
        return self._model.predict_proba(texts, self._task)


def evaluate_tasks(model: MultiTask, tests: dict[str, LabeledTexts]) -> dict[str, dict]:
    """Each task's metrics on its own test set."""
    from tunetext.evaluation import evaluate

    return {task: evaluate(test.labels, model.predict_proba(test.texts, task), model.classes(task), texts=test.texts)
            for task, test in tests.items()}


def train_tasks(sources: dict[str, str], out: str | Path, *, split_seed: int = 0, overwrite: bool = False, **params) -> dict:
    """`tunetext train --task NAME=SOURCE ...`: fit on every task's train split, save, score each test split.

    Writes the model and `metrics.json` (per-task metrics and the training time) to `out`; returns the metrics.
    """
    from tunetext.data import load_splits

    if not all(sources.values()):
        raise ConfigError(f"--task takes NAME=PATH|DATASET, e.g. --task trec6=trec6; got {sources}.")
    splits = {name: load_splits(source, seed=split_seed) for name, source in sources.items()}
    model = MultiTask(**params).fit({name: s.train for name, s in splits.items()})
    model.save(out, overwrite=overwrite)
    metrics = {"method": "multitask", "params": params, "train_seconds": model.train_seconds_,
               "tasks": evaluate_tasks(model, {name: s.test for name, s in splits.items()})}
    write_json(Path(out) / "metrics.json", metrics)
    return metrics
