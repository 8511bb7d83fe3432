"""A method from outside the package is one module: compare, tune, serve and predict use it with no edit elsewhere.

The toy method lives in a module written to a temporary folder (never in src/): it declares its own search
space and a report diagnostic, and a new process finds it through a `tunetext.methods` entry point.
"""

import importlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tunetext.compare import Budget, run_comparison
from tunetext.data.dataset import DatasetSplits
from tunetext.errors import ConfigError
from tunetext.methods import Method, get_method_class, list_methods
from tunetext.methods.registry import _REGISTRY
from tunetext.prediction import load_predictor, predict_file
from tunetext.serve import ServeSettings, create_app

MODULE = "tunetext_toy_method"
NAME = "toy-centroid"
TOY = '''
"""Letter frequencies, nearest class centroid: a method tunetext has never heard of."""

import string

import numpy as np
from scipy.special import softmax

from tunetext.io import read_json, write_json
from tunetext.methods import Method, register
from tunetext.methods.base import Series


@register("toy-centroid")
class ToyCentroid(Method):
    search_space = {"smoothing": {"low": 0.01, "high": 10.0, "log": True}}

    def __init__(self, *, smoothing: float = 1.0):
        self.smoothing = smoothing

    def _letters(self, texts):
        counts = np.array([[text.lower().count(c) for c in string.ascii_lowercase] for text in texts]) + self.smoothing
        return counts / counts.sum(axis=1, keepdims=True)

    def _fit(self, texts, labels, validation):
        letters, labels = self._letters(texts), np.asarray(labels)
        self.centroids_ = np.stack([letters[labels == c].mean(axis=0) for c in self.classes_])

    def _predict_proba(self, texts):
        distance = ((self._letters(texts)[:, None] - self.centroids_[None]) ** 2).sum(axis=-1)
        return softmax(-1000 * distance, axis=1)

    def diagnostics(self):
        return {"centroid_spread": Series("Toy centroid spread", self.classes_, self.centroids_.std(axis=1),
                                          xlabel="class", ylabel="std of letter frequencies")}

    def _save_state(self, directory):
        write_json(directory / "centroids.json", self.centroids_.tolist())

    def _load_state(self, directory):
        self.centroids_ = np.array(read_json(directory / "centroids.json"))
'''


@pytest.fixture(scope="module")
def toy_folder(tmp_path_factory):
    """A folder holding the toy module and the metadata of a package declaring it as a `tunetext.methods` entry point."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / f"{MODULE}.py").write_text(TOY)
    dist = folder / f"{MODULE}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {MODULE}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[tunetext.methods]\n{NAME} = {MODULE}:ToyCentroid\n")
    return folder


@pytest.fixture(scope="module")
def toy(toy_folder):
    """The toy method imported from outside the package, as a user's code would; unregistered afterwards, so the
    other tests' method lists stay the built-in ones."""
    sys.path.insert(0, str(toy_folder))
    try:
        yield importlib.import_module(MODULE).ToyCentroid
    finally:
        sys.path.remove(str(toy_folder))
        sys.modules.pop(MODULE, None)
        _REGISTRY.pop(NAME, None)


@pytest.fixture(scope="module")
def trec(real_slice):
    return real_slice("trec6", "train", 240), real_slice("trec6", "test", 60)


@pytest.fixture(scope="module")
def model_dir(toy, trec, tmp_path_factory):
    train, _ = trec
    path = tmp_path_factory.mktemp("toy") / "model"
    toy(smoothing=0.5).fit(train.texts, train.labels).save(path)
    return path


def test_compare_runs_it_and_draws_its_diagnostic(toy, trec, tmp_path):
    train, test = trec
    splits = DatasetSplits("trec6-slice", train, test)
    run_comparison(splits, out=tmp_path, methods=["tfidf-nb", NAME], budget=Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1))
    cells = {c["method"]: c for c in json.loads((tmp_path / "results.json").read_text())["cells"]}
    spread = cells[NAME]["diagnostics"]["centroid_spread"]
    assert spread["labels"] == sorted(set(train.labels)) and len(spread["values"]) == len(spread["labels"])
    assert "![Toy centroid spread](diagnostic-centroid_spread.png)" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "diagnostic-centroid_spread.png").read_bytes()[:4] == b"\x89PNG"


def test_tune_searches_its_own_space(toy, trec, tmp_path):
    pytest.importorskip("optuna")
    from tunetext.tune import SearchSpace, run_study

    space = SearchSpace.for_method(NAME)
    assert space.searched == ["smoothing"]
    study = run_study(space, *trec, trials=3, storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="toy")
    assert study.trials[0].params == {"smoothing": 1.0}  # the method's default, scored first
    assert all(0.01 <= t.params["smoothing"] <= 10.0 for t in study.trials) and len(study.trials) == 3


def test_serve_answers_with_it(model_dir, trec):
    _, test = trec
    expected = Method.load(model_dir).predict(test.texts[:5])
    with TestClient(create_app(ServeSettings(str(model_dir)))) as client:
        response = client.post("/predict", json={"texts": test.texts[:5]})
    assert response.status_code == 200
    assert [p["label"] for p in response.json()["predictions"]] == list(expected)


def test_predict_labels_a_file_with_it(model_dir, trec, tmp_path):
    _, test = trec
    pd.DataFrame({"text": test.texts}).to_csv(tmp_path / "in.csv", index=False)
    assert predict_file(load_predictor(model_dir), tmp_path / "in.csv", tmp_path / "out.csv") == len(test)
    predicted = pd.read_csv(tmp_path / "out.csv")["predicted_label"]
    assert list(predicted) == list(Method.load(model_dir).predict(test.texts))
    assert np.mean(predicted == np.array(test.labels)) > 1 / 6  # it learned something: better than chance


def test_a_new_process_finds_it_through_its_entry_point(model_dir, toy_folder):
    """Nothing in the model folder says where the method's code is: the installed package's entry point does."""
    script = f"from tunetext.methods import Method; print(Method.load({str(model_dir)!r}).predict(['What is a dog?'])[0])"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(toy_folder), os.environ.get("PYTHONPATH", "")])}
    found = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() in set(json.loads((model_dir / "tunetext.json").read_text())["classes"])

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")  # the package is not installed: a clear error, no import
    missing = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert "unknown method 'toy-centroid'" in missing.stderr and "'tunetext.methods' entry point" in missing.stderr


def test_a_broken_entry_point_is_named_with_its_fix(toy_folder, tmp_path, monkeypatch):
    broken = tmp_path / "broken-0.1.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (broken / "entry_points.txt").write_text("[tunetext.methods]\nbroken = json:dumps\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"method 'broken' is <function dumps.*not a subclass of tunetext.methods.Method; "
                                          r"fix or uninstall the package that declares"):
        get_method_class("broken")
    assert "broken" not in _REGISTRY


def test_the_registry_lists_it_while_imported(toy):
    assert NAME in list_methods() and get_method_class(NAME) is toy
