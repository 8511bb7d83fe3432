"""Long documents (Issue 15): windowing written once in encoders, the strategy each method resolves and saves,
and a 5,000-token document through train, predict, serve and the ONNX export (tiny random BERT: plumbing)."""

import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from tunetext import encoders, features
from tunetext.encoders import Windows, load_tokenizer, resolve_model_path, token_lengths, tokenize, windows
from tunetext.errors import ConfigError
from tunetext.methods import Method, make_method

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def words(n: int, seed: int = 0) -> str:
    return " ".join(np.random.default_rng(seed).choice(WORDS, size=n))


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve_model_path())


def test_truncate_windows_are_the_tokenizers_own_truncation(tokenizer):
    texts = ["short", words(300), "", "Punctuation, CAPS and numbers 1,234!" * 20]
    for length in (16, 64, 128):
        assert windows(tokenizer, texts, length, "truncate").ids == tokenize(tokenizer, texts, length)


def test_windows_carry_each_tokenizers_own_special_tokens(tiny_mpnet_path):
    mpnet = load_tokenizer(tiny_mpnet_path)  # <s> ... </s>
    texts = ["short", words(300)]
    assert windows(mpnet, texts, 32, "truncate").ids == tokenize(mpnet, texts, 32)
    chunks = windows(mpnet, texts, 32, "chunks").ids
    assert all(w[0] == mpnet.bos_token_id and w[-1] == mpnet.eos_token_id and len(w) <= 32 for w in chunks)


def test_head_tail_keeps_the_first_quarter_and_the_end(tokenizer):
    text = words(200)
    content = tokenizer(text, add_special_tokens=False)["input_ids"]
    [window] = windows(tokenizer, [text], 66, "head_tail").ids  # 64 tokens of text: 16 head + 48 tail
    assert len(window) == 66 and window[1:17] == content[:16] and window[17:-1] == content[-48:]
    assert window[0] == tokenizer.cls_token_id and window[-1] == tokenizer.sep_token_id


def test_chunks_overlap_cover_every_token_and_end_at_the_end(tokenizer):
    texts = [words(10), words(500, seed=1)]
    cut = windows(tokenizer, texts, 34, "chunks")  # 32 text tokens a window, stride 24
    content = tokenizer(texts[1], add_special_tokens=False)["input_ids"]
    long = [w[1:-1] for w, d in zip(cut.ids, cut.doc) if d == 1]
    assert cut.doc[0] == 0 and (cut.doc == 0).sum() == 1 and all(len(w) == 32 for w in long)
    assert long[0] == content[:32] and long[1][:8] == content[24:32] and long[-1] == content[-32:]
    covered = set()
    for i, window in enumerate(long[:-1]):
        covered.update(range(24 * i, 24 * i + 32))
    assert covered | set(range(len(content) - 32, len(content))) == set(range(len(content)))


def test_pairs_keep_the_tokenizers_truncation(tokenizer):
    pairs = [(words(100), words(100, seed=2))]
    cut = windows(tokenizer, pairs, 32, "chunks")
    assert cut.ids == tokenize(tokenizer, pairs, 32) and cut.n_docs == 1


def test_absurd_lengths_are_capped_with_a_warning(tokenizer, monkeypatch):
    monkeypatch.setattr(encoders, "MAX_WINDOWS", 4)
    with pytest.warns(UserWarning, match="1 text.*more than 4 windows.*evenly spaced"):
        cut = windows(tokenizer, [words(400), "short"], 34, "chunks")
    assert (cut.doc == 0).sum() == 4 and cut.n_docs == 2


def test_aggregate_is_a_token_weighted_mean_or_a_max():
    cut = Windows(ids=[[1], [2], [3], [4]], doc=np.array([0, 0, 1, 2]), tokens=np.array([3, 1, 5, 5]), n_docs=3)
    values = np.array([[1.0, 0.0], [5.0, 4.0], [2.0, 2.0], [7.0, -1.0]], dtype=np.float32)
    np.testing.assert_allclose(cut.aggregate(values, "mean"), [[2.0, 1.0], [2.0, 2.0], [7.0, -1.0]])
    np.testing.assert_allclose(cut.aggregate(values, "max"), [[5.0, 4.0], [2.0, 2.0], [7.0, -1.0]])
    single = Windows([[1], [2]], np.array([0, 1]), np.array([1, 1]), 2)
    np.testing.assert_array_equal(single.aggregate(values[:2], "max"), values[:2])  # one window each: unchanged


def test_early_stopping_scores_validation_texts_not_their_windows():
    """Text 0 has three windows, two voting class 1 weakly and one class 0 strongly: pooled, the text is class 0
    (its label), though most of its windows are wrong. Windows would score 2/4; texts score 2/2."""
    import contextlib

    import torch

    from tunetext.training.loop import Encoded, evaluate

    votes = {1: [0.0, 0.2], 2: [0.0, 0.2], 3: [2.0, 0.0], 4: [0.0, 1.0]}  # first token id -> logits

    class FirstTokenVotes(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            return torch.tensor([votes[int(i)] for i in input_ids[:, 0]])

    texts = Windows(ids=[[1], [2], [3], [4]], doc=np.array([0, 0, 0, 1]), tokens=np.array([1, 1, 1, 1]), n_docs=2)
    labels = texts.labels(np.array([0, 1]))
    common = dict(batch_size=8, pad_id=0, loss_fn=torch.nn.functional.cross_entropy,
                  autocast=contextlib.nullcontext, device="cpu")
    assert evaluate(FirstTokenVotes(), Encoded(texts.ids, labels), **common)["accuracy"] == 0.5
    assert evaluate(FirstTokenVotes(), Encoded(texts.ids, labels, texts), **common)["accuracy"] == 1.0
    assert evaluate(FirstTokenVotes(), Encoded(texts.ids, labels, texts, "max"), **common)["accuracy"] == 1.0


def test_auto_reads_long_texts_only_when_many_are_longer():
    assert encoders.resolve_long_texts("auto", [10] * 95 + [300] * 5, 128)["strategy"] == "truncate"
    record = encoders.resolve_long_texts("auto", [10] * 80 + [300] * 20, 128)
    assert record["strategy"] == encoders.AUTO_STRATEGY and record["longer"] == 20 and record["share_longer"] == 0.2
    assert record["median_tokens"] == 10 and record["p90_tokens"] == 300
    assert encoders.resolve_long_texts("auto", [300] * 10, 128, pairs=True)["strategy"] == "truncate"
    assert encoders.resolve_long_texts("head_tail", [10], 128)["strategy"] == "head_tail"


@pytest.mark.parametrize("name", ["probe", "zeroshot", "finetext-frozen", "finetune", "finetext", "contrastive",
                                  "pretrained-head", "finetune-partial"])
def test_every_transformer_method_refuses_an_unknown_strategy(name):
    with pytest.raises(ConfigError, match="long_texts='whole'.*truncate, head_tail, chunks"):
        make_method(name, long_texts="whole").fit(["a", "b"], ["x", "y"])


def test_frozen_features_are_cached_per_strategy(feature_cache, tiny_bert_path):
    long_text, short = words(400), "a short text"
    truncated = features.encode([long_text, short], model=tiny_bert_path, max_length=32)
    chunked = features.encode([long_text, short], model=tiny_bert_path, max_length=32, long_texts="chunks")
    assert not np.allclose(truncated[0], chunked[0])
    np.testing.assert_allclose(truncated[1], chunked[1], rtol=1e-5, atol=1e-6)
    again = features.encode([long_text], model=tiny_bert_path, max_length=32, long_texts="chunks", cache=False)
    np.testing.assert_allclose(again[0], chunked[0], rtol=1e-5, atol=1e-6)


def test_probe_resolves_auto_and_saves_the_strategy(feature_cache, tiny_bert_path, tmp_path):
    texts = [words(200, seed=i) if i % 3 == 0 else words(5, seed=i) for i in range(12)]
    labels = ["a", "b"] * 6
    probe = make_method("probe", model=tiny_bert_path, max_length=32).fit(texts, labels)
    assert probe.long_texts_["strategy"] == "chunks" and probe.long_texts_["longer"] == 4
    loaded = Method.load(probe.save(tmp_path / "probe"))
    assert loaded.long_texts_ == probe.long_texts_
    np.testing.assert_allclose(loaded.predict_proba(texts), probe.predict_proba(texts), rtol=1e-5)


@pytest.fixture(scope="module")
def long_model(tmp_path_factory, tiny_bert_path):
    """`tunetext train` on a folder whose training split has a 5,000-token document; the printed line, the model."""
    from rich.console import Console

    from tunetext import api

    folder = tmp_path_factory.mktemp("long-data")
    train = [words(5, seed=i) for i in range(20)] + [words(4700, seed=100)] + [words(300, seed=i) for i in range(3)]
    labels = ["x", "y"] * 12
    pd.DataFrame({"text": train, "label": labels}).to_csv(folder / "train.csv", index=False)
    pd.DataFrame({"text": [words(4700, seed=7), "alpha beta"], "label": ["x", "y"]}).to_csv(folder / "test.csv", index=False)
    out = tmp_path_factory.mktemp("long-model") / "model"
    printed = io.StringIO()
    params = dict(model=tiny_bert_path, max_length=128, epochs=1, batch_size=8, min_steps=0, precision="fp32")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # 5,000 tokens fit in MAX_WINDOWS: nothing is capped
        metrics = api.train(folder, out=out, method="finetune", params=params, console=Console(file=printed, width=300))
    return out, printed.getvalue(), metrics


def test_a_5000_token_document_through_train_predict_serve_and_onnx(long_model, tokenizer):
    from fastapi.testclient import TestClient

    from tunetext.export import OnnxClassifier, export_onnx
    from tunetext.prediction import load_predictor
    from tunetext.serve import ServeSettings, create_app

    out, printed, metrics = long_model
    document = words(4700, seed=7)
    assert token_lengths(tokenizer, [document])[0] >= 5000
    assert re.search(r"long texts: chunks \(chosen by auto\); \d of 21 training texts \(\d+%\) are longer than the "
                     r"128-token window", printed)  # 21: train.csv less the validation split train carved
    method = Method.load(out)
    assert method.long_texts_ == metrics["long_texts"] and method.long_texts_["longer"] >= 2
    assert len(windows(tokenizer, [document], 128, "chunks").ids) > 40
    proba = method.predict_proba([document, "alpha beta"])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(1), 1)

    with TestClient(create_app(ServeSettings(str(out), backend="torch", max_chars=100_000))) as client:
        response = client.post("/predict", json={"texts": [document, "alpha beta"]})
    assert response.status_code == 200
    served = [list(p["probabilities"].values()) for p in response.json()["predictions"]]
    np.testing.assert_allclose(served, proba, rtol=1e-4, atol=1e-6)

    meta = export_onnx(out, sample_texts=[document, "alpha beta"])
    assert (meta["long_texts"], meta["aggregation"], meta["max_length"]) == ("chunks", "mean", 128)
    assert meta["files"]["model.onnx"]["parity"]["max_abs_diff"] < 1e-4
    np.testing.assert_allclose(OnnxClassifier.load(out).predict_proba([document, "alpha beta"]), proba, atol=1e-4)
    np.testing.assert_allclose(load_predictor(out, "onnx").predict_proba([document]), proba[:1], atol=1e-4)


def test_compare_reports_lengths_and_what_each_transformer_method_does_with_them():
    from tunetext.compare.lengths import length_table
    from tunetext.compare.plan import Cell

    cells = [Cell("tfidf-svm", None, 0, "d"), Cell("probe", None, 0, "d", {"max_length": 32}),
             Cell("probe", 16, 0, "d", {"max_length": 32}), Cell("finetune", None, 0, "d", {"long_texts": "head_tail"})]
    texts = [words(5)] * 7 + [words(100)] * 3
    (header, body), summary = length_table(cells, texts)
    assert [row[0] for row in body] == ["probe", "finetune"] and "median tokens" in header
    assert body[0][1] == "32" and body[0][5] == "3 (30%)" and body[0][6] == "chunks (auto)"
    assert body[1][6] == "head_tail" and summary["text_lengths"]["probe"]["longer"] == 3
    assert length_table(cells[:1], texts) is None
