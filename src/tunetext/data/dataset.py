"""The in-memory shape of labeled text that every method and evaluation step consumes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Sequence, Union

import numpy as np

from tunetext.errors import DataError

Text = Union[str, tuple[str, str]]
"""One example: a single text, or a pair of texts (premise/hypothesis, question/answer, ...)."""

LabelSet = tuple[str, ...]
"""A multi-label example's labels: sorted, without repeats, possibly empty `()`."""


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with one label each; labels are strings so they survive CSV, JSON and HF configs alike.

    In a multi-label dataset every label is a `LabelSet` (a sorted tuple of strings, possibly empty).
    """

    texts: list[Text]
    labels: list[str] | list[LabelSet]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> list[str]:
        """The class names; for multi-label data, every label name that occurs in some set."""
        if self.is_multilabel:
            return sorted({name for names in self.labels for name in names})
        return sorted(set(self.labels))

    @property
    def is_multilabel(self) -> bool:
        return is_multilabel(self.labels)

    @property
    def is_pair(self) -> bool:
        return bool(self.texts) and isinstance(self.texts[0], tuple)

    def subset(self, indices: Sequence[int] | np.ndarray) -> "LabeledTexts":
        return LabeledTexts([self.texts[i] for i in indices], [self.labels[i] for i in indices], self.source)

    def fingerprint(self) -> str:
        """sha256 of the examples in order (texts, pairs and labels; not `source`): results computed on other
        data must not pass for these, and the same data gives the same hash on every run and platform."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels):
            # One JSON line per example: escaping keeps text boundaries unambiguous, and a pair is a list.
            digest.update(json.dumps([text, label], ensure_ascii=False, default=str).encode("utf-8") + b"\n")
        return digest.hexdigest()


def is_multilabel(labels: Sequence) -> bool:
    """Whether `labels` are label sets (tuples, lists, sets) rather than one string per text."""
    return any(isinstance(label, (tuple, list, set, frozenset, np.ndarray)) for label in labels)


def label_set(labels) -> LabelSet:
    """One text's labels as a `LabelSet`: strings, sorted, each once."""
    return tuple(sorted({str(label) for label in labels}))


def indicator(labels: Sequence[LabelSet], classes: Sequence[str]) -> np.ndarray:
    """0/1 matrix (n_texts, n_classes), uint8, columns in `classes` order; a name outside `classes` is refused."""
    column = {name: j for j, name in enumerate(classes)}
    matrix = np.zeros((len(labels), len(classes)), dtype=np.uint8)
    for i, names in enumerate(labels):
        for name in names:
            if name not in column:
                raise DataError(f"label {name!r} of text {i + 1} is not one of the classes ({', '.join(classes)}); "
                                "drop or relabel that text, or train on data that has the label.")
            matrix[i, column[name]] = 1
    return matrix


@dataclass(frozen=True)
class DatasetSplits:
    """Train / validation / test of one dataset; `validation` may be empty for small data."""

    name: str
    train: LabeledTexts
    test: LabeledTexts
    validation: LabeledTexts | None = None
    info: dict = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return self.train.classes

    def fingerprint(self) -> str:
        """sha256 of train, validation and test (which example sits in which split counts too); not of `name`."""
        parts = [split.fingerprint() if split is not None else "none" for split in (self.train, self.validation, self.test)]
        return hashlib.sha256(" ".join(parts).encode("ascii")).hexdigest()
