"""The service in-process (FastAPI's TestClient) on a TF-IDF model; its body guard and the micro-batcher on their own."""

import asyncio
import json
import os
import stat
import subprocess
import sys
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
from tunetext.methods import Method, list_methods, make_method
from tunetext.serve import MicroBatcher, QueueFull, ServeSettings, create_app
from tunetext.serve.app import app_from_env
from tunetext.serve.guard import BodyGuard
from tunetext.serve.settings import SETTINGS_FILE_VAR, read_api_key_file, settings_file

SECRET_TEXT = "a test-set text that must not leave the machine"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, real_slice):
    """A TF-IDF model whose metrics.json holds what `train` writes there: numbers, and test texts with their labels."""
    train = real_slice("trec6", "train")
    path = tmp_path_factory.mktemp("serve") / "model"
    make_method("tfidf-logreg").fit(train.texts, train.labels).save(path)
    write_json(path / "metrics.json", {
        "n": 64, "accuracy": 0.8, "f1_macro": 0.75, "data": str(path.parent / "private.csv"),
        "per_class": {"DESC": {"f1": 0.7}}, "confident_errors": [{"index": 3, "text": SECRET_TEXT, "label": "HUM"}],
    })
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
    ({"texts": ["ok", " \n\t"]}, 422, "text 1 is empty or only whitespace"),
    ({"text": ""}, 422, "text 0 is empty or only whitespace"),
])
def test_limits_and_schema_are_clear_4xx(model_dir, body, status, message):
    with client(model_dir, max_texts=4, max_chars=100) as c:
        response = c.post("/predict", json=body)
    assert response.status_code == status
    assert message in json.dumps(response.json())


def test_api_key_guards_everything_but_health_and_docs(model_dir):
    with client(model_dir, api_key="s3cret") as c:
        for headers in ({}, {"X-API-Key": "wrong"}):
            response = c.post("/predict", json={"text": "hi"}, headers=headers)
            assert response.status_code == 401 and "X-API-Key" in response.json()["detail"]
            assert response.headers["WWW-Authenticate"] == "X-API-Key"
            assert c.get("/metadata", headers=headers).status_code == 401
            assert c.get("/no-such-route", headers=headers).status_code == 401
        assert c.post("/predict", json={"text": "hi"}, headers={"X-API-Key": "s3cret"}).status_code == 200
        for public in ("/health", "/docs", "/openapi.json", "/docs/assets/swagger-ui.css"):
            assert c.get(public).status_code == 200, public


def test_metadata_serves_only_what_a_client_needs(model_dir, method):
    with client(model_dir) as c:
        assert c.get("/health").json() == {"status": "ok", "queued_texts": 0}
        response = c.get("/metadata")
        assert c.get("/openapi.json").json()["paths"].keys() >= {"/predict", "/health", "/metadata"}
    meta = response.json()
    assert meta == {"method": "tfidf-logreg", "task": None, "labels": list(method.classes_), "backend": "torch",
                    "limits": {"max_texts": 256, "max_chars": 10_000, "max_body_bytes": 15_363_072,
                               "max_length_tokens": None},
                    "metrics": {"n": 64, "accuracy": 0.8, "f1_macro": 0.75}}
    assert SECRET_TEXT not in response.text and str(model_dir.parent) not in response.text


def test_docs_load_their_assets_from_the_service_not_a_cdn(model_dir):
    with client(model_dir) as c:
        page = c.get("/docs").text
        script = c.get("/docs/assets/swagger-ui-bundle.js")
        redoc = c.get("/redoc").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "/docs/assets/swagger-ui.css" in page
    assert "cdn" not in page.lower() and "cdn" not in redoc.lower()
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text


def test_body_is_json_whatever_its_content_type(model_dir, method, questions):
    """The README's `curl -d` sends application/x-www-form-urlencoded."""
    with client(model_dir) as c:
        for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
            headers = {"content-type": content_type} if content_type else {}
            response = c.post("/predict", content=json.dumps({"text": questions[0]}), headers=headers)
            assert response.status_code == 200, content_type
            assert response.json()["predictions"][0]["label"] == method.predict(questions[:1])[0]


def test_oversized_bodies_are_refused_before_they_are_read(model_dir):
    chunks = lambda: (b"x" * 65_536 for _ in range(64))  # 4 MB, sent chunked: no Content-Length  # noqa: E731
    with client(model_dir, api_key="k", max_texts=2, max_chars=1000) as c:
        limit = ServeSettings(str(model_dir), max_texts=2, max_chars=1000).max_body_bytes
        unauthenticated = c.post("/predict", content=b"x" * (limit + 1))
        declared = c.post("/predict", content=b"x" * (limit + 1), headers={"X-API-Key": "k"})
        chunked = c.post("/predict", content=chunks(), headers={"X-API-Key": "k"})
        fits = c.post("/predict", json={"texts": ["é" * 1000] * 2}, headers={"X-API-Key": "k"})  # sent as \u00e9
    assert unauthenticated.status_code == 401
    assert declared.status_code == 413 and f"is {limit + 1:,} bytes; the limit is {limit:,}" in declared.json()["detail"]
    assert chunked.status_code == 413 and f"over {limit:,} bytes" in chunked.json()["detail"]
    assert fits.status_code == 200


def run_guard(guard: BodyGuard, headers: dict, body_chunks: list[bytes]) -> tuple[int, int, bool]:
    """(status, body messages the guard read, whether the app behind it ran) for one request."""
    reads, ran, sent = [], [], []
    messages = [{"type": "http.request", "body": chunk, "more_body": i < len(body_chunks) - 1}
                for i, chunk in enumerate(body_chunks)]

    async def receive():
        reads.append(1)
        return messages[len(reads) - 1]

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        ran.append(1)
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    guard.app = app
    scope = {"type": "http", "path": "/predict", "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(guard(scope, receive, send))
    return sent[0]["status"], len(reads), bool(ran)


def test_guard_reads_no_body_without_the_key_and_stops_at_the_limit():
    guard = BodyGuard(None, api_key="k", max_body_bytes=100, public_paths=("/health",))
    assert run_guard(guard, {"content-length": "10"}, [b"x" * 10]) == (401, 0, False)
    assert run_guard(guard, {"x-api-key": "k", "content-length": "300"}, [b"x" * 100] * 3) == (413, 0, False)
    assert run_guard(guard, {"x-api-key": "k"}, [b"x" * 60] * 5) == (413, 2, False)  # chunked: stops at 120 bytes
    assert run_guard(guard, {"x-api-key": "k"}, [b"x" * 50] * 2) == (200, 2, True)


class Gate:
    """A predictor that blocks inside predict_proba until released, and records its batch sizes."""

    def __init__(self, method):
        self.method, self.classes_ = method, method.classes_
        self.decide, self.multilabel_ = method.decide, False
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


def test_settings_travel_to_workers_in_a_private_file_removed_after(model_dir, monkeypatch):
    settings = ServeSettings(str(model_dir), api_key="s3cret", max_texts=8)
    with settings_file(settings) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        monkeypatch.setenv(SETTINGS_FILE_VAR, str(path))
        with TestClient(app_from_env()) as c:
            assert c.get("/metadata", headers={"X-API-Key": "s3cret"}).json()["limits"]["max_texts"] == 8
            assert c.get("/metadata").status_code == 401
    assert not path.exists()
    assert "s3cret" not in repr(settings)


def test_api_key_file_is_read_stripped(tmp_path):
    (tmp_path / "key").write_text("s3cret\n")
    (tmp_path / "empty").write_text(" \n")
    assert read_api_key_file(tmp_path / "key") == "s3cret"
    with pytest.raises(ConfigError, match="API key file .*empty is empty"):
        read_api_key_file(tmp_path / "empty")


def test_cli_serve_warns_about_a_key_on_the_command_line_and_refuses_two_keys(tmp_path):
    (tmp_path / "key").write_text("s3cret")
    shown = CliRunner().invoke(cli, ["serve", str(tmp_path), "--api-key", "s3cret"])
    both = CliRunner().invoke(cli, ["serve", str(tmp_path), "--api-key-file", str(tmp_path / "key")],
                              env={"TUNETEXT_API_KEY": "other"})
    assert "visible to every user of this machine in `ps`" in " ".join(shown.output.split())
    assert both.exit_code == 2 and "pass the API key once" in " ".join(both.output.split())


def test_serving_a_tfidf_model_does_not_import_torch(model_dir):
    """PyTorch costs hundreds of MB of memory; a TF-IDF model does not need it. The registry, which then
    imported one module of methods first, still lists them all in its usual order."""
    code = ("import sys; from tunetext.cli import deploy; from tunetext.serve import ServeSettings, create_app; "
            f"create_app(ServeSettings({str(model_dir)!r})); print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')); "
            "from tunetext.methods import list_methods; print(list_methods())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr
    torch_modules, methods = result.stdout.splitlines()
    assert torch_modules == "[]"
    assert methods == str(list_methods())


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
