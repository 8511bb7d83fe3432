"""One real `tunetext serve` process on 127.0.0.1: started, loaded with concurrent requests, always stopped."""

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tunetext.methods import Method, make_method

START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_slice):
    """(base URL, method): the service on a TF-IDF model, API key from the environment, killed at the end."""
    train = real_slice("trec6", "train")
    model_dir = tmp_path_factory.mktemp("uvicorn") / "model"
    make_method("tfidf-logreg").fit(train.texts, train.labels).save(model_dir)
    port = free_port()
    log = model_dir.parent / "server.log"  # a file, not a pipe: a full pipe would stall the server
    command = [sys.executable, "-c", "from tunetext.cli import app, deploy; app()",
               "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port), "--max-wait-ms", "10"]
    with open(log, "w") as out:
        process = subprocess.Popen(command, env={**os.environ, "TUNETEXT_API_KEY": "k3y"}, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"tunetext serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"tunetext serve did not answer /health within {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield url, Method.load(model_dir)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_concurrent_requests_to_a_real_server(server, real_slice):
    url, method = server
    texts = real_slice("trec6", "test", 96).texts
    with httpx.Client(base_url=url, headers={"X-API-Key": "k3y"}, timeout=30) as client, ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda text: client.post("/predict", json={"text": text}), texts))
        batch = client.post("/predict", json={"texts": texts[:10]})
    assert [r.status_code for r in responses] == [200] * len(texts)
    assert [r.json()["predictions"][0]["label"] for r in responses] == list(method.predict(texts))
    assert [p["label"] for p in batch.json()["predictions"]] == list(method.predict(texts[:10]))


def test_real_server_checks_the_key_from_the_environment(server):
    url, _ = server
    assert httpx.post(f"{url}/predict", json={"text": "hi"}, headers={"X-API-Key": "nope"}).status_code == 401
    assert httpx.get(f"{url}/metadata", headers={"X-API-Key": "k3y"}).json()["method"] == "tfidf-logreg"
