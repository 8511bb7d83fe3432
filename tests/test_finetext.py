"""FineText: the layer attention, the fine-tuned and the frozen variant (plumbing on the tiny random BERT)."""

import numpy as np
import pytest
import torch

from tunetext.methods import Method, make_method
from tunetext.methods.finetext import LayerAttentionHead

TEXTS = ["good great fine", "bad awful poor", "nice happy good day", "sad ugly bad day"] * 8
LABELS = ["pos", "neg", "pos", "neg"] * 8


def test_layer_weights_sum_to_one_and_receive_gradients():
    torch.manual_seed(0)
    head = LayerAttentionHead(hidden=16, num_layers=4, num_classes=3)
    layers = torch.randn(5, 4, 16)
    mixed, weights = head.attend(layers)
    assert mixed.shape == (5, 16) and weights.shape == (5, 4)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(5))
    head(layers).logsumexp(dim=1).sum().backward()
    for name in ("scorer.weight", "scorer.bias", "layer_bias"):
        grad = dict(head.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_attention_follows_the_layer_bias():
    head = LayerAttentionHead(hidden=8, num_layers=3, num_classes=2)
    with torch.no_grad():
        head.scorer.weight.zero_()
        head.layer_bias.copy_(torch.tensor([0.0, 0.0, 20.0]))
    layers = torch.randn(2, 3, 8)
    mixed, weights = head.attend(layers)
    torch.testing.assert_close(mixed, head.norm(layers)[:, 2], atol=1e-6, rtol=0)


def test_finetext_learns_layer_weights_and_round_trips(tiny_bert_path, tmp_path):
    method = make_method("finetext", model=tiny_bert_path, epochs=2, batch_size=8, lr=1e-3, precision="fp32")
    method.fit(TEXTS, LABELS)
    weights = method.layer_weights_
    assert weights.shape == (3,) and abs(weights.sum() - 1) < 1e-5  # embeddings + 2 layers
    assert method.family == "fine-tuned"
    loaded = Method.load(method.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.layer_weights_, weights)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), method.predict_proba(TEXTS))


def test_frozen_finetext_reads_the_feature_cache_and_never_reencodes(tiny_bert_path, feature_cache, monkeypatch, tmp_path):
    from tunetext import encoders

    method = make_method("finetext-frozen", model=tiny_bert_path, epochs=5).fit(TEXTS, LABELS)
    assert method.family == "pretrained"
    np.testing.assert_allclose(method.layer_weights_.sum(), 1, rtol=1e-5)
    proba = method.predict_proba(TEXTS)

    def no_encoding(*args, **kwargs):
        raise AssertionError("re-encoded texts that are in the feature cache")

    monkeypatch.setattr(encoders, "embed", no_encoding)
    again = make_method("finetext-frozen", model=tiny_bert_path, epochs=5).fit(TEXTS, LABELS)
    np.testing.assert_array_equal(again.predict_proba(TEXTS), proba)
    loaded = Method.load(again.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), proba)
    np.testing.assert_array_equal(loaded.layer_weights_, method.layer_weights_)


@pytest.mark.slow
def test_frozen_finetext_learns_trec6_from_a_slice(real_slice, feature_cache):
    train, test = real_slice("trec6", "train"), real_slice("trec6", "test")
    method = make_method("finetext-frozen").fit(train.texts, train.labels)
    accuracy = float((method.predict(test.texts) == np.array(test.labels, dtype=object)).mean())
    assert accuracy >= 0.75
