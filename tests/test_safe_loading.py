"""Loading a model folder runs no code from it: TF-IDF models are arrays + JSON, pickles are refused,
transformers never runs a folder's own Python, and a folder tunetext saved is read from safetensors only."""

import builtins
import functools
import json
import pickle

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC
from typer.testing import CliRunner

from tunetext import encoders
from tunetext.augment.contextual import _pretrained_head
from tunetext.cli import app
from tunetext.cli import commands  # noqa: F401  (registers the commands)
from tunetext.errors import ModelError
from tunetext.methods import Method, make_method
from tunetext.methods.finetune import _load_hf_classifier

# (method, slice, label left out, the link the fit must choose): every branch of the four methods.
CASES = {
    "svm-calibrated": ("tfidf-svm", "trec6", "ABBR", "sigmoid"),  # every class has >= 30 examples
    "svm-margins": ("tfidf-svm", "trec6", None, "softmax"),  # ABBR has 9: too rare to calibrate
    "svm-binary": ("tfidf-svm", "sms-spam", None, "sigmoid"),
    "logreg": ("tfidf-logreg", "trec6", None, "softmax"),
    "logreg-binary": ("tfidf-logreg", "rt-snippets", None, "sigmoid"),
    "nb": ("tfidf-nb", "trec6", None, "softmax"),
    "nbsvm": ("nbsvm", "trec6", None, "sigmoid"),
    "nbsvm-binary": ("nbsvm", "rt-snippets", None, "sigmoid"),
}


def _slice(real_slice, dataset, split, drop):
    data = real_slice(dataset, split, 300)
    keep = [i for i, label in enumerate(data.labels) if label != drop]
    return [data.texts[i] for i in keep], [data.labels[i] for i in keep]


@functools.cache
def _fit(real_slice, case):
    """The fitted model, its training data (texts, labels) and the test texts; each case is fitted once."""
    method, dataset, drop, link = CASES[case]
    train = _slice(real_slice, dataset, "train", drop)
    np.random.seed(0)  # liblinear draws its seed from numpy's global generator
    model = make_method(method).fit(*train)
    assert model.link_ == link
    return model, train, _slice(real_slice, dataset, "test", drop)[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_save_load_gives_identical_probabilities_from_arrays_and_json(case, real_slice, tmp_path):
    model, _, texts = _fit(real_slice, case)
    loaded = Method.load(model.save(tmp_path / case))
    assert np.array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert sorted(p.name for p in (tmp_path / case).iterdir()) == ["tfidf.safetensors", "tunetext.json", "vocabulary.json"]


REFERENCES = {
    "svm-calibrated": lambda: CalibratedClassifierCV(LinearSVC(), cv=3, method="sigmoid", ensemble=False),
    "svm-binary": lambda: CalibratedClassifierCV(LinearSVC(), cv=3, method="sigmoid", ensemble=False),
    "logreg": lambda: LogisticRegression(C=30.0, class_weight="balanced", solver="newton-cg", max_iter=1000),
    "logreg-binary": lambda: LogisticRegression(C=30.0, class_weight="balanced", solver="newton-cg", max_iter=1000),
    "nb": lambda: MultinomialNB(alpha=0.05),
}


@pytest.mark.parametrize("case", sorted(REFERENCES))
def test_linear_arrays_give_scikit_learns_own_probabilities(case, real_slice):
    model, (train_texts, labels), texts = _fit(real_slice, case)
    np.random.seed(0)
    reference = REFERENCES[case]().fit(model.vectorizer_.transform(train_texts), labels)
    expected = reference.predict_proba(model.vectorizer_.transform(texts))
    np.testing.assert_allclose(model.predict_proba(texts), expected, atol=1e-6)


def test_svm_margins_keep_the_softmax_of_the_svms_own_margins(real_slice):
    model, (train_texts, labels), texts = _fit(real_slice, "svm-margins")
    np.random.seed(0)
    svm = LinearSVC().fit(model.vectorizer_.transform(train_texts), labels)
    expected = softmax(svm.decision_function(model.vectorizer_.transform(texts)), axis=1)
    np.testing.assert_allclose(model.predict_proba(texts), expected, atol=1e-6)


# ---- pickles are refused, never run ---------------------------------------------------------------
class _Payload:
    """Unpickling this creates `marker`: what a crafted model.joblib could do with any command."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.fixture(params=["old-save", "planted-beside-a-current-save"])
def pickled_folder(request, real_slice, tmp_path):
    """A tfidf-svm folder holding a crafted model.joblib; returns (folder, marker)."""
    folder, marker = tmp_path / "model", tmp_path / "MARKER"
    payload = pickle.dumps(_Payload(marker))
    pickle.loads(payload)
    assert marker.exists(), "the payload must really run when unpickled"
    marker.unlink()
    if request.param == "old-save":  # what an older tunetext wrote: metadata and the pickle only
        folder.mkdir()
        meta = {"method": "tfidf-svm", "params": make_method("tfidf-svm").get_params(), "classes": ["neg", "pos"]}
        (folder / "tunetext.json").write_text(json.dumps(meta))
    else:
        train = real_slice("sms-spam", "train", 100)
        make_method("tfidf-svm").fit(train.texts, train.labels).save(folder)
    (folder / "model.joblib").write_bytes(payload)
    return folder, marker


def test_method_load_refuses_a_pickle_without_running_it(pickled_folder):
    folder, marker = pickled_folder
    with pytest.raises(ModelError, match=r"model\.joblib was saved by an older tunetext in a format that can run "
                                         r"code .* Retrain the model: `tunetext train --method tfidf-svm"):
        Method.load(folder)
    assert not marker.exists()


def test_predict_command_refuses_a_pickle_without_running_it(pickled_folder, tmp_path):
    folder, marker = pickled_folder
    out = tmp_path / "predictions.csv"
    result = CliRunner().invoke(app, ["predict", str(folder), "--data", "tests/data/sms-spam-test.csv", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "can run code" in result.output and "Retrain" in result.output
    assert not marker.exists() and not out.exists()


# ---- transformers loads no code and, from our folders, no pickled weights -------------------------------
@pytest.fixture
def remote_code_folder(tmp_path, monkeypatch):
    """A model folder whose config names its own Python classes (`auto_map`), which create a marker on import.

    Unpatched, transformers asks on a terminal whether to run that code; the answer here is "y", so only
    trust_remote_code=False keeps it from running.
    """
    folder, marker = tmp_path / "remote-code", tmp_path / "MARKER"
    folder.mkdir()
    classes = {name: "evil.Evil" for name in ("AutoConfig", "AutoModel", "AutoModelForSequenceClassification",
                                              "AutoModelForMaskedLM")}
    auto_map = {**classes, "AutoTokenizer": ["evil.Evil", None]}
    (folder / "config.json").write_text(json.dumps({"model_type": "not-a-transformers-type", "auto_map": auto_map}))
    (folder / "tokenizer_config.json").write_text(json.dumps({"auto_map": {"AutoTokenizer": ["evil.Evil", None]}}))
    (folder / "evil.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.setattr(builtins, "input", lambda *args: "y")
    return folder, marker


LOADERS = {
    "encoder": encoders.load_encoder,
    "tokenizer": encoders.load_tokenizer,
    "finetune": lambda path: _load_hf_classifier(path, ["neg", "pos"]),
    "pretrained-head": lambda path: make_method("pretrained-head", model=path).fit(["good", "bad"], ["pos", "neg"]),
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_a_folders_own_python_code_is_never_run(loader, remote_code_folder):
    folder, marker = remote_code_folder
    with pytest.raises(ValueError, match="contains custom code"):
        LOADERS[loader](str(folder))
    assert not marker.exists()


def test_contextual_augmentation_skips_a_head_that_needs_the_folders_code(remote_code_folder):
    folder, marker = remote_code_folder
    assert _pretrained_head(str(folder)) is None
    assert not marker.exists()


def test_a_saved_finetune_model_is_read_from_safetensors_only(tiny_bert_path, tmp_path):
    texts, labels = ["good film", "bad film"] * 8, ["pos", "neg"] * 8
    model = make_method("finetune", model=tiny_bert_path, epochs=1, min_steps=0, batch_size=8, precision="fp32")
    folder = model.fit(texts, labels).save(tmp_path / "model")
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Payload(tmp_path / "MARKER")))
    with pytest.raises((OSError, ModelError), match=r"model\.safetensors"):
        Method.load(folder)
    assert not (tmp_path / "MARKER").exists()
