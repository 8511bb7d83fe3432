"""Train / validation / test splits: the data's own when it has them, else stratified and seeded.

Comparing methods is only fair on identical splits, so every split here is a pure function of the
data and the seed.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.model_selection import train_test_split

from tunetext.data.dataset import DatasetSplits, LabeledTexts
from tunetext.data.loading import (
    LABEL_DELIMITER,
    SUFFIXES,
    check_known_labels,
    clean_rows,
    find_columns,
    is_hf_folder,
    load_labeled,
    read_table,
    to_labeled,
)
from tunetext.errors import ConfigError, DataError

SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
}
"""Accepted names of a split (in a `split` column, a DatasetDict, or a file name) -> the canonical one."""

FEW_CLASSES = 10
"""A toy table may have up to this many classes in fewer than twice as many rows, and up to this many
one-example classes, without a word; beyond, the label column likely holds IDs or free text."""
_SHOW_CLASSES = 5  # classes named in a message


def stratified_holdout(data: LabeledTexts, size: float | int, *, seed: int = 0) -> tuple[LabeledTexts, LabeledTexts]:
    """Cut `data` in two, holding out `size` (a fraction, or a number of examples), with class proportions kept.

    A class with a single example cannot be in both parts, so it stays in the first (training) part;
    when the held-out part is too small to hold one example of every class, the cut falls back to a
    seeded shuffle. Both parts keep the original order.
    """
    keys = [LABEL_DELIMITER.join(label) if isinstance(label, tuple) else label for label in data.labels]
    counts = Counter(keys)  # multi-label data is stratified by label set
    labels = np.asarray(keys, dtype=object)
    pool = np.flatnonzero([counts[key] > 1 for key in keys])
    singles = np.flatnonzero([counts[key] == 1 for key in keys])
    try:
        try:
            keep, held = train_test_split(pool, test_size=size, stratify=labels[pool], random_state=seed)
        except ValueError:  # fewer held-out (or kept) examples than classes: stratifying is impossible
            keep, held = train_test_split(pool, test_size=size, random_state=seed)
    except ValueError:  # scikit-learn's message speaks of its own parameters: ours says why and what to do
        raise DataError(
            f"cannot hold out {size} of the {len(data)} examples of {data.source or 'the data'}: only {len(pool)} "
            "of them are in classes with more than one example (a class with one example stays in training), "
            "too few to split. Add examples to the small classes, merge or drop the classes with a single "
            "example, or hold out less. Giving the splits yourself (a `split` column, or train.* / test.* files) "
            "works only if every test label also has training examples."
        ) from None
    return data.subset(np.sort(np.concatenate([keep, singles]))), data.subset(np.sort(held))


def _check_class_counts(train: LabeledTexts, label_column: str) -> None:
    """Refuse a label column with a class for nearly every row, and warn about many one-example classes.

    Such classes can be neither learned nor tested, yet the model and its metrics grow with their number:
    4,842 one-example classes took 3.8 GB of memory to train into a 1.17 GB model.
    """
    labels = [name for names in train.labels for name in names] if train.is_multilabel else train.labels
    counts = Counter(labels)
    source = train.source or "the training data"
    if len(counts) > max(len(train) / 2, FEW_CLASSES):
        examples = ", ".join(repr(c) for c in list(counts)[:_SHOW_CLASSES])
        raise DataError(
            f"column {label_column!r} of {source} has {len(counts):,} different labels in {len(train):,} training "
            f"rows (e.g. {examples}): fewer than two examples per class, so it looks like an ID or free-text column "
            f"rather than classes. Pass label_column=NAME naming the column that holds the classes, "
            "or, if this is the right column, merge rare classes (e.g. into 'other') or collect more examples."
        )
    singles = [c for c, n in counts.items() if n == 1]
    if len(singles) > FEW_CLASSES:
        warnings.warn(
            f"{len(singles):,} of the {len(counts):,} classes in column {label_column!r} of {source} have a single "
            f"training example (e.g. {', '.join(repr(c) for c in singles[:_SHOW_CLASSES])}): one example is too few "
            "to learn a class, and when the test split is carved from train, those classes stay in train and are "
            "never tested. Merge rare classes (e.g. into 'other') or drop them.",
            stacklevel=4,  # the caller of load_splits
        )


def load_splits(
    source: str | os.PathLike,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    text_pair_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    label_delimiter: str | None = None,
    drop_empty: bool = False,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    seed: int = 0,
) -> DatasetSplits:
    """Load train / validation / test from a file, a folder, or a catalog dataset name.

    Splits the data already has are respected: a `split` column, a Hugging Face DatasetDict, or a folder
    of train.* / validation.* / test.* files. A missing test or validation split is carved from train;
    `test_size` and `validation_size` are fractions of what they are carved from (the whole table when
    nothing is given). Catalog datasets come with fixed splits, so the sizes and columns do not apply.
    Multi-label tables (`label_columns`, `label_delimiter`): see `load_labeled`.
    """
    if not 0 < test_size < 1 or not 0 <= validation_size < 1 or test_size + validation_size >= 1:
        raise ConfigError(
            f"validation_size={validation_size} and test_size={test_size}: expected 0 <= validation_size, "
            "0 < test_size and a sum below 1 (e.g. 0.1 and 0.1)."
        )
    path = Path(source)
    if not path.exists():
        from tunetext.data import catalog  # imported late: the catalog builds its splits with this module

        names = [info.name for info in catalog.list_datasets()]
        if str(source) in names:
            return catalog.load_catalog(str(source))
        raise DataError(
            f"{source} is not a file or folder (looked in {path.absolute().parent}), nor a catalog dataset "
            f"({', '.join(names)}). Check the path or the name."
        )
    columns = dict(text_column=text_column, label_column=label_column, text_pair_column=text_pair_column,
                   label_columns=label_columns, label_delimiter=label_delimiter)
    if path.is_dir() and not is_hf_folder(path):
        given, label = _load_split_files(path, drop_empty=drop_empty, **columns)
    else:
        given, label = _load_table_splits(path, drop_empty=drop_empty, **columns)
    return _complete(path, given, label, validation_size=validation_size, test_size=test_size, seed=seed)


def _split_files(folder: Path) -> dict[str, Path]:
    files = {}
    for file in sorted(folder.iterdir()):
        split = SPLIT_NAMES.get(file.stem.lower())
        if split and file.suffix.lower() in SUFFIXES:
            if split in files:
                raise DataError(f"{folder} has two {split} files: {files[split].name} and {file.name}. Keep one.")
            files[split] = file
    if "train" not in files:
        present = ", ".join(sorted(f.name for f in folder.iterdir())) or "(nothing)"
        raise DataError(
            f"{folder} is a folder without a train file; it holds: {present}. Put train.csv (and optionally "
            f"test.csv, validation.csv; any of {', '.join(SUFFIXES)}) in it, or pass a single file."
        )
    return files


def _load_split_files(folder: Path, *, drop_empty: bool, **columns: str | None) -> tuple[dict[str, LabeledTexts], str]:
    """One LabeledTexts per train.* / validation.* / test.* file, and the label column of the train file."""
    given, label = {}, ""
    for split, file in _split_files(folder).items():
        frame = read_table(file)
        given[split] = load_labeled(frame, drop_empty=drop_empty, source=file.name, **columns)
        if split == "train":
            label = find_columns(frame.columns, source=file.name, **columns).label
    return given, label


def _load_table_splits(path: Path, *, drop_empty: bool, **columns: str | None) -> tuple[dict[str, LabeledTexts], str]:
    """One table -> {"train": all rows}, or one LabeledTexts per value of its `split` column; and its label column."""
    frame = read_table(path)
    split_column = next((c for c in frame.columns if str(c).lower() == "split"), None)
    others = [c for c in frame.columns if c != split_column]
    found = find_columns(others, source=path.name, **columns)
    frame = clean_rows(frame, found, drop_empty=drop_empty, source=path.name)
    if split_column is None:
        return {"train": to_labeled(frame, found, path.name)}, found.label
    names = frame[split_column].astype(str).str.strip().str.lower()
    unknown = Counter(name for name in names if name not in SPLIT_NAMES)
    if unknown:
        listed = ", ".join(f"{name!r} ({n} row{'s' * (n != 1)})" for name, n in unknown.most_common())
        raise DataError(
            f"column {split_column!r} of {path.name} has unknown split names: {listed}; expected train, "
            "validation (or dev, valid) and test. Rename them, or drop the column to split automatically."
        )
    canonical = names.map(SPLIT_NAMES).to_numpy()
    return {
        split: to_labeled(frame[canonical == split], found, f"{path.name} ({split})")
        for split in ("train", "validation", "test")
        if (canonical == split).any()
    }, found.label


def _complete(
    path: Path, given: dict[str, LabeledTexts], label: str, *, validation_size: float, test_size: float, seed: int
) -> DatasetSplits:
    """Check the given train split can train, then carve whatever split the data lacks out of it."""
    if "train" not in given:
        raise DataError(f"{path.name} has {' and '.join(given)} data but no train split. Add training rows.")
    train, carved = given["train"], []
    if len(train.classes) < 2:
        raise DataError(
            f"the training data of {path.name} has a single class ({train.labels[0]!r}, {len(train)} rows); a "
            "classifier needs at least two. Check that the label column is the right one (label_column=NAME)."
        )
    _check_class_counts(train, label)
    test = given.get("test")
    if test is None:
        train, test = stratified_holdout(train, test_size, seed=seed)
        carved.append("test")
    validation = given.get("validation")
    if validation is None and validation_size > 0:
        pool_fraction = 1 - test_size if "test" in carved else 1
        train, validation = stratified_holdout(train, validation_size / pool_fraction, seed=seed)
        carved.append("validation")
    for part in (validation, test):
        if part is not None:
            check_known_labels(part.labels, train.classes, part.source or path.name)
    split = f"{', '.join(carved)} carved from train (stratified, seed {seed})" if carved else "given by the data"
    name = path.stem if path.is_file() else path.name
    return DatasetSplits(name, train, test, validation, info={"source": str(path), "split": split})
