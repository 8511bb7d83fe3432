"""compare's report folder: finished cells are reused only for the same data, and a user's files are never touched."""

import json

import pytest

from tunetext.compare import Budget, run_comparison
from tunetext.compare.plan import plan_cells
from tunetext.data.dataset import DatasetSplits, LabeledTexts
from tunetext.errors import ConfigError

ONE_CELL = Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1)


@pytest.fixture(scope="module")
def trec6(real_slice):
    return DatasetSplits("trec6-slice", real_slice("trec6", "train", 120), real_slice("trec6", "test", 40))


def test_a_report_folder_of_other_data_is_refused_and_its_numbers_are_never_reported(trec6, real_slice, tmp_path):
    run_comparison(trec6, out=tmp_path, methods=["tfidf-nb"], budget=ONE_CELL)
    before = (tmp_path / "results.json").read_text()
    spam = DatasetSplits("sms-slice", real_slice("sms-spam", "train", 120), real_slice("sms-spam", "test", 40))
    with pytest.raises(ConfigError, match=r"holds a comparison on other data: 'trec6-slice' \(sha256 \w{12}…\), "
                                          r"not 'sms-slice'.*Pass another out folder"):
        run_comparison(spam, out=tmp_path, methods=["tfidf-nb"], budget=ONE_CELL)

    # The same name with one label edited is other data too: the hash, not the name, decides.
    labels = list(trec6.train.labels)
    labels[0] = next(c for c in trec6.classes if c != labels[0])
    edited = DatasetSplits("trec6-slice", LabeledTexts(trec6.train.texts, labels), trec6.test)
    with pytest.raises(ConfigError, match="holds a comparison on other data"):
        run_comparison(edited, out=tmp_path, methods=["tfidf-nb"], budget=ONE_CELL)
    assert (tmp_path / "results.json").read_text() == before

    # Into a new folder, the other data is compared afresh: nothing of trec6 is reused.
    seen = []
    summary = run_comparison(spam, out=tmp_path / "spam", methods=["tfidf-nb"], budget=ONE_CELL,
                             on_cell=lambda cell, done, total: seen.append(done))
    assert seen == [False] and summary["classes"] == spam.classes != trec6.classes


def test_the_same_data_resumes_whatever_it_is_called(trec6, real_slice, tmp_path):
    run_comparison(trec6, out=tmp_path, methods=["tfidf-nb", "tfidf-svm"], budget=ONE_CELL)
    reloaded = DatasetSplits("trec6-again", real_slice("trec6", "train", 120), real_slice("trec6", "test", 40))
    seen = []
    run_comparison(reloaded, out=tmp_path, methods=["tfidf-nb", "tfidf-svm"], budget=ONE_CELL,
                   on_cell=lambda cell, done, total: seen.append(done))
    assert seen == [True, True]
    assert json.loads((tmp_path / "compare.json").read_text())["data_sha256"] == trec6.fingerprint()


def test_a_folder_with_a_users_files_is_refused_and_they_survive(trec6, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(ConfigError, match=r"is not empty \(notes.txt\) and is not a tunetext compare report "
                                          r"\(no compare.json\).*Pass a new or empty folder"):
        run_comparison(trec6, out=tmp_path, methods=["tfidf-nb"], budget=ONE_CELL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"] and notes.read_text() == "mine"

    victim = tmp_path / "victim.csv"
    victim.write_text("text,label\n")
    with pytest.raises(ConfigError, match="victim.csv' is a file; compare writes a report folder there"):
        run_comparison(trec6, out=victim, methods=["tfidf-nb"], budget=ONE_CELL)
    assert victim.read_text() == "text,label\n"


def test_a_foreign_compare_json_is_not_taken_for_a_manifest(trec6, tmp_path):
    (tmp_path / "compare.json").write_text('{"mine": true}')
    with pytest.raises(ConfigError, match="is not a tunetext compare manifest"):
        run_comparison(trec6, out=tmp_path, methods=["tfidf-nb"], budget=ONE_CELL)
    assert (tmp_path / "compare.json").read_text() == '{"mine": true}'


def test_fingerprints_are_stable_and_see_every_text_label_and_split():
    train = LabeledTexts(["a b", "c"], ["x", "y"])
    test = LabeledTexts([("q", "a"), ("q", "b")], ["x", "y"])
    # Pinned (sha256 of '["a b", "x"]\n["c", "y"]\n'): the same data hashes the same on every run and machine.
    assert train.fingerprint() == "8fec848b4237177c1128a447579b01b0c35bca9f038a11b9c7e18d4d75f1a4f0"
    assert LabeledTexts(["a b", "c"], ["x", "y"], source="elsewhere.csv").fingerprint() == train.fingerprint()
    changed = [LabeledTexts(["a b", "c"], ["x", "x"]), LabeledTexts(["a", "b c"], ["x", "y"]),
               LabeledTexts(["c", "a b"], ["y", "x"]), LabeledTexts([("a b",), ("c",)], ["x", "y"])]
    assert len({train.fingerprint()} | {other.fingerprint() for other in changed}) == 5
    splits = DatasetSplits("d", train, test)
    assert splits.fingerprint() == DatasetSplits("other name", train, test).fingerprint()
    swapped = [DatasetSplits("d", test, train), DatasetSplits("d", train, test, validation=LabeledTexts([], []))]
    assert splits.fingerprint() not in {s.fingerprint() for s in swapped}


def test_cell_keys_differ_with_the_data_and_every_hyperparameter_but_not_with_a_default_spelled_out(real_slice):
    train = real_slice("trec6", "train", 120)

    def keys(data, params=None):
        return [cell.key for cell in plan_cells(["tfidf-svm"], ONE_CELL, train, params, data=data)]

    assert keys("a") == keys("a") and keys("a") != keys("b")
    assert keys("a", {"tfidf-svm": {"C": 0.5}}) != keys("a")
    assert keys("a", {"tfidf-svm": {"C": 1.0, "ngram_range": [1, 2]}}) == keys("a")  # the defaults, as JSON gives them
