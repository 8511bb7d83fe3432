"""One real `tunetext serve` process on 127.0.0.1: started, loaded with concurrent requests, always stopped."""

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
                      env={"TUNETEXT_API_KEY": "k3y"}, timeout_s=START_TIMEOUT_S) as running:
        yield running.url, Method.load(model_dir)


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


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid`, from /proc."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                found.append(int(status.parent.name))
        except OSError:  # the process ended while we looked
            pass
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc (Linux)")
def test_workers_get_the_settings_from_a_private_file_not_the_key_in_their_environment(tmp_path, real_slice):
    train = real_slice("trec6", "train", 200)
    model_dir = tmp_path / "model"
    make_method("tfidf-logreg").fit(train.texts, train.labels).save(model_dir)
    with local_server(model_dir, tmp_path / "server.log", options=["--workers", "2"],
                              env={"TUNETEXT_API_KEY": "k3y-in-env"}, timeout_s=START_TIMEOUT_S) as server:
        assert httpx.post(f"{server.url}/predict", json={"text": "hi"}, headers={"X-API-Key": "k3y-in-env"}).status_code == 200
        assert httpx.post(f"{server.url}/predict", json={"text": "hi"}).status_code == 401
        environments = [Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") for pid in children(server.process.pid)]
        assert len(environments) >= 2 and not any(b"k3y-in-env" in variable for env in environments for variable in env)
        settings = Path(next(v for v in environments[0] if v.startswith(b"TUNETEXT_SERVE_SETTINGS_FILE=")).split(b"=", 1)[1].decode())
        assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert not settings.exists()
