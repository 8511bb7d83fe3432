"""Multi-label classification: label sets loaded from every form, methods in one-vs-rest / sigmoid mode,
per-label thresholds tuned on validation only, metrics equal to scikit-learn's, predictions written as sets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, precision_score, recall_score

from tunetext.data import load_labeled, load_splits
from tunetext.data.dataset import LabeledTexts, indicator
from tunetext.errors import ConfigError, DataError
from tunetext.evaluation import evaluate
from tunetext.methods import Method, make_method
from tunetext.methods.thresholds import decide, to_label_sets, tune_thresholds

from conftest import DATA_DIR


@pytest.fixture(scope="module")
def corn_grain() -> tuple[LabeledTexts, LabeledTexts, LabeledTexts]:
    """Real Reuters Corn/Grain slices (tests/data), labels joined by "|": train, validation (last 100 of train), test."""
    train = load_labeled(DATA_DIR / "reuters-corn-grain-train.csv", label_delimiter="|")
    test = load_labeled(DATA_DIR / "reuters-corn-grain-test.csv", label_delimiter="|")
    return train.subset(range(300)), train.subset(range(300, 400)), test


# ------------------------------------------------------------------------------------------ loading


def test_delimited_list_and_flag_columns_give_the_same_label_sets(tmp_path):
    expected = [("x", "y"), ("x",), (), ("y",)]
    piped = pd.DataFrame({"text": list("abcd"), "label": ["y|x", "x", "", "y"]})
    assert load_labeled(piped).labels == expected  # "|" detected, sorted, empty cell = empty set
    lists = pd.DataFrame({"text": list("abcd"), "label": [["x", "y"], ["x"], [], ["y"]]})
    lists.to_json(tmp_path / "l.jsonl", orient="records", lines=True)
    lists.to_parquet(tmp_path / "l.parquet")
    assert load_labeled(tmp_path / "l.jsonl").labels == expected
    assert load_labeled(tmp_path / "l.parquet").labels == expected
    flags = pd.DataFrame({"text": list("abcd"), "x": [1, 1, 0, 0], "y": ["true", "0", "false", "1"]})
    loaded = load_labeled(flags, label_columns=["x", "y"])
    assert loaded.labels == expected and loaded.is_multilabel and loaded.classes == ["x", "y"]


def test_comma_splits_only_when_every_piece_is_a_label_of_its_own():
    tags = pd.DataFrame({"text": list("abc"), "label": ["billing,refund", "billing", "refund"]})
    assert load_labeled(tags).labels == [("billing", "refund"), ("billing",), ("refund",)]
    names = pd.DataFrame({"text": list("abc"), "label": ["Smith, John", "Doe", "Smith"]})
    assert load_labeled(names).labels == ["Smith, John", "Doe", "Smith"]  # single-label: "John" is no label
    assert load_labeled(names, label_delimiter=",").labels == [("John", "Smith"), ("Doe",), ("Smith",)]


def test_bad_label_sets_name_file_row_and_column(tmp_path):
    path = tmp_path / "tags.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "spam": ["1", "0", "maybe"], "ham": ["0", "1", "1"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'spam' of tags.csv \(one of label_columns\) holds values other than "
                                        r"0 and 1 in 1 row: data row 3 holds 'maybe'"):
        load_labeled(path, label_columns=["spam", "ham"])
    with pytest.raises(DataError, match=r"column 'hma' not found in tags.csv.*label_columns='ham'"):
        load_labeled(path, label_columns=["spam", "hma"])
    doubled = pd.DataFrame({"text": ["a", "b"], "label": ["x||y", "x"]})
    with pytest.raises(DataError, match=r"row 1 of column 'label' in the data holds 'x\|\|y': an empty or nested label"):
        load_labeled(doubled)
    missing = pd.DataFrame({"text": ["a", "b"], "label": [["x"], None]})
    with pytest.raises(DataError, match=r"no label in 1 row of column 'label'.*data row 2.*Give \[\] for a text with no label"):
        load_labeled(missing)


def test_splits_of_a_multilabel_file_refuse_unseen_labels(tmp_path):
    rows = [("a b", "x"), ("c d", "x|y"), ("e f", "y"), ("g h", ""), ("i j", "z")] * 6
    frame = pd.DataFrame(rows, columns=["text", "label"]).assign(split=["train"] * 24 + ["test"] * 6)
    frame.loc[frame.split == "train", "label"] = frame.loc[frame.split == "train", "label"].replace("z", "x")
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"labels never seen in training: 'z'"):
        load_splits(tmp_path / "d.csv")


# ------------------------------------------------------------------------------------------ metrics


def test_metrics_match_scikit_learn_on_random_label_sets():
    rng = np.random.default_rng(0)
    classes = ["a", "b", "c", "d"]
    truth = (rng.random((300, 4)) < [0.5, 0.2, 0.05, 0.3]).astype(int)
    proba = np.clip(truth * 0.4 + rng.random((300, 4)) * 0.6, 0, 1)
    predicted = (proba >= 0.5).astype(int)
    metrics = evaluate(list(to_label_sets(truth, classes)), proba, classes)  # no `predicted`: each label at 0.5
    assert metrics["subset_accuracy"] == metrics["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert metrics["hamming_loss"] == pytest.approx(hamming_loss(truth, predicted))
    for average in ("micro", "macro", "weighted"):
        assert metrics[f"f1_{average}"] == pytest.approx(f1_score(truth, predicted, average=average))
        assert metrics[f"precision_{average}"] == pytest.approx(precision_score(truth, predicted, average=average))
        assert metrics[f"recall_{average}"] == pytest.approx(recall_score(truth, predicted, average=average))
    per_label = f1_score(truth, predicted, average=None)
    assert [metrics["per_class"][c]["f1"] for c in classes] == pytest.approx(per_label.tolist())
    assert metrics["log_loss"] == pytest.approx(-np.mean(truth * np.log(proba + 1e-15) + (1 - truth) * np.log(1 - proba + 1e-15)), rel=1e-6)


# ------------------------------------------------------------------------------------------ thresholds


def test_tuned_threshold_maximises_each_labels_f1():
    truth = np.array([[1, 0], [1, 0], [0, 0], [0, 1], [0, 0]])
    proba = np.array([[0.3, 0.1], [0.25, 0.2], [0.1, 0.3], [0.05, 0.9], [0.2, 0.7]])
    thresholds = tune_thresholds(truth, proba)
    assert 0.2 < thresholds[0] <= 0.25  # both positives (0.25, 0.3) above it, every negative below
    assert 0.7 < thresholds[1] <= 0.9
    decided = decide(proba, thresholds, at_least_one=False)
    assert (decided == truth).all()
    # Text 3 has none: it gets the label nearest its threshold (0.1 vs ~0.22, not 0.3 vs ~0.8).
    assert decide(proba, thresholds, at_least_one=True)[2].tolist() == [1, 0]
    assert (tune_thresholds(np.zeros((3, 1)), np.full((3, 1), 0.9)) == 0.5).all()  # no positive: stays 0.5


# ------------------------------------------------------------------------------------------ methods


@pytest.mark.parametrize("name", ["tfidf-logreg", "tfidf-svm", "nbsvm", "tfidf-nb"])
def test_tfidf_methods_learn_corn_and_grain(corn_grain, name, tmp_path):
    train, validation, test = corn_grain
    method = make_method(name).fit(train.texts, train.labels, validation=validation)
    assert list(method.classes_) == ["corn", "grain"]
    proba = method.predict_proba(test.texts)
    assert proba.shape == (len(test), 2) and not np.allclose(proba.sum(axis=1), 1)  # independent per label
    predicted = method.predict(test.texts)
    assert all(isinstance(p, tuple) for p in predicted)
    assert evaluate(test.labels, proba, method.classes_, predicted=predicted)["f1_micro"] >= 0.35  # no label predicted: 0; measured 0.43 (nbsvm) to 0.81
    loaded = Method.load(method.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict_proba(test.texts), proba, rtol=1e-6)
    np.testing.assert_array_equal(loaded.thresholds_, method.thresholds_)
    assert list(loaded.predict(test.texts)) == list(predicted)


@pytest.mark.slow  # loads the encoder: ~50 s on a loaded 2-core machine
def test_probe_learns_label_sets_one_vs_rest(feature_cache):
    texts = ["wheat and corn prices rose", "corn harvest up", "wheat exports", "bank rates fall", "oil output cut",
             "grain and corn shipments", "wheat tender", "stocks rally"] * 3
    labels = [("corn", "grain"), ("corn",), ("grain",), (), (), ("corn", "grain"), ("grain",), ()] * 3
    probe = make_method("probe", max_length=16, C=1.0).fit(texts, labels)
    assert probe.coef_.shape[0] == 2 and probe.at_least_one_ is False  # training has empty sets
    assert list(probe.predict(texts[:4])) == labels[:4]


def test_thresholds_are_tuned_on_validation_never_on_test(corn_grain):
    train, validation, test = corn_grain
    method = make_method("tfidf-logreg").fit(train.texts, train.labels, validation=validation)
    truth = indicator(validation.labels, method.classes_)
    np.testing.assert_array_equal(method.thresholds_, tune_thresholds(truth, method.predict_proba(validation.texts)))
    assert not np.allclose(method.thresholds_, 0.5)
    without = make_method("tfidf-logreg").fit(train.texts, train.labels)
    assert (without.thresholds_ == 0.5).all()


def test_thresholds_from_a_file_do_not_change_with_its_test_split(tmp_path, corn_grain):
    train, validation, test = corn_grain
    frames = [pd.DataFrame({"text": d.texts, "label": ["|".join(x) for x in d.labels], "split": split})
              for d, split in ((train, "train"), (validation, "validation"), (test, "test"))]
    thresholds = []
    for i, test_labels in enumerate((frames[2].label, frames[2].label.sample(frac=1, random_state=0).to_numpy())):
        path = tmp_path / f"data{i}.csv"
        pd.concat(frames[:2] + [frames[2].assign(label=test_labels)]).to_csv(path, index=False)
        splits = load_splits(path)
        thresholds.append(make_method("tfidf-logreg").fit(splits.train.texts, splits.train.labels,
                                                           validation=splits.validation).thresholds_)
    np.testing.assert_array_equal(*thresholds)


def test_a_method_without_multilabel_refuses_by_name():
    with pytest.raises(ConfigError, match=r"method 'contrastive' \(Contrastive\) cannot learn multi-label data.*Methods "
                                          r"that can: .*tfidf-logreg.*zeroshot"):
        make_method("contrastive").fit(["a", "b"], [("x",), ("y",)])


def test_label_sets_are_checked_before_training():
    with pytest.raises(DataError, match=r"labels mix single labels and label sets: text 2 has 'y'"):
        make_method("tfidf-logreg").fit(["a", "b"], [("x",), "y"])
    with pytest.raises(DataError, match=r"label 'x' is on every training text"):
        make_method("tfidf-logreg").fit(["a", "b"], [("x",), ("x", "y")])


def test_at_least_one_label_when_training_never_had_an_empty_set():
    texts = ["apple pie", "car engine", "apple car", "pie crust", "engine oil", "apple engine"]
    labels = [("food",), ("auto",), ("auto", "food"), ("food",), ("auto",), ("auto", "food")]
    method = make_method("tfidf-logreg").fit(texts, labels)
    assert method.at_least_one_ is True
    unsure = np.array([[0.2, 0.4]], dtype=np.float32)  # both below 0.5
    assert list(method.decide(unsure)) == [("food",)]
    assert list(method.decide(unsure, at_least_one=False)) == [()]
    with_empty = make_method("tfidf-logreg").fit(texts + ["weather"], labels + [()])
    assert with_empty.at_least_one_ is False and list(with_empty.decide(unsure)) == [()]


# ------------------------------------------------------------------------------------------ end to end


def test_cli_train_with_label_columns_then_predict_writes_sets_and_probabilities(tmp_path, corn_grain):
    from typer.testing import CliRunner

    from tunetext.cli import app as cli
    from tunetext.cli import commands  # noqa: F401  (registers the commands)

    train, validation, test = corn_grain
    frames = [pd.DataFrame({"text": d.texts, "corn": [int("corn" in x) for x in d.labels],
                            "grain": [int("grain" in x) for x in d.labels], "split": split})
              for d, split in ((train, "train"), (validation, "validation"), (test, "test"))]
    pd.concat(frames).to_csv(tmp_path / "news.csv", index=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "-d", str(tmp_path / "news.csv"), "-m", "tfidf-logreg", "-o",
                                 str(tmp_path / "model"), "--label-columns", "corn,grain"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["multilabel"] and metrics["metric"] == "f1_micro" and metrics["f1_micro"] > 0.45
    saved = json.loads((tmp_path / "model" / "tunetext.json").read_text())
    assert saved["multilabel"] and len(saved["thresholds"]) == 2
    pd.DataFrame({"text": test.texts[:40]}).to_csv(tmp_path / "new.csv", index=False)
    result = runner.invoke(cli, ["predict", str(tmp_path / "model"), "-d", str(tmp_path / "new.csv"),
                                 "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    expected = Method.load(tmp_path / "model").predict(test.texts[:40])
    assert out["predicted_label"].tolist() == ["|".join(names) for names in expected]
    assert {"proba_corn", "proba_grain"} <= set(out.columns)
    bad = runner.invoke(cli, ["train", "-d", str(tmp_path / "news.csv"), "-o", str(tmp_path / "m2"),
                              "--label-columns", "corn,grian"])
    assert bad.exit_code == 2 and "--label-columns grain" in bad.output


def test_serve_returns_label_sets_with_probabilities(tmp_path, corn_grain):
    from fastapi.testclient import TestClient

    from tunetext.serve import ServeSettings, create_app

    train, validation, test = corn_grain
    method = make_method("tfidf-logreg").fit(train.texts, train.labels, validation=validation)
    method.save(tmp_path / "model")
    with TestClient(create_app(ServeSettings(str(tmp_path / "model")))) as client:
        response = client.post("/predict", json={"texts": test.texts[:20]})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert [tuple(p["labels"]) for p in predictions] == list(method.predict(test.texts[:20]))
    assert all("label" not in p for p in predictions)
    np.testing.assert_allclose([list(p["probabilities"].values()) for p in predictions],
                               method.predict_proba(test.texts[:20]), rtol=1e-6)


@pytest.mark.parametrize("repeat, strategy", [(1, "truncate"), (4, "chunks")])  # long texts: windows, pooled logits
def test_finetune_sigmoid_head_saves_loads_and_exports_to_onnx(tmp_path, tiny_bert_path, repeat, strategy):
    from tunetext.export import OnnxClassifier, export_onnx
    from tunetext.prediction import load_predictor

    rng = np.random.default_rng(0)
    words = {"fruit": "apple banana pear", "car": "engine wheel brake"}
    labels = [tuple(sorted(n for n in words if rng.random() < 0.5)) for _ in range(48)]
    texts = [" ".join([" ".join(w for n in names for w in words[n].split()) + " and the"] * repeat) for names in labels]
    validation = LabeledTexts(texts[36:], labels[36:])
    method = make_method("finetune", model=tiny_bert_path, epochs=2, min_steps=10, batch_size=8, lr=1e-3,
                         precision="fp32", max_length=16, class_weight="balanced")
    method.fit(texts[:36], labels[:36], validation=validation)
    assert method.long_texts_["strategy"] == strategy
    proba = method.predict_proba(texts)
    assert proba.shape == (48, 2) and not np.allclose(proba.sum(axis=1), 1)
    method.save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    loaded = Method.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(texts), proba, atol=1e-5)
    meta = export_onnx(tmp_path / "model")
    assert meta["multilabel"] and meta["thresholds"] == pytest.approx(method.thresholds_.tolist())
    assert meta["files"]["model.onnx"]["parity"]["label_agreement"] == 1.0
    onnx = load_predictor(tmp_path / "model", "onnx")
    assert isinstance(onnx, OnnxClassifier) and onnx.multilabel_
    np.testing.assert_allclose(onnx.predict_proba(texts), proba, atol=1e-4)
    assert list(onnx.decide(onnx.predict_proba(texts))) == list(method.predict(texts))


# ------------------------------------------------------------------------------------------ compare


def test_paired_bootstrap_and_intervals_on_label_sets():
    from tunetext.compare.label_sets import bootstrap_interval, paired_bootstrap

    rng = np.random.default_rng(0)
    truth = (rng.random((200, 3)) < 0.3).astype(int)
    good = np.where(rng.random((200, 3)) < 0.9, truth, 1 - truth)
    bad = np.where(rng.random((200, 3)) < 0.6, truth, 1 - truth)
    low, high = bootstrap_interval(truth, good)["f1_micro"]
    assert low < f1_score(truth, good, average="micro") < high
    assert paired_bootstrap(truth, good, bad, "f1_micro")["p_value"] < 0.01
    same = paired_bootstrap(truth, good, good, "f1_micro")
    assert same["difference"] == 0 and same["p_value"] == 1.0


@pytest.mark.slow  # ten cells: ~40 s on a loaded 2-core machine
def test_compare_on_label_sets_ranks_by_micro_f1(tmp_path, corn_grain, tiny_bert_path, feature_cache):
    from tunetext import api

    train, validation, test = corn_grain
    frames = [pd.DataFrame({"text": d.texts, "label": ["|".join(x) for x in d.labels], "split": split})
              for d, split in ((train, "train"), (validation, "validation"), (test, "test"))]
    pd.concat(frames).to_csv(tmp_path / "news.csv", index=False)
    with pytest.raises(ConfigError, match=r"methods=contrastive: the data is multi-label"):
        api.compare(tmp_path / "news.csv", out=tmp_path / "refused", methods="contrastive,tfidf-nb")
    summary = api.compare(tmp_path / "news.csv", out=tmp_path / "report", methods="tfidf-nb,tfidf-logreg,fasttext,zeroshot",
                          sizes="16,all", params={"zeroshot": {"model": tiny_bert_path, "max_length": 16}})
    assert summary["metric"] == "f1_micro"
    full = {r["method"]: r for r in summary["aggregated"] if r["size_per_class"] is None}
    assert set(full) == {"tfidf-nb", "tfidf-logreg", "fasttext", "zeroshot"}
    assert full["tfidf-logreg"]["f1_micro"] > 0.45
    low, high = summary["bootstrap_95"]["tfidf-logreg"]["f1_micro"]
    assert low <= full["tfidf-logreg"]["f1_micro"] <= high
    assert "f1_micro" in (tmp_path / "report" / "report.md").read_text()


def test_audit_refuses_label_sets_clearly():
    from tunetext.audit import audit_labels

    with pytest.raises(DataError, match=r"the audit finds single-label errors.*this data is multi-label"):
        audit_labels(LabeledTexts(["a", "b"], [("x",), ("y",)]))


def test_validation_must_hold_the_same_kind_of_labels():
    texts, labels = ["apple pie", "car engine"], [("x",), ("y",)]
    with pytest.raises(DataError, match=r"training data has label sets but the validation data has single labels"):
        make_method("tfidf-logreg").fit(texts, labels, validation=LabeledTexts(["apple"], ["x"]))
    with pytest.raises(DataError, match=r"label 'z' of text 1 is not one of the classes \(x, y\)"):
        make_method("tfidf-logreg").fit(texts, labels, validation=LabeledTexts(["apple"], [("z",)]))


# ------------------------------------------------------------------------------------------ zeroshot, fasttext, finetext


CORN_TEXTS = ["wheat and corn prices rose", "corn harvest up", "wheat exports", "bank rates fall", "oil output cut",
              "grain and corn shipments", "wheat tender", "stocks rally"]
CORN_LABELS = [("corn", "grain"), ("corn",), ("grain",), (), (), ("corn", "grain"), ("grain",), ()]


def test_zeroshot_gives_each_label_a_sigmoid_fitted_on_validation_only(tiny_bert_path, feature_cache, tmp_path):
    from scipy.special import expit
    from sklearn.metrics import log_loss

    from tunetext.methods.zeroshot import MULTILABEL_MIDPOINT

    params = {"model": tiny_bert_path, "max_length": 16}
    fixed = make_method("zeroshot", **params).fit(CORN_TEXTS, CORN_LABELS)
    similarity = fixed._similarity(CORN_TEXTS)
    np.testing.assert_allclose(fixed.predict_proba(CORN_TEXTS), expit((similarity - MULTILABEL_MIDPOINT) / 0.05), rtol=1e-5)
    assert (fixed.thresholds_ == 0.5).all() and fixed.at_least_one_ is False
    validation = LabeledTexts(CORN_TEXTS * 2, CORN_LABELS * 2)
    platt = make_method("zeroshot", **params).fit(CORN_TEXTS, CORN_LABELS, validation=validation)
    other = make_method("zeroshot", **params).fit(["anything", "else"], [("corn",), ("grain",)], validation=validation)
    np.testing.assert_array_equal(platt.sigmoid_, other.sigmoid_)  # training texts never matter
    np.testing.assert_array_equal(platt.thresholds_, other.thresholds_)
    truth = indicator(CORN_LABELS, platt.classes_)
    assert log_loss(truth.ravel(), platt.predict_proba(CORN_TEXTS).ravel()) < \
        log_loss(truth.ravel(), fixed.predict_proba(CORN_TEXTS).ravel())  # Platt fits validation (= these texts) better
    loaded = Method.load(platt.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict_proba(CORN_TEXTS), platt.predict_proba(CORN_TEXTS), rtol=1e-6)
    assert list(loaded.predict(CORN_TEXTS)) == list(platt.predict(CORN_TEXTS))


@pytest.mark.slow  # encodes 250 texts with MiniLM: ~50 s on a loaded 2-core machine
def test_zeroshot_finds_corn_and_grain_by_their_names(corn_grain, feature_cache):
    train, validation, test = corn_grain
    method = make_method("zeroshot", max_length=128).fit(train.texts, train.labels, validation=validation)
    proba = method.predict_proba(test.texts)
    assert proba.shape == (len(test), 2) and not np.allclose(proba.sum(axis=1), 1)
    metrics = evaluate(test.labels, proba, method.classes_, predicted=method.predict(test.texts))
    assert metrics["f1_micro"] >= 0.5  # no label predicted: 0; measured 0.74


def test_fasttext_one_vs_all_learns_corn_and_grain(corn_grain, tmp_path):
    train, validation, test = corn_grain
    method = make_method("fasttext").fit(train.texts, train.labels, validation=validation)
    assert method.model_.f.getArgs().loss.name == "ova"
    assert sorted(method.model_.get_labels()) == ["__label__0", "__label__1", "__label__none"]  # empty sets kept
    proba = method.predict_proba(test.texts)
    assert proba.shape == (len(test), 2) and not np.allclose(proba.sum(axis=1), 1)
    predicted = method.predict(test.texts)
    assert evaluate(test.labels, proba, method.classes_, predicted=predicted)["f1_micro"] >= 0.5  # measured 0.64
    loaded = Method.load(method.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict_proba(test.texts), proba, rtol=1e-6)
    assert list(loaded.predict(test.texts)) == list(predicted)


def test_finetext_sigmoid_head_learns_label_sets_and_round_trips(tiny_bert_path, tmp_path):
    rng = np.random.default_rng(0)
    words = {"fruit": "apple banana pear", "car": "engine wheel brake"}
    labels = [tuple(sorted(n for n in words if rng.random() < 0.5)) for _ in range(48)]
    texts = [" ".join(w for n in names for w in words[n].split()) + " and the" for names in labels]
    validation = LabeledTexts(texts[36:], labels[36:])
    method = make_method("finetext", model=tiny_bert_path, epochs=3, batch_size=8, lr=3e-3, precision="fp32",
                         max_length=16).fit(texts[:36], labels[:36], validation=validation)
    proba = method.predict_proba(texts)
    assert proba.shape == (48, 2) and not np.allclose(proba.sum(axis=1), 1)
    truth = indicator(labels, method.classes_)
    np.testing.assert_array_equal(method.thresholds_, tune_thresholds(truth[36:], proba[36:]))
    assert (proba[truth == 1].mean() - proba[truth == 0].mean()) > 0.2  # each label's sigmoid follows its words
    loaded = Method.load(method.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict_proba(texts), proba, atol=1e-6)
    assert list(loaded.predict(texts)) == list(method.predict(texts))


def test_cli_predict_at_least_one_overrides_what_the_model_learned(tmp_path):
    from typer.testing import CliRunner

    from tunetext.cli import app as cli
    from tunetext.cli import commands  # noqa: F401  (registers the commands)

    texts = ["apple pie", "car engine", "doll ball", "pie crust", "engine oil", "ball game", "apple car"] * 2
    labels = ["food", "auto", "toy", "food", "auto", "toy", "auto|food"] * 2  # each label on under half the texts
    pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"text": ["weather report", "apple pie"]}).to_csv(tmp_path / "new.csv", index=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "-d", str(tmp_path / "train.csv"), "-m", "tfidf-logreg",
                               "-o", str(tmp_path / "model")]).exit_code == 0
    assert Method.load(tmp_path / "model").at_least_one_ is True  # no empty set in training
    outputs = {}
    for flag in ("", "--at-least-one", "--no-at-least-one"):
        out = tmp_path / f"out{flag}.csv"
        result = runner.invoke(cli, ["predict", str(tmp_path / "model"), "-d", str(tmp_path / "new.csv"), "-o", str(out)]
                               + ([flag] if flag else []))
        assert result.exit_code == 0, result.output
        outputs[flag] = pd.read_csv(out, keep_default_na=False)["predicted_label"].tolist()
    assert outputs[""] == outputs["--at-least-one"] and outputs[""][0] != ""  # unknown words: the best label anyway
    assert outputs["--no-at-least-one"] == ["", "food"]
    single = ["food", "auto", "toy", "food", "auto", "toy", "auto"] * 2
    pd.DataFrame({"text": texts, "label": single}).to_csv(tmp_path / "single.csv", index=False)
    runner.invoke(cli, ["train", "-d", str(tmp_path / "single.csv"), "-m", "tfidf-logreg", "-o", str(tmp_path / "one")])
    bad = runner.invoke(cli, ["predict", str(tmp_path / "one"), "-d", str(tmp_path / "new.csv"), "-o",
                              str(tmp_path / "x.csv"), "--at-least-one"])
    assert bad.exit_code == 2 and "--at-least-one is for multi-label models" in bad.output
