"""Splits: stratified and seeded when made here, respected when the data brings them."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from tunetext.data import LabeledTexts, catalog, load_splits, stratified_holdout
from tunetext.errors import ConfigError, DataError


def table(n_per_class: dict[str, int]) -> pd.DataFrame:
    labels = [label for label, n in n_per_class.items() for _ in range(n)]
    return pd.DataFrame({"text": [f"text {i}" for i in range(len(labels))], "label": labels})


def test_splits_are_stratified_and_cover_every_row(tmp_path):
    table({"a": 400, "b": 100}).to_csv(tmp_path / "d.csv", index=False)
    splits = load_splits(tmp_path / "d.csv", validation_size=0.1, test_size=0.2)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (350, 50, 100)
    assert Counter(splits.test.labels) == {"a": 80, "b": 20}
    assert Counter(splits.validation.labels) == {"a": 40, "b": 10}
    every = splits.train.texts + splits.validation.texts + splits.test.texts
    assert sorted(every) == sorted(f"text {i}" for i in range(500))
    assert splits.name == "d" and "seed 0" in splits.info["split"]


def test_splits_depend_only_on_the_seed(tmp_path):
    table({"a": 50, "b": 50}).to_csv(tmp_path / "d.csv", index=False)
    first, again = load_splits(tmp_path / "d.csv", seed=1), load_splits(tmp_path / "d.csv", seed=1)
    other = load_splits(tmp_path / "d.csv", seed=2)
    assert first.test.texts == again.test.texts
    assert first.test.texts != other.test.texts


def test_no_validation_when_its_size_is_zero(tmp_path):
    table({"a": 10, "b": 10}).to_csv(tmp_path / "d.csv", index=False)
    assert load_splits(tmp_path / "d.csv", validation_size=0).validation is None


def test_a_class_too_small_to_stratify_stays_in_train():
    data = LabeledTexts([str(i) for i in range(21)], ["a"] * 10 + ["b"] * 10 + ["rare"])
    train, held = stratified_holdout(data, 0.2, seed=0)
    assert "rare" in train.labels and Counter(held.labels) == {"a": 2, "b": 2}


def test_holdout_falls_back_to_a_shuffle_when_too_small_for_every_class():
    data = LabeledTexts([str(i) for i in range(12)], ["a", "b", "c", "d", "e", "f"] * 2)
    train, held = stratified_holdout(data, 2, seed=0)
    assert len(held) == 2 and len(train) == 10


def test_impossible_holdout_explains_why_and_when_given_splits_work():
    with pytest.raises(
        DataError,
        match=r"cannot hold out 0.1 of the 2 examples of tiny: only 0 of them are in classes with more than one "
        r"example .*merge or drop the classes with a single example.*works only if every test label also has "
        r"training examples",
    ):
        stratified_holdout(LabeledTexts(["x", "y"], ["a", "b"], "tiny"), 0.1)


@pytest.mark.parametrize(("validation_size", "test_size"), [(0.1, 0), (-0.1, 0.1), (0.5, 0.5), (0.1, 1.2)])
def test_bad_sizes(tmp_path, validation_size, test_size):
    with pytest.raises(ConfigError, match=r"expected 0 <= validation_size, 0 < test_size and a sum below 1"):
        load_splits(tmp_path, validation_size=validation_size, test_size=test_size)


def test_split_column_is_respected_and_validation_carved_from_train(tmp_path):
    frame = table({"a": 20, "b": 20}).assign(split=(["train"] * 15 + ["Test"] * 5) * 2)
    frame.to_csv(tmp_path / "d.csv", index=False)
    splits = load_splits(tmp_path / "d.csv", validation_size=0.2)
    assert len(splits.test) == 10 and set(splits.test.texts) == set(frame.text[frame.split == "Test"])
    assert (len(splits.train), len(splits.validation)) == (24, 6)
    assert splits.info["split"] == "validation carved from train (stratified, seed 0)"


def test_dev_is_an_alias_of_validation(tmp_path):
    table({"a": 3, "b": 3}).assign(split=["train", "dev", "test"] * 2).to_csv(tmp_path / "d.csv", index=False)
    splits = load_splits(tmp_path / "d.csv")
    assert len(splits.validation) == 2 and splits.info["split"] == "given by the data"


def test_unknown_split_names(tmp_path):
    table({"a": 2, "b": 2}).assign(split=["train", "train", "holdout", "train"]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"column 'split' of d.csv has unknown split names: 'holdout' \(1 row\)"):
        load_splits(tmp_path / "d.csv")


def test_split_column_without_train(tmp_path):
    table({"a": 2, "b": 2}).assign(split="test").to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match="d.csv has test data but no train split"):
        load_splits(tmp_path / "d.csv")


def test_folder_of_split_files(tmp_path):
    table({"a": 10, "b": 10}).to_csv(tmp_path / "train.csv", index=False)
    table({"a": 3, "b": 3}).to_json(tmp_path / "test.jsonl", orient="records", lines=True)
    (tmp_path / "notes.txt").write_text("ignored")
    splits = load_splits(tmp_path)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (18, 2, 6)
    assert splits.test.source == "test.jsonl" and splits.name == tmp_path.name


def test_folder_without_train_file(tmp_path):
    (tmp_path / "data.csv").write_text("text,label\na,b\n")
    with pytest.raises(DataError, match=r"folder without a train file; it holds: data.csv\. Put train.csv"):
        load_splits(tmp_path)


def test_hf_dataset_dict_splits(tmp_path):
    datasets = pytest.importorskip("datasets")
    part = datasets.Dataset.from_pandas(table({"a": 4, "b": 4}))
    datasets.DatasetDict({"train": part, "validation": part, "test": part}).save_to_disk(str(tmp_path / "hf"))
    splits = load_splits(tmp_path / "hf")
    assert len(splits.train) == len(splits.validation) == len(splits.test) == 8


def test_single_class_cannot_train(tmp_path):
    table({"pos": 20}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(
        DataError, match=r"training data of d.csv has a single class \('pos', 20 rows\).*\(label_column=NAME\)"
    ):
        load_splits(tmp_path / "d.csv")


def test_an_id_like_label_column_is_refused_before_training(tmp_path):
    # Issue 12 item 11: a class per row (here 4,842 of 5,000) trained into a 1.17 GB model.
    labels = [f"user{i}" for i in range(4842)] + ["common"] * 158
    pd.DataFrame({"text": [f"text {i}" for i in range(5000)], "label": labels}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(
        DataError,
        match=r"column 'label' of d.csv has 4,843 different labels in 5,000 training rows \(e.g. 'user0', .*looks "
        r"like an ID or free-text column.*Pass label_column=NAME naming",
    ):
        load_splits(tmp_path / "d.csv")


def test_the_refusal_names_the_detected_label_column_of_a_split_folder(tmp_path):
    table({f"id{i}": 1 for i in range(30)}).rename(columns={"label": "category"}).to_csv(tmp_path / "train.csv", index=False)
    table({"id0": 1}).rename(columns={"label": "category"}).to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(DataError, match=r"column 'category' of train.csv has 30 different labels in 30 training rows"):
        load_splits(tmp_path)


def test_many_one_example_classes_are_warned_about(tmp_path):
    table({"a": 100, "b": 100} | {f"rare{i}": 1 for i in range(11)}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.warns(UserWarning, match=r"11 of the 13 classes in column 'label' of d.csv have a single training "
                      r"example \(e.g. 'rare0', .*never tested"):
        splits = load_splits(tmp_path / "d.csv")
    assert all(f"rare{i}" in splits.train.labels for i in range(11))


def test_test_labels_unseen_in_train(tmp_path):
    table({"a": 5, "b": 5}).to_csv(tmp_path / "train.csv", index=False)
    table({"a": 2, "c": 1}).to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(DataError, match=r"test.csv has labels never seen in training: 'c' \(1 row\)"):
        load_splits(tmp_path)


def test_a_catalog_name_works_where_a_path_does(monkeypatch):
    monkeypatch.setattr(catalog, "load_catalog", lambda name: f"splits of {name}")
    assert load_splits("trec6") == "splits of trec6"
    with pytest.raises(DataError, match=r"trec7 is not a file or folder .*nor a catalog dataset \(trec6, trec50"):
        load_splits("trec7")
