"""Reading tables: every format round-trips, columns are found, and every bad input gets an actionable error."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from tunetext.data import check_known_labels, find_text_column, iter_table_chunks, load_labeled, read_table
from tunetext.errors import DataError, TunetextError

FRAME = pd.DataFrame({"text": ["good film", "bad plot", "fine acting", "dull"], "label": ["pos", "neg", "pos", "neg"]})


def write(frame: pd.DataFrame, path):
    """Write `frame` in the format its suffix names."""
    suffix = path.suffix
    if suffix in (".csv", ".tsv"):
        frame.to_csv(path, sep="," if suffix == ".csv" else "\t", index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


# ------------------------------------------------------------------------------------- formats


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".parquet"])
def test_each_format_round_trips(tmp_path, suffix):
    path = write(FRAME, tmp_path / f"reviews{suffix}")
    pd.testing.assert_frame_equal(read_table(path).astype(object), FRAME.astype(object))
    data = load_labeled(path)
    assert data.texts == FRAME.text.tolist() and data.labels == FRAME.label.tolist()
    assert data.source == path.name


def test_json_array_of_records(tmp_path):
    path = tmp_path / "reviews.json"
    FRAME.to_json(path, orient="records")
    assert load_labeled(path).labels == FRAME.label.tolist()


def test_csv_cells_stay_strings(tmp_path):
    # "NA", "null" and "007" are texts and labels, not missing values or numbers.
    path = tmp_path / "codes.csv"
    path.write_text("text,label\nNA,007\nnull,1\n", encoding="utf-8")
    data = load_labeled(path)
    assert data.texts == ["NA", "null"] and data.labels == ["007", "1"]


def test_numeric_labels_become_clean_strings(tmp_path):
    # pandas stores an int column with a missing value as float; the label must still read "1", not "1.0".
    path = write(pd.DataFrame({"text": ["a", "b", "c"], "label": [1.0, 0.0, None]}), tmp_path / "n.parquet")
    assert load_labeled(path, drop_empty=True).labels == ["1", "0"]


def test_hf_dataset_dict_becomes_one_table_with_split_column_and_label_names(tmp_path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])})
    data = {"text": ["good", "bad"], "label": [1, 0]}
    dd = datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict(data, features), "test": datasets.Dataset.from_dict(data, features)}
    )
    dd.save_to_disk(str(tmp_path / "hf"))
    frame = read_table(tmp_path / "hf")
    assert frame.split.tolist() == ["train", "train", "test", "test"]
    assert frame.label.tolist() == ["pos", "neg", "pos", "neg"]
    dd["train"].save_to_disk(str(tmp_path / "single"))
    assert load_labeled(tmp_path / "single").labels == ["pos", "neg"]


def test_missing_datasets_package_names_the_extra(tmp_path, monkeypatch):
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "dataset_dict.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(TunetextError, match=r"pip install tunetext\[datasets\]"):
        read_table(tmp_path / "hf")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_chunks_stream_the_whole_table(tmp_path, suffix):
    frame = pd.DataFrame({"text": [f"text {i}" for i in range(25)], "label": ["a", "b"] * 12 + ["a"]})
    chunks = list(iter_table_chunks(write(frame, tmp_path / f"big{suffix}"), chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert pd.concat(chunks).text.tolist() == frame.text.tolist()


def test_very_long_texts_are_read_whole(tmp_path):
    long = "word " * 400_000
    path = write(pd.DataFrame({"text": [long, "short"], "label": ["a", "b"]}), tmp_path / "long.csv")
    assert load_labeled(path).texts[0] == long


# ------------------------------------------------------------------------------------- columns


@pytest.mark.parametrize(
    ("text", "label"),
    [("sentence", "label"), ("Content", "Author"), ("review", "sentiment"), ("tweet", "class"), ("Text", "Category")],
)
def test_columns_are_detected_by_common_names(text, label):
    frame = pd.DataFrame({"id": ["1", "2"], text: ["hello", "bye"], label: ["x", "y"]})
    assert load_labeled(frame).texts == ["hello", "bye"]


def test_given_columns_override_detection_and_ignore_case():
    frame = pd.DataFrame({"text": ["t1", "t2"], "title": ["a", "b"], "label": ["x", "y"], "stars": ["1", "5"]})
    data = load_labeled(frame, text_column="Title", label_column="stars")
    assert data.texts == ["a", "b"] and data.labels == ["1", "5"]


def test_find_text_column_for_prediction_files():
    assert find_text_column(["id", "Review"]) == "Review"
    assert find_text_column(["id", "body", "x"], requested="x") == "x"


def test_known_column_pairs_become_tuples():
    frame = pd.DataFrame({"premise": ["p1", "p2"], "hypothesis": ["h1", "h2"], "label": ["entail", "neutral"]})
    data = load_labeled(frame)
    assert data.is_pair and data.texts == [("p1", "h1"), ("p2", "h2")]


def test_explicit_text_pair_column():
    frame = pd.DataFrame({"question": ["q1", "q2"], "answer": ["a1", "a2"], "label": ["yes", "no"]})
    assert load_labeled(frame, text_pair_column="answer").texts == [("q1", "a1"), ("q2", "a2")]


def test_missing_label_column_lists_columns_and_suggests_the_parameter(tmp_path):
    path = write(pd.DataFrame({"text": ["a"], "stars": ["5"]}), tmp_path / "reviews.csv")
    message = r"column 'label' not found in reviews.csv; columns are: text, stars\. Pass label_column='stars'\?"
    with pytest.raises(DataError, match=message):
        load_labeled(path, label_column="label")
    with pytest.raises(DataError, match=r"no label column found in reviews.csv .*Pass label_column='stars'\?"):
        load_labeled(path)


def test_missing_text_column_suggests_a_close_name(tmp_path):
    path = write(pd.DataFrame({"texts": ["a"], "body_html": ["<p>"], "label": ["x"]}), tmp_path / "r.csv")
    with pytest.raises(DataError, match=r"column 'txt' not found in r.csv; columns are: .* Pass text_column='texts'\?"):
        load_labeled(path, text_column="txt")
    with pytest.raises(DataError, match=r"column 'other' not found .* Pass text_pair_column=NAME\."):
        load_labeled(path, text_column="texts", text_pair_column="other")


# ------------------------------------------------------------------------------------ bad rows


def test_empty_texts_are_counted_with_row_numbers(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('text,label\ngood,pos\n,neg\n"  ",pos\nok,neg\n', encoding="utf-8")
    with pytest.raises(
        DataError, match=r"empty text in 2 rows of column 'text' in reviews.csv: data rows 2, 3 .*drop_empty=True"
    ):
        load_labeled(path)
    assert load_labeled(path, drop_empty=True).texts == ["good", "ok"]


def test_nan_texts_in_parquet_are_empty(tmp_path):
    path = write(pd.DataFrame({"text": ["a", None, "c"], "label": ["x", "y", "x"]}), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"empty text in 1 row .*data row 2 "):
        load_labeled(path)


def test_empty_second_text_of_a_pair_is_reported():
    frame = pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["c", ""], "label": ["x", "y"]})
    with pytest.raises(DataError, match=r"empty text in 1 row of column 'sentence2'"):
        load_labeled(frame)


def test_missing_labels_are_reported(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\na,x\nb,\nc,y\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"no label in 1 row of column 'label' in r.csv: data row 2 .*Label them"):
        load_labeled(path)
    assert load_labeled(path, drop_empty=True).labels == ["x", "y"]


def test_nothing_left_after_dropping_empty_rows():
    with pytest.raises(DataError, match="nothing is left after drop_empty=True"):
        load_labeled(pd.DataFrame({"text": ["", " "], "label": ["x", "y"]}), drop_empty=True)


# ---------------------------------------------------------------------------------- bad files


def test_undecodable_bytes_name_the_offset_and_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\nok,a\ncaf\xe9,b\n".encode("latin-1"))
    with pytest.raises(
        DataError, match=r"latin.csv is not valid UTF-8: byte 0xe9 at offset 19 \(line 3\).*re-save it as UTF-8"
    ):
        load_labeled(path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty.csv is empty: expected a header row"):
        load_labeled(tmp_path / "empty.csv")


def test_header_without_rows(tmp_path):
    (tmp_path / "h.csv").write_text("text,label\n")
    with pytest.raises(DataError, match="h.csv has a header but no data rows"):
        load_labeled(tmp_path / "h.csv")


def test_unknown_file_type_lists_supported_suffixes(tmp_path):
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(
        DataError, match=r"unknown file type '.xlsx'; supported are .csv, .tsv, .jsonl, .json, .parquet"
    ):
        read_table(tmp_path / "data.xlsx")


def test_file_not_found(tmp_path):
    with pytest.raises(DataError, match=r"file not found: .*nope.csv"):
        load_labeled(tmp_path / "nope.csv")


def test_folder_that_is_not_a_dataset(tmp_path):
    with pytest.raises(DataError, match="not a Hugging Face dataset saved with save_to_disk"):
        read_table(tmp_path)


def test_malformed_csv_says_to_quote(tmp_path):
    (tmp_path / "bad.csv").write_text("text,label\nok,y\nhello, world,x\n")
    with pytest.raises(DataError, match=r"cannot parse bad.csv: .*Expected 2 fields in line 3, saw 3.*Quote texts"):
        read_table(tmp_path / "bad.csv")


@pytest.mark.parametrize(("name", "content"), [("bad.jsonl", b'{"text": "a", "label": \n'), ("bad.parquet", b"PAR1")])
def test_content_that_does_not_match_the_suffix(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match=rf"cannot read {name} as {name.split('.')[1].upper()}: .*matches the suffix"):
        read_table(tmp_path / name)


# ---------------------------------------------------------- list cells and duplicate columns (issue 12)


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_list_text_column_is_refused_not_printed(tmp_path, suffix):
    # str() of a 1,500-token array is numpy's printed form, cut to 41 characters with "...".
    frame = pd.DataFrame({"text": [["tok"] * 1500, ["fine"], ["dull", "plot"]], "label": ["pos", "pos", "neg"]})
    path = write(frame, tmp_path / f"tokens{suffix}")
    with pytest.raises(
        DataError,
        match=rf"column 'text' of tokens{suffix} holds lists instead of texts in 3 rows: data rows 1, 2, 3 \(row 1 "
        r"is the first row after the header; row 1 holds a list of 1500 items\)\. Join the items into one text "
        r"first, e\.g\. frame\['text'\] = frame\['text'\]\.str\.join\(' '\)",
    ):
        load_labeled(path)
    joined = frame.assign(text=frame.text.str.join(" "))  # the suggested fix works
    assert load_labeled(write(joined, tmp_path / f"joined{suffix}")).texts[2] == "dull plot"


def test_an_object_cell_is_refused_too(tmp_path):
    path = write(pd.DataFrame({"text": ["fine", {"body": "good"}], "label": ["a", "b"]}), tmp_path / "o.jsonl")
    with pytest.raises(DataError, match=r"holds objects instead of texts in 1 row: data row 2 .*keys body"):
        load_labeled(path)


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("d.csv", "text,label,text\na,x,b\n", "columns 1, 3 of the header"),
        ("d.tsv", "label\ttext\ttext\nx\ta\tb\n", "columns 2, 3 of the header"),
        ("d.jsonl", '{"text": "a", "label": "x", "text": "b"}\n', "keys 1, 3 of the first record"),
        ("d.json", ' [{"text": "a", "label": "x", "text": "b"}]', "keys 1, 3 of the first record"),
    ],
)
def test_duplicate_column_names_are_refused_not_renamed(tmp_path, name, content, where):
    # pandas would read the second "text" of a CSV as "text.1", and keep only the last one of a JSON record.
    (tmp_path / name).write_text(content, encoding="utf-8")
    message = rf"{name} has 2 columns named 'text' \({where}\); tunetext cannot tell which one you mean"
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / name)
    with pytest.raises(DataError, match=message):
        next(iter_table_chunks(tmp_path / name))


def test_empty_header_names_are_not_duplicates(tmp_path):
    (tmp_path / "export.csv").write_text("text,label,,\ngood,pos,,\nbad,neg,,\n", encoding="utf-8")
    assert load_labeled(tmp_path / "export.csv").labels == ["pos", "neg"]


def test_duplicate_parquet_columns_are_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table([["a"], ["x"], ["b"]], names=["text", "label", "text"]), tmp_path / "d.parquet")
    with pytest.raises(DataError, match=r"d.parquet has 2 columns named 'text' \(columns 1, 3 of the header\)"):
        load_labeled(tmp_path / "d.parquet")


# ------------------------------------------------------------------------------- known labels


def test_unseen_labels_are_listed_with_counts():
    with pytest.raises(
        DataError, match=r"test.csv has labels never seen in training: 'maybe' \(2 rows\), 'x' \(1 row\)"
    ):
        check_known_labels(["yes", "maybe", "x", "maybe"], ["no", "yes"], "test.csv")
    check_known_labels(["yes", "no"], ["no", "yes"])


def test_a_first_row_with_an_extra_field_is_not_shifted_into_an_index(tmp_path):
    # pandas would silently make "hello" the row index and shift " world" into the text column.
    (tmp_path / "bad.csv").write_text("text,label\nhello, world,x\nok,y\n")
    with pytest.raises(DataError, match=r"cannot parse bad.csv: .*Quote texts"):
        read_table(tmp_path / "bad.csv")


def test_streaming_reports_bad_bytes_too(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"text,label\n" + b"fine,a\n" * 30 + b"caf\xe9,b\n")
    with pytest.raises(DataError, match=r"big.csv is not valid UTF-8: byte 0xe9 .*\(line 32\)"):
        list(iter_table_chunks(path, chunk_size=10))
