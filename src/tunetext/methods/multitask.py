"""Multi-task fine-tuning: one shared encoder, one classification head per task.

Training labels are `task:label` (`pool_tasks` builds them from {task: LabeledTexts}); each task keeps its
own label set. The heads are the column blocks of one linear layer over every `task:label`; the loss is a
softmax *within* each example's own task block, so heads never compete across tasks, and predicting for
a task reads only its block. Training texts of all tasks are shuffled together, so every batch samples
across tasks; `temperature` re-weights how often each task is seen (1: in proportion to its size; larger:
closer to uniform, n_t^(1/T)).

The `task` hyperparameter picks the head that answers: `set_params(task="q")` (or `--task q`), and
`classes_` and `predict_proba` are that task's. With no task chosen both refuse, listing the tasks
(`pooled_classes_` holds every `task:label`): a softmax across heads compares logits never trained
against each other, and answering for the first task would give plausible labels of the wrong task to
whoever forgot to choose one, where an error at `serve` or `predict` start names the fix.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from tunetext.data.dataset import LabeledTexts, Text
from tunetext.errors import ConfigError, DataError
from tunetext.methods.finetune import FineTune
from tunetext.methods.registry import register

SEPARATOR = ":"


def pool_tasks(tasks: dict[str, LabeledTexts]) -> LabeledTexts:
    """Every task's examples in one set, labels prefixed `task:`: what `multitask` fits on."""
    bad = [task for task in tasks if SEPARATOR in task or not task]
    if bad or len(tasks) < 2:
        raise ConfigError(f"multi-task training needs two or more named tasks, without {SEPARATOR!r} in the "
                          f"name; got {list(tasks)}. Name them like {{'trec6': ..., 'spam': ...}}.")
    return LabeledTexts([text for data in tasks.values() for text in data.texts],
                        [f"{task}{SEPARATOR}{label}" for task, data in tasks.items() for label in data.labels],
                        "+".join(tasks))


def task_sample_sizes(sizes: dict[str, int], temperature: float = 1.0) -> dict[str, int]:
    """Examples per task in one epoch of the pooled data: the same total, shared in proportion to n_t^(1/T)."""
    _check_temperature(temperature)
    shares = np.array([n ** (1 / temperature) for n in sizes.values()], dtype=float)
    shares /= shares.sum()
    return {task: max(1, round(sum(sizes.values()) * share)) for task, share in zip(sizes, shares)}


def sample_tasks(tasks: dict[str, LabeledTexts], temperature: float = 1.0, seed: int = 0) -> LabeledTexts:
    """`pool_tasks` with each task drawn to its `task_sample_sizes` count, in random order within each task.

    A task drawn more often than it has examples repeats whole passes over them before any example repeats
    twice; one drawn less often takes a random subset.
    """
    rng = np.random.default_rng(seed)
    drawn = {}
    for task, count in task_sample_sizes({t: len(d) for t, d in tasks.items()}, temperature).items():
        data = tasks[task]
        rows = np.concatenate([rng.permutation(len(data)) for _ in range(-(-count // len(data)))])[:count]
        drawn[task] = LabeledTexts([data.texts[i] for i in rows], [data.labels[i] for i in rows])
    return pool_tasks(drawn)


def split_tasks(texts: Sequence[Text], labels: Sequence[str]) -> dict[str, LabeledTexts]:
    """The inverse of `pool_tasks`: each task's examples with their own labels, tasks in order of appearance."""
    tasks: dict[str, LabeledTexts] = {}
    for text, pooled in zip(texts, labels):
        task, sep, label = str(pooled).partition(SEPARATOR)
        if not sep:
            raise DataError(f"multi-task labels are 'task{SEPARATOR}label'; got {pooled!r}. "
                            "Build them with tunetext.methods.multitask.pool_tasks({task: data, ...}).")
        tasks.setdefault(task, LabeledTexts([], []))
        tasks[task].texts.append(text)
        tasks[task].labels.append(label)
    if len(tasks) < 2:
        raise DataError(f"multi-task training needs two or more named tasks; the labels name only {list(tasks)}.")
    return tasks


@register("multitask")
@dataclass(kw_only=True, eq=False, repr=False)
class MultiTask(FineTune):
    """One encoder fine-tuned on several tasks at once (labels `task:label`); `task` picks the head that answers.

    Parameters
    ----------
    temperature
        How often each task is seen in training: 1 in proportion to its size, larger closer to uniform
        (n_t^(1/T); 2-5 is usual).
    task
        The task whose head `classes_` and `predict_proba` answer for; None: they refuse, listing the tasks.
    """

    comparable = False  # its training data is several labelled sets: compare's single dataset has one task
    multilabel = False  # its tasks are single-label heads over one pooled softmax
    exports_onnx = False  # the traced module would be the softmax over every task's labels at once

    temperature: float = 1.0
    task: str | None = None
    _every_class = False

    @property
    def classes_(self) -> np.ndarray:
        """The chosen task's labels (within `fit` and `save`: every `task:label`, which their code works on)."""
        if self._every_class:
            return self.pooled_classes_
        return np.array([label.split(SEPARATOR, 1)[1] for label in self.pooled_classes_[self._block()]], dtype=object)

    @classes_.setter
    def classes_(self, value: np.ndarray) -> None:
        self.pooled_classes_ = value

    @property
    def tasks_(self) -> list[str]:
        """The task names, in label order."""
        return list(self._task_blocks())

    def fit(self, texts: Sequence[Text], labels: Sequence[Any], *, validation: LabeledTexts | None = None) -> "MultiTask":
        """As `FineTune.fit` on `task:label` labels; every task's head trains, whichever `task` is chosen."""
        with self._all_tasks():
            return super().fit(texts, labels, validation=validation)

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """As `Method.save`, with every task's classes whichever `task` is chosen."""
        with self._all_tasks():
            return super().save(directory, overwrite=overwrite)

    @contextmanager
    def _all_tasks(self) -> Iterator[None]:
        self._every_class = True
        try:
            yield
        finally:
            self._every_class = False

    def _check_params(self) -> None:
        super()._check_params()
        _check_temperature(self.temperature)
        if self.task is not None and (not isinstance(self.task, str) or SEPARATOR in self.task):
            raise ConfigError(f"task={self.task!r} must be a task name (without {SEPARATOR!r}), or None.")

    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        pooled = sample_tasks(split_tasks(texts, labels), self.temperature, self.seed)
        super()._fit(pooled.texts, pooled.labels, validation)

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        """The task head's softmax: the softmax over every class, restricted to the task's block (renormalised by `predict_proba`)."""
        return super()._predict_proba(texts)[:, self._block()]

    def _metadata(self) -> dict:
        return {**super()._metadata(), "tasks": self.tasks_}

    def _task_blocks(self) -> dict[str, np.ndarray]:
        tasks = np.array([label.split(SEPARATOR, 1)[0] for label in self.pooled_classes_])
        return {str(task): np.flatnonzero(tasks == task) for task in dict.fromkeys(tasks)}

    def _block(self) -> np.ndarray:
        blocks = self._task_blocks()
        if self.task not in blocks:
            problem = "no task chosen" if self.task is None else f"unknown task {self.task!r}"
            raise ConfigError(f"{problem}: this multi-task model answers for one task at a time; "
                              f"set task to one of: {', '.join(blocks)}.")
        return blocks[self.task]

    def _loss_fn(self, weight: torch.Tensor | None):
        blocks = [torch.as_tensor(columns) for columns in self._task_blocks().values()]
        local = torch.empty(len(self.pooled_classes_), dtype=torch.long)  # a class's index inside its task's block
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


def _check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise ConfigError(f"temperature={temperature!r} must be > 0: 1 samples in proportion to task size, "
                          "larger values flatten towards uniform (2-5 is usual).")
