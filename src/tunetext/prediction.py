"""Label a file of any size: read in chunks, predict, append to a temporary file, rename at the end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tunetext.data.loading import SUFFIXES, find_text_column, iter_table_chunks
from tunetext.errors import DataError
from tunetext.io import atomic_path
from tunetext.methods.base import Method

PREDICTED_COLUMN = "predicted_label"


def predict_frame(method: Method, frame: pd.DataFrame, text_column: str, text_pair_column: str | None = None) -> pd.DataFrame:
    """`frame` with the predicted label and one `proba_<class>` column per class appended."""
    texts = frame[text_column].fillna("").astype(str).tolist()
    if text_pair_column is not None:
        texts = list(zip(texts, frame[text_pair_column].fillna("").astype(str).tolist()))
    proba = method.predict_proba(texts)
    out = frame.copy()
    out[PREDICTED_COLUMN] = method.classes_[proba.argmax(axis=1)] if len(proba) else np.array([], dtype=object)
    for i, label in enumerate(method.classes_):
        out[f"proba_{label}"] = proba[:, i]
    return out


def predict_file(
    method: Method,
    data: str | Path,
    out: str | Path,
    *,
    text_column: str | None = None,
    text_pair_column: str | None = None,
    chunk_size: int = 10_000,
    console=None,
) -> int:
    """Predict every row of `data` into `out` (format from its suffix), in input order; returns the row count.

    Memory stays bounded by `chunk_size`; `out` appears only once every row is written.
    """
    out = Path(out)
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
