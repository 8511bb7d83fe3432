"""One real `tunetext serve` process on 127.0.0.1: started, loaded with concurrent requests, always stopped."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tunetext.methods import Method, make_method
from tunetext.serve.local import local_server

START_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_slice):
    """(base URL, method): the service on a TF-IDF model, API key from the environment, killed at the end."""
    train = real_slice("trec6", "train")
    model_dir = tmp_path_factory.mktemp("uvicorn") / "model"
    make_method("tfidf-logreg").fit(train.texts, train.labels).save(model_dir)
    with local_server(model_dir, model_dir.parent / "server.log", options=["--max-wait-ms", "10"],
                      env={"TUNETEXT_API_KEY": "k3y"}, timeout_s=START_TIMEOUT_S) as url:
        yield url, Method.load(model_dir)


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
