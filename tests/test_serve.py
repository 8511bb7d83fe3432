"""The service in-process (FastAPI's TestClient) on a TF-IDF model; the micro-batcher on its own."""

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tunetext.cli import app as cli
from tunetext.cli import deploy  # noqa: F401  (registers serve and export)
from tunetext.errors import ConfigError
from tunetext.io import write_json
from tunetext.methods import Method, make_method
from tunetext.serve import MicroBatcher, QueueFull, ServeSettings, create_app


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, real_slice):
    train = real_slice("trec6", "train")
    path = tmp_path_factory.mktemp("serve") / "model"
    make_method("tfidf-logreg").fit(train.texts, train.labels).save(path)
    write_json(path / "metrics.json", {"accuracy": 0.8})
    return path


@pytest.fixture(scope="module")
def method(model_dir):
    return Method.load(model_dir)


@pytest.fixture(scope="module")
def questions(real_slice):
    return real_slice("trec6", "test", 64).texts


def client(model_dir, predictor=None, **settings) -> TestClient:
    return TestClient(create_app(ServeSettings(str(model_dir), **settings), predictor))


def test_single_text_gets_label_and_probabilities(model_dir, method, questions):
    with client(model_dir) as c:
        response = c.post("/predict", json={"text": questions[0]})
    assert response.status_code == 200
    [prediction] = response.json()["predictions"]
    expected = method.predict_proba(questions[:1])[0]
    assert list(prediction["probabilities"]) == list(method.classes_)
    np.testing.assert_allclose(list(prediction["probabilities"].values()), expected, rtol=1e-6)
    assert prediction["label"] == method.classes_[expected.argmax()]


def test_batch_answers_in_input_order(model_dir, method, questions):
    with client(model_dir) as c:
        response = c.post("/predict", json={"texts": questions})
    assert [p["label"] for p in response.json()["predictions"]] == list(method.predict(questions))


@pytest.mark.parametrize("body, status, message", [
    ({"texts": ["a question?"] * 5}, 413, "5 texts in one request; the limit is 4"),
    ({"texts": ["ok", "x" * 101]}, 413, "text 1 has 101 characters; the limit is 100"),
    ({"texts": []}, 422, "at least 1 item"),
    ({}, 422, "exactly one of 'text'"),
    ({"text": "a", "texts": ["b"]}, 422, "exactly one of 'text'"),
    ({"text": 5}, 422, "valid string"),
    ({"text": "a", "lang": "en"}, 422, "Extra inputs are not permitted"),
])
def test_limits_and_schema_are_clear_4xx(model_dir, body, status, message):
    with client(model_dir, max_texts=4, max_chars=100) as c:
        response = c.post("/predict", json=body)
    assert response.status_code == status
    assert message in json.dumps(response.json())


def test_api_key_guards_predict_and_metadata_but_not_health(model_dir):
    with client(model_dir, api_key="s3cret") as c:
        for headers in ({}, {"X-API-Key": "wrong"}):
            response = c.post("/predict", json={"text": "hi"}, headers=headers)
            assert response.status_code == 401 and "X-API-Key" in response.json()["detail"]
            assert c.get("/metadata", headers=headers).status_code == 401
        assert c.post("/predict", json={"text": "hi"}, headers={"X-API-Key": "s3cret"}).status_code == 200
        assert c.get("/health").status_code == 200


def test_health_metadata_and_openapi(model_dir, method):
    with client(model_dir) as c:
        assert c.get("/health").json() == {"status": "ok", "queued_texts": 0}
        meta = c.get("/metadata").json()
        assert c.get("/openapi.json").json()["paths"].keys() >= {"/predict", "/health", "/metadata"}
    assert meta["labels"] == list(method.classes_) and meta["method"] == "tfidf-logreg"
    assert meta["backend"] == "torch" and meta["metrics"] == {"accuracy": 0.8}
    assert meta["params"]["C"] == method.C and meta["preprocessing"]["max_chars"] == 10_000


class Gate:
    """A predictor that blocks inside predict_proba until released, and records its batch sizes."""

    def __init__(self, method):
        self.method, self.classes_ = method, method.classes_
        self.entered, self.release = threading.Event(), threading.Event()
        self.batches = []

    def predict_proba(self, texts):
        self.entered.set()
        assert self.release.wait(10)
        self.batches.append(len(texts))
        return self.method.predict_proba(texts)


def test_full_queue_answers_503_and_the_service_recovers(model_dir, method):
    gate = Gate(method)
    with client(model_dir, gate, max_batch_size=1, max_wait_ms=0, max_queue=2, max_texts=2) as c, \
            ThreadPoolExecutor(2) as pool:
        running = pool.submit(c.post, "/predict", json={"text": "first"})
        assert gate.entered.wait(10)  # the model is busy with it
        waiting = pool.submit(c.post, "/predict", json={"texts": ["second", "third"]})
        deadline = time.monotonic() + 10
        while c.get("/health").json()["queued_texts"] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = c.post("/predict", json={"text": "one too many"})
        gate.release.set()
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        assert "2 texts are already waiting" in refused.json()["detail"]
        assert running.result().status_code == 200 and waiting.result().status_code == 200
        assert c.post("/predict", json={"text": "after"}).status_code == 200


def test_concurrent_requests_are_all_answered_correctly(model_dir, method, questions):
    gate = Gate(method)
    gate.release.set()
    with client(model_dir, gate, max_wait_ms=20) as c, ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda text: c.post("/predict", json={"text": text}), questions))
    assert [r.json()["predictions"][0]["label"] for r in responses] == list(method.predict(questions))
    assert sum(gate.batches) == len(questions)


def test_access_log_is_json_lines_without_texts(model_dir, tmp_path):
    log = tmp_path / "access.jsonl"
    with client(model_dir, access_log=str(log)) as c:
        c.post("/predict", json={"texts": ["secret text one", "two"]})
        c.post("/predict", json={"text": 3})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(x["path"], x["status"], x["texts"]) for x in lines] == [("/predict", 200, 2), ("/predict", 422, None)]
    assert all(x["ms"] >= 0 and x["client"] for x in lines) and "secret" not in log.read_text()


def test_settings_reject_bad_limits(model_dir):
    with pytest.raises(ConfigError, match="max_queue=10 is below max_texts=256"):
        ServeSettings(str(model_dir), max_queue=10)
    with pytest.raises(ConfigError, match="API key is empty"):
        ServeSettings(str(model_dir), api_key=" ")
    with pytest.raises(ConfigError, match="backend='gpu'"):
        ServeSettings(str(model_dir), backend="gpu")


def test_cli_serve_fails_before_starting_on_a_bad_directory(tmp_path):
    result = CliRunner().invoke(cli, ["serve", str(tmp_path)])
    assert result.exit_code == 2 and "is not a tunetext model directory" in " ".join(result.output.split())


# ---- the micro-batcher -----------------------------------------------------------------------------
def run_batcher(predict_proba, requests, **options):
    async def main():
        batcher = MicroBatcher(predict_proba, **options)
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.predict(texts) for texts in requests), return_exceptions=True)
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_batcher_groups_queued_requests_and_splits_results_back():
    batches = []

    def rows(texts):
        batches.append(list(texts))
        return np.array([[float(t)] for t in texts])

    requests = [["1"], ["2", "3"], ["4"], ["5"], ["6", "7", "8"], ["9"]]
    results = run_batcher(rows, requests, max_batch_size=4, max_wait_ms=50)
    assert [r[:, 0].tolist() for r in results] == [[float(t) for t in texts] for texts in requests]
    assert [len(b) for b in batches] == [4, 4, 1]  # a request is never split, so a batch may pass 4


def test_batcher_refuses_beyond_the_queue_and_survives_model_errors():
    def fail_on_boom(texts):
        if "boom" in texts:
            raise RuntimeError("model failed")
        return np.zeros((len(texts), 1))

    results = run_batcher(fail_on_boom, [["boom"], ["a", "b"], ["c", "d"]], max_batch_size=1, max_queue=3)
    assert isinstance(results[0], RuntimeError)
    assert results[1].shape == (2, 1)
    assert isinstance(results[2], QueueFull)
