"""Label a file of any size: read in chunks, predict, append to a temporary file, rename at the end."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import pandas as pd

from tunetext.data.dataset import Text
from tunetext.data.loading import LABEL_DELIMITER, SUFFIXES, find_text_column, iter_table_chunks, refuse_nested_cells
from tunetext.errors import ConfigError, DataError, ModelError
from tunetext.io import atomic_path, check_output_file
from tunetext.methods.base import Method, read_metadata
from tunetext.model_files import has_export

PREDICTED_COLUMN = "predicted_label"
BACKENDS = ("auto", "torch", "onnx")


class Predictor(Protocol):
    """What prediction and serving need from a model: a `Method`, or an `OnnxClassifier`."""

    classes_: np.ndarray
    multilabel_: bool

    def predict_proba(self, texts: Sequence[Text]) -> np.ndarray: ...

    def decide(self, proba: np.ndarray) -> np.ndarray: ...


def resolve_backend(model_dir: str | Path, backend: str = "auto") -> str:
    """"torch": the saved method itself (PyTorch for transformers, scikit-learn for TF-IDF); "onnx": its
    export in DIR/onnx (`tunetext export DIR --onnx`); "auto": the export when there is one (several
    times faster on CPU, parity-checked when it was written), else the method."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend!r}; use one of {', '.join(BACKENDS)}.")
    if backend == "auto":
        return "onnx" if has_export(model_dir) else "torch"
    return backend


def load_predictor(model_dir: str | Path, backend: str = "auto", task: str | None = None, *,
                   at_least_one: bool | None = None) -> Predictor:
    """The model in `model_dir`, run by `backend` (see `resolve_backend`); `task` picks the head that answers,
    for a method with a `task` hyperparameter (one model trained on several tasks). `at_least_one` overrides,
    for a multi-label model, whether a text whose labels all fall below their thresholds gets its best one
    (default: what the model learned, True when no training text had an empty set).

    With backend="auto", a damaged ONNX export falls back to the method itself, with a warning. A method that
    caches encoder features runs without its cache here: predict and serve score texts that rarely recur, and
    writing every batch to the cache would grow it without bound.
    """
    predictor = _load(model_dir, backend, task)
    if isinstance(predictor, Method) and "cache" in predictor.get_params(deep=False):
        predictor.set_params(cache=False)
    if at_least_one is not None:
        if not predictor.multilabel_:
            raise ConfigError(f"at_least_one={at_least_one} is for multi-label models, but {model_dir} holds a "
                              "single-label model (one label per text, always); leave it out.")
        predictor.at_least_one_ = at_least_one
    return predictor


def _load(model_dir: str | Path, backend: str, task: str | None) -> Predictor:
    if task is not None:
        return _with_task(model_dir, backend, task)
    if resolve_backend(model_dir, backend) == "onnx":
        from tunetext.export.onnx import OnnxClassifier

        try:
            return OnnxClassifier.load(model_dir)
        except ModelError as exc:
            if backend != "auto":
                raise
            warnings.warn(f"{exc} Using the saved method instead (backend='torch').", stacklevel=2)
    return Method.load(model_dir)


def _with_task(model_dir: str | Path, backend: str, task: str) -> Predictor:
    """The saved method with `task` chosen; checked from tunetext.json before the model is loaded."""
    saved = read_metadata(model_dir)
    if "task" not in saved["params"]:
        raise ConfigError(f"task={task!r}, but {model_dir} holds a {saved['method']} model, which has no tasks; "
                          "leave the task out.")
    if backend == "onnx":
        raise ConfigError(f"task={task!r} is chosen on the saved method; use backend 'torch' or 'auto', not 'onnx'.")
    return Method.load(model_dir).set_params(task=task)


def predict_frame(method: Predictor, frame: pd.DataFrame, text_column: str, text_pair_column: str | None = None) -> pd.DataFrame:
    """`frame` with the predicted label and one `proba_<class>` column per class appended; for a multi-label
    model the predicted labels are joined by `LABEL_DELIMITER` (empty when none)."""
    texts = _column_texts(frame, text_column)
    if text_pair_column is not None:
        texts = list(zip(texts, _column_texts(frame, text_pair_column)))
    proba = method.predict_proba(texts)
    out = frame.copy()
    predicted = method.decide(proba)
    if getattr(method, "multilabel_", False):
        predicted = [LABEL_DELIMITER.join(names) for names in predicted]
    out[PREDICTED_COLUMN] = predicted
    for i, label in enumerate(method.classes_):
        out[f"proba_{label}"] = proba[:, i]
    return out


def _column_texts(frame: pd.DataFrame, column: str) -> list[str]:
    """The column as strings; a list cell would otherwise become numpy's truncated printed form."""
    refuse_nested_cells(frame[column], column, "the input")
    return frame[column].fillna("").astype(str).tolist()


def predict_file(
    method: Predictor,
    data: str | Path,
    out: str | Path,
    *,
    text_column: str | None = None,
    text_pair_column: str | None = None,
    chunk_size: int = 10_000,
    overwrite: bool = False,
    console=None,
) -> int:
    """Predict every row of `data` into `out` (format from its suffix), in input order; returns the row count.

    Memory stays bounded by `chunk_size`; `out` appears only once every row is written. `out` may not be
    `data`, and replaces an existing file only with `overwrite=True`.
    """
    out = check_output_file(out, inputs=[data], overwrite=overwrite)
    fmt = SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise DataError(f"cannot write {out.name}: unknown output type {out.suffix!r}; use one of {', '.join(SUFFIXES)}.")
    rows = 0
    with atomic_path(out) as tmp, _ChunkWriter(tmp, fmt) as writer:
        for chunk in iter_table_chunks(data, chunk_size=chunk_size):
            text = find_text_column(chunk.columns, text_column, source=Path(data).name)
            pair = find_text_column(chunk.columns, text_pair_column, source=Path(data).name) if text_pair_column else None
            writer.write(predict_frame(method, chunk.reset_index(drop=True), text, pair))
            rows += len(chunk)
            if console is not None:
                console.print(f"  {rows:,} rows labeled", highlight=False)
    return rows


class _ChunkWriter:
    """Appends frames to one CSV / TSV / JSON-lines / Parquet file."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self._first = True
        self._parquet = None

    def __enter__(self) -> "_ChunkWriter":
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)
        elif self.fmt == "jsonl":
            with open(self.path, "a", encoding="utf-8") as f:
                frame.to_json(f, orient="records", lines=True, force_ascii=False)
        else:
            frame.to_csv(self.path, mode="w" if self._first else "a", header=self._first, index=False,
                         sep="," if self.fmt == "csv" else "\t")
        self._first = False

    def __exit__(self, *exc) -> None:
        if self._parquet is not None:
            self._parquet.close()
