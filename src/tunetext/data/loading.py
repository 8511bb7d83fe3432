"""Read labeled text from the files people actually have, and fail with messages that say how to fix them.

Every reader keeps texts as strings (no NaN for an empty cell, no "1.0" for a label of 1, no printed
list for a list cell), refuses duplicate column names instead of renaming them, and every error names
the file, the column and the 1-based data row (the header is not counted).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import json
import math
import os
import re
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from tunetext.data.dataset import LabeledTexts, is_multilabel, label_set
from tunetext.errors import DataError, TunetextError

SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
"""File suffix -> format. `.json` means JSON lines, or a JSON array of records when the file starts with `[`."""

TEXT_COLUMNS = ("text", "sentence", "content", "review", "tweet", "message", "body", "question", "document", "comment")
LABEL_COLUMNS = ("label", "labels", "class", "category", "target", "sentiment", "y", "author", "topic", "intent")
PAIR_COLUMNS = (("sentence1", "sentence2"), ("premise", "hypothesis"), ("text_a", "text_b"), ("question1", "question2"))
"""Names tried in order (case-insensitive) when no column is given; pairs are tried before single texts."""

LABEL_DELIMITER = "|"
"""What joins the labels of a multi-label text in one cell (auto-detected; `,` too when unambiguous)."""
_FLAGS = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False, "1.0": True, "0.0": False}
"""Cell values of a 0/1 label column (`label_columns`), lowercased."""

_PARAMETERS = {"text": "text_column", "label": "label_column", "text pair": "text_pair_column",
               "label set": "label_columns"}
_SHOW_ROWS = 5  # row numbers quoted in an error message
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Columns:
    """Which columns of a table hold the text, the optional second text of a pair, and the label.

    Multi-label tables hold label sets either in the label column (lists, or names joined by `delimiter`)
    or as one 0/1 column per label (`label_columns`; `label` then names them together, for messages).
    """

    text: str
    label: str
    pair: str | None = None
    label_columns: tuple[str, ...] = ()
    delimiter: str | None = None


# --------------------------------------------------------------------------------------------- reading


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a whole CSV / TSV / JSON lines / Parquet file, or a `save_to_disk` Hugging Face dataset folder.

    A Hugging Face DatasetDict comes back as one frame with a `split` column naming each row's split,
    so that `load_splits` treats it like any other table with given splits.
    """
    path = _existing(path)
    if path.is_dir():
        return _read_hf(path)
    fmt = _format(path)
    with _readable(path):
        _check_unique_columns(path, fmt)
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = _pandas_reader(path, fmt, chunk_size=None)
    if frame.columns.empty:
        raise _empty_file(path)
    return frame


def iter_table_chunks(path: str | os.PathLike, chunk_size: int = 10_000) -> Iterator[pd.DataFrame]:
    """Yield `path` as frames of at most `chunk_size` rows, without holding the whole file in memory."""
    path = _existing(path)
    if path.is_dir():
        frame = _read_hf(path)
        for start in range(0, len(frame), chunk_size):
            yield frame.iloc[start : start + chunk_size]
        return
    fmt = _format(path)
    with _readable(path):
        _check_unique_columns(path, fmt)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
                yield batch.to_pandas()
            return
        reader = _pandas_reader(path, fmt, chunk_size=chunk_size)
        if isinstance(reader, pd.DataFrame):  # a JSON array cannot be streamed
            reader = (reader.iloc[start : start + chunk_size] for start in range(0, len(reader), chunk_size))
        for chunk in reader:
            if chunk.columns.empty:
                raise _empty_file(path)
            yield chunk


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path} (looked in {path.absolute().parent}). Check the path.")
    return path


def _format(path: Path) -> str:
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise DataError(
            f"cannot read {path.name}: unknown file type {path.suffix or '(no suffix)'!r}; supported are "
            f"{', '.join(SUFFIXES)} and a Hugging Face dataset folder. Convert the file or rename it."
        ) from None


def _pandas_reader(path: Path, fmt: str, chunk_size: int | None):
    """A frame, or an iterator of frames when `chunk_size` is set; every cell of a CSV/TSV stays a string."""
    if path.stat().st_size == 0:
        raise _empty_file(path)
    if fmt in ("csv", "tsv"):
        # index_col=False: a row with one field too many must not silently become the row index.
        options = dict(dtype=str, keep_default_na=False, index_col=False, encoding="utf-8", chunksize=chunk_size)
        return pd.read_csv(path, sep="," if fmt == "csv" else "\t", **options)
    if _starts_with_bracket(path):
        return pd.read_json(path, orient="records", dtype=False, encoding="utf-8")
    return pd.read_json(path, lines=True, dtype=False, encoding="utf-8", chunksize=chunk_size)


def _check_unique_columns(path: Path, fmt: str) -> None:
    """Refuse a header that names a column twice: pandas would rename the second `text` to `text.1` (CSV)
    or keep only the last value (JSON), so one of the two columns would be read silently in place of the other.
    Empty names (trailing commas of a spreadsheet export) become distinct `Unnamed: N` columns and are fine."""
    names = _header(path, fmt)
    repeated = [name for name, n in Counter(names).items() if n > 1 and name.strip()]
    if repeated:
        name = repeated[0]
        where = ", ".join(str(i + 1) for i, other in enumerate(names) if other == name)
        where = f"keys {where} of the first record" if fmt == "jsonl" else f"columns {where} of the header"
        raise DataError(
            f"{path.name} has {names.count(name)} columns named {name!r} ({where}); tunetext cannot tell "
            "which one you mean. Rename or drop the duplicates."
        )


def _header(path: Path, fmt: str) -> list[str]:
    """The column names as written in the file; for JSON, the keys of the first record (writers repeat them)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    with open(path, encoding="utf-8-sig", newline="") as f:
        if fmt in ("csv", "tsv"):
            return next(csv.reader(f, delimiter="," if fmt == "csv" else "\t"), [])
        if _starts_with_bracket(path):
            text = f.read()  # pandas reads a JSON array whole too
            start = text.find("[") + 1
        else:
            text, start = next((line for line in f if line.strip()), ""), 0
    start = _SPACE.match(text, start).end()
    if not text.startswith("{", start):
        return []  # not a record: pandas reports that
    keys, _ = json.JSONDecoder(object_pairs_hook=lambda pairs: [key for key, _ in pairs]).raw_decode(text, start)
    return keys


def _starts_with_bracket(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4096).lstrip().startswith(b"[")


def is_hf_folder(path: Path) -> bool:
    """A folder written by `Dataset.save_to_disk` (state.json) or `DatasetDict.save_to_disk` (dataset_dict.json)."""
    return (path / "dataset_dict.json").exists() or (path / "state.json").exists()


def _read_hf(path: Path) -> pd.DataFrame:
    if not is_hf_folder(path):
        raise DataError(
            f"{path} is a folder but not a Hugging Face dataset saved with save_to_disk (no state.json or "
            "dataset_dict.json). Pass a file, or a folder with train.* / validation.* / test.* files to "
            "commands that take splits."
        )
    try:
        import datasets
    except ImportError:
        raise TunetextError(
            f"reading the Hugging Face dataset folder {path} needs the `datasets` package: "
            "pip install tunetext[datasets]"
        ) from None
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        return pd.concat([_hf_frame(ds).assign(split=name) for name, ds in loaded.items()], ignore_index=True)
    return _hf_frame(loaded)


def _hf_frame(ds) -> pd.DataFrame:
    """Turn ClassLabel integers back into their names: labels are strings everywhere in tunetext."""
    frame = ds.to_pandas()
    for name, feature in ds.features.items():
        if hasattr(feature, "int2str"):
            frame[name] = [feature.int2str(int(v)) if v is not None and v >= 0 else "" for v in frame[name]]
    return frame


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Turn the parsers' own exceptions into DataErrors that name the file and say what to do.

    pandas only warns when a row has more fields than the header (it shifts or drops cells), so that
    warning is an error here too.
    """
    fmt = SUFFIXES[path.suffix.lower()].upper()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except TunetextError:
        raise
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
    except pd.errors.EmptyDataError:
        raise _empty_file(path) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(
            f"cannot parse {path.name}: {str(exc).strip()}. Quote texts that contain the delimiter or line "
            f"breaks (any CSV writer does this), or check that the file really is {fmt}."
        ) from None
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError too
        raise DataError(
            f"cannot read {path.name} as {fmt}: {exc}. Check that the content matches the suffix."
        ) from None


def _decode_error(path: Path, exc: UnicodeDecodeError) -> DataError:
    """Locate the first undecodable byte in the file itself: the parser's offset is relative to its buffer."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line, where = 0, 1, exc.reason
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            pending = decoder.getstate()[0]  # the start of a multi-byte character cut by the previous block
            try:
                decoder.decode(block)
            except UnicodeDecodeError as bad:
                data = pending + block
                line += data[: bad.start].count(b"\n")
                where = f"byte 0x{data[bad.start]:02x} at offset {offset - len(pending) + bad.start} (line {line})"
                break
            offset += len(block)
            line += block.count(b"\n")
    return DataError(
        f"{path.name} is not valid UTF-8: {where}. It was probably saved as Latin-1 or Windows-1252; "
        f"re-save it as UTF-8 (e.g. `iconv -f cp1252 -t utf-8 {path.name} > fixed{path.suffix}`)."
    )


def _empty_file(path: Path) -> DataError:
    return DataError(f"{path.name} is empty: expected a header row (e.g. text,label) and at least one data row.")


# ------------------------------------------------------------------------------------------ columns


def find_text_column(columns: Sequence[str], requested: str | None = None, source: str = "the data") -> str:
    """The text column: `requested` if given (case-insensitive), else the first common text column name."""
    return _pick(columns, requested, TEXT_COLUMNS, "text", source)


def find_columns(
    columns: Sequence[str],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    text_pair_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    label_delimiter: str | None = None,
    source: str = "the data",
) -> Columns:
    """Resolve the text, pair and label columns, auto-detecting whichever was not given.

    `label_columns` (several 0/1 columns, one per label) replaces `label_column` for multi-label tables;
    `label_delimiter` is what joins several labels in one label cell (None: `|`, or `,`, when the data shows it).
    """
    columns = [str(c) for c in columns]
    if label_delimiter is not None and (not isinstance(label_delimiter, str) or not label_delimiter.strip()):
        raise DataError(f"label_delimiter={label_delimiter!r}: give the non-blank string that joins labels, e.g. '|'.")
    pair = None
    if text_column is None and text_pair_column is None:
        lower = {c.lower(): c for c in columns}
        found = next(((lower[a], lower[b]) for a, b in PAIR_COLUMNS if a in lower and b in lower), None)
        if found:
            text_column, pair = found
    text = _pick(columns, text_column, TEXT_COLUMNS, "text", source)
    if text_pair_column is not None:
        pair = _pick(columns, text_pair_column, (), "text pair", source, taken=(text,))
    if label_columns:
        if label_column is not None:
            raise DataError(f"label_column={label_column!r} and label_columns={list(label_columns)!r} both given: "
                            "pass label_column for one column of labels, or label_columns for one 0/1 column per label.")
        if len(label_columns) < 2 or len(set(label_columns)) < len(label_columns):
            raise DataError(f"label_columns={list(label_columns)!r}: give two or more different 0/1 columns, one per label.")
        picked = tuple(_pick(columns, name, (), "label set", source, taken=(text, pair)) for name in label_columns)
        return Columns(text=text, label=",".join(picked), pair=pair, label_columns=picked)
    label = _pick(columns, label_column, LABEL_COLUMNS, "label", source, taken=(text, pair))
    return Columns(text=text, label=label, pair=pair, delimiter=label_delimiter)


def _pick(
    columns: Sequence[str],
    requested: str | None,
    candidates: Iterable[str],
    kind: str,
    source: str,
    taken: Iterable[str | None] = (),
) -> str:
    free = [c for c in columns if c not in set(taken)]
    lower = {c.lower(): c for c in free}
    if requested is not None:
        if requested in free:
            return requested
        if requested.lower() in lower:
            return lower[requested.lower()]
        problem = f"column {requested!r} not found in {source}"
    else:
        found = next((lower[name] for name in candidates if name in lower), None)
        if found is not None:
            return found
        problem = f"no {kind} column found in {source} (looked for: {', '.join(candidates)})"
    guess = difflib.get_close_matches(requested or kind, free, n=1, cutoff=0.6) or (free if len(free) == 1 else [])
    fix = f"Pass {_PARAMETERS[kind]}={guess[0]!r}?" if guess else f"Pass {_PARAMETERS[kind]}=NAME."
    raise DataError(f"{problem}; columns are: {', '.join(columns) or '(none)'}. {fix}")


# --------------------------------------------------------------------------------------------- rows


def load_labeled(
    data: str | os.PathLike | pd.DataFrame,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    text_pair_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    label_delimiter: str | None = None,
    drop_empty: bool = False,
    source: str | None = None,
) -> LabeledTexts:
    """Load a table of texts and labels, checking every row, from a path or an in-memory frame.

    Two text columns (given, or a known pair such as sentence1/sentence2) make each text a tuple.
    `drop_empty` skips rows whose text or label is empty instead of refusing them.
    Multi-label data (each label a sorted tuple of names, possibly empty) comes from list cells (JSON
    lines, Parquet), from labels joined by `label_delimiter` in one cell ("|" is detected; "," too when every
    piece also occurs as a label on its own), or from `label_columns`, one 0/1 column per label.
    """
    frame, source = _frame_and_source(data, source)
    columns = find_columns(
        frame.columns,
        text_column=text_column,
        label_column=label_column,
        text_pair_column=text_pair_column,
        label_columns=label_columns,
        label_delimiter=label_delimiter,
        source=source,
    )
    return to_labeled(clean_rows(frame, columns, drop_empty=drop_empty, source=source), columns, source)


def _frame_and_source(data: str | os.PathLike | pd.DataFrame, source: str | None) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, source or "the data"
    return read_table(data), source or Path(data).name


def clean_rows(frame: pd.DataFrame, columns: Columns, *, drop_empty: bool, source: str) -> pd.DataFrame:
    """Return `frame` with texts and labels as strings; empty ones are dropped or reported with row numbers."""
    if frame.empty:
        raise DataError(f"{source} has a header but no data rows. Add labeled examples.")
    texts = [c for c in (columns.text, columns.pair) if c]
    for column in texts:
        refuse_nested_cells(frame[column], column, source)
    sets = label_sets(frame, columns, source)
    if sets is None:
        refuse_nested_cells(frame[columns.label], columns.label, source, label=True)
    frame = frame.assign(**{c: [_as_str(v) for v in frame[c]] for c in texts + [columns.label] * (sets is None)})
    checks = [(c, "empty text", "Fill them in") for c in texts]
    if sets is None:
        checks.append((columns.label, "no label", "Label them"))
    else:  # an empty label set is a label: "none of these"
        frame = frame.assign(**{columns.label: sets})
    keep = np.ones(len(frame), dtype=bool)
    for column, what, fix in checks:
        empty = np.array([not v.strip() for v in frame[column]], dtype=bool)
        if empty.any() and not drop_empty:
            n, rows = int(empty.sum()), ", ".join(str(i + 1) for i in empty.nonzero()[0][:_SHOW_ROWS])
            raise DataError(
                f"{what} in {_rows(n)} of column {column!r} in {source}: data row{'s' * (n > 1)} "
                f"{rows}{' ...' if n > _SHOW_ROWS else ''} (row 1 is the first row after the header). "
                f"{fix}, or pass drop_empty=True to skip those rows."
            )
        keep &= ~empty
    if not keep.any():
        raise DataError(f"every row of {source} has an empty text or label; nothing is left after drop_empty=True.")
    return frame[keep]


def refuse_nested_cells(values: Iterable, column: str, source: str, *, label: bool = False) -> None:
    """Refuse list and object cells (Parquet/JSON lists, structs) in text columns: str() of one is numpy's
    printed form, cut with '...' after six items; and object cells in a label column (lists there are label sets).

    Joining is left to the user, who knows the separator (spaces between words, none between
    characters, newlines between sentences) and whether the items are words at all (not token IDs).
    """
    nested = [(i, v) for i, v in enumerate(values) if isinstance(v, (list, tuple, dict, np.ndarray))]
    if not nested:
        return
    first_row, first = nested[0]
    rows = ", ".join(str(i + 1) for i, _ in nested[:_SHOW_ROWS]) + (" ..." if len(nested) > _SHOW_ROWS else "")
    cells = f"frame[{column!r}] = frame[{column!r}]"
    if isinstance(first, dict):
        what, kind = "objects", f"an object with keys {', '.join(map(str, first))}"
        fix = f"Put the {'label' if label else 'text'} itself in the column, e.g. {cells}.str.get('KEY') in pandas."
    else:
        what, kind = "lists", f"a list of {len(first)} items"
        fix = (f"Join the items into one text first, e.g. {cells}.str.join(' ') in pandas for a list of words; "
               "tunetext does not guess the separator.")
    raise DataError(
        f"column {column!r} of {source} holds {what} instead of {'labels' if label else 'texts'} in "
        f"{_rows(len(nested))}: data row{'s' * (len(nested) > 1)} {rows} (row 1 is the first row after the header; "
        f"row {first_row + 1} holds {kind}). {fix}"
    )


def label_sets(frame: pd.DataFrame, columns: Columns, source: str) -> list[tuple[str, ...]] | None:
    """The label set of every row, or None for a single-label column (see `load_labeled` for the forms)."""
    if columns.label_columns:
        return _flag_sets(frame, columns.label_columns, source)
    values = list(frame[columns.label])
    if any(isinstance(v, dict) for v in values):  # objects, not label sets: refused with their row numbers
        refuse_nested_cells([v if isinstance(v, dict) else None for v in values], columns.label, source, label=True)
    has_lists = any(isinstance(v, (list, tuple, np.ndarray)) for v in values)
    delimiter = columns.delimiter or _detect_delimiter([_as_str(v) for v in values if isinstance(v, str)])
    if not has_lists and delimiter is None:
        return None
    missing = [i for i, v in enumerate(values) if v is None or (isinstance(v, float) and math.isnan(v))]
    if missing and has_lists:
        raise DataError(f"no label in {_rows(len(missing))} of column {columns.label!r} in {source}: data row "
                        f"{missing[0] + 1} (row 1 is the first row after the header). Give [] for a text with no label.")
    sets = []
    for i, value in enumerate(values):
        names = list(value) if isinstance(value, (list, tuple, np.ndarray)) else (
            _as_str(value).split(delimiter) if delimiter else [_as_str(value)])
        names = [_as_str(name).strip() for name in names]
        if "" in names and any(names):
            raise DataError(f"row {i + 1} of column {columns.label!r} in {source} holds {value!r}: an empty or "
                            f"nested label in a label set. Give label names only, e.g. ['a', 'b'] or 'a{delimiter or '|'}b'.")
        sets.append(label_set(name for name in names if name))
    return sets


def _detect_delimiter(values: list[str]) -> str | None:
    """"|" when some label holds it; "," when some label holds one and every piece is also a label on its own
    ("billing,refund" next to "billing" and "refund"), so a label such as "Smith, John" is never split."""
    if any(LABEL_DELIMITER in v for v in values):
        return LABEL_DELIMITER
    joined = [v for v in values if "," in v]
    if not joined:
        return None
    whole = {v.strip() for v in values}
    pieces = {piece.strip() for v in joined for piece in v.split(",")}
    return "," if pieces <= whole else None


def _flag_sets(frame: pd.DataFrame, label_columns: tuple[str, ...], source: str) -> list[tuple[str, ...]]:
    """One 0/1 column per label -> the set of labels whose column is 1 (1/0, true/false, yes/no)."""
    flags = {}
    for name in label_columns:
        cells = [_as_str(v).strip().lower() for v in frame[name]]
        bad = [i for i, v in enumerate(cells) if v not in _FLAGS]
        if bad:
            raise DataError(
                f"column {name!r} of {source} (one of label_columns) holds values other than 0 and 1 in {_rows(len(bad))}: "
                f"data row {bad[0] + 1} holds {_as_str(frame[name].iloc[bad[0]])!r} (row 1 is the first row after the "
                "header). Label columns hold 1 where the text has that label, 0 where not."
            )
        flags[name] = [_FLAGS[v] for v in cells]
    return [tuple(sorted(name for name in label_columns if flags[name][i])) for i in range(len(frame))]


def to_labeled(frame: pd.DataFrame, columns: Columns, source: str) -> LabeledTexts:
    """Build LabeledTexts from a frame already passed through `clean_rows`."""
    texts = frame[columns.text].tolist()
    if columns.pair:
        texts = list(zip(texts, frame[columns.pair].tolist(), strict=True))
    return LabeledTexts(texts, frame[columns.label].tolist(), source)


def _rows(n: int) -> str:
    return f"{n} row{'s' * (n != 1)}"


def _as_str(value) -> str:
    """Cell -> str: missing values become "", integral floats lose their ".0" (pandas turns int+NaN into float)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_known_labels(labels: Iterable[str], classes: Iterable[str], source: str = "the data") -> None:
    """Refuse labels the model never saw in training: no score for them exists, so metrics would be wrong."""
    known = set(classes)
    labels = list(labels)
    if is_multilabel(labels):  # each name of each set must be known
        labels = [name for names in labels for name in names]
    unseen = Counter(label for label in labels if label not in known)
    if unseen:
        listed = ", ".join(f"{label!r} ({_rows(n)})" for label, n in unseen.most_common(10))
        more = f" and {len(unseen) - 10} more" if len(unseen) > 10 else ""
        raise DataError(
            f"{source} has labels never seen in training: {listed}{more}. The model knows: "
            f"{', '.join(sorted(known))}. Drop or relabel those rows, or train on data that includes them."
        )
