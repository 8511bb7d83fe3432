"""The feature cache: a text is encoded once per feature space, whatever subset or order asks for it."""

import numpy as np
import pytest

from tunetext import encoders, features
from tunetext.errors import ConfigError

TEXTS = ["What is the capital of France?", "How many legs does a spider have?", "Who wrote Hamlet?"]
MORE = ["Why is the sky blue?", "When did the war end?"]


@pytest.fixture
def encoded(monkeypatch, tmp_path):
    """Point the cache at `tmp_path` and record the texts of every call to the encoder."""
    monkeypatch.setenv("TUNETEXT_CACHE", str(tmp_path))
    calls = []
    real_embed = encoders.embed

    def counting_embed(encoder, tokenizer, texts, **kwargs):
        calls.append(list(texts))
        return real_embed(encoder, tokenizer, texts, **kwargs)

    monkeypatch.setattr(encoders, "embed", counting_embed)
    return calls


def test_second_encode_is_a_cache_hit_with_identical_features(encoded):
    first = features.encode(TEXTS, max_length=32)
    second = features.encode(TEXTS, max_length=32)
    assert encoded == [TEXTS]
    assert first.shape == (3, 384) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)


def test_subsets_reorderings_and_repeats_are_cache_hits(encoded):
    full = features.encode(TEXTS, max_length=32)
    picked = [TEXTS[2], TEXTS[0], TEXTS[2]]
    np.testing.assert_array_equal(features.encode(picked, max_length=32), full[[2, 0, 2]])
    assert len(encoded) == 1


def test_only_new_texts_reach_the_encoder_once_each(encoded):
    features.encode(TEXTS, max_length=32)
    features.encode(TEXTS + MORE + MORE, max_length=32)
    assert sorted(encoded[1]) == sorted(MORE)


def test_cached_features_match_uncached_ones(encoded, tmp_path):
    cached = features.encode(TEXTS + MORE, max_length=32)
    fresh = features.encode(TEXTS + MORE, max_length=32, cache=False)
    np.testing.assert_allclose(cached, fresh, atol=1e-5)
    # cache=False neither reads nor writes: one shard from the first call only
    assert len(list((tmp_path / "features").rglob("*.keys.npy"))) == 1


def test_each_setting_is_its_own_feature_space(encoded):
    mean = features.encode(TEXTS, max_length=32)
    assert not np.allclose(features.encode(TEXTS, max_length=32, pooling="cls"), mean)
    layers = features.encode(TEXTS, max_length=32, all_layers=True)
    assert layers.shape == (3, 7, 384)  # embeddings + 6 layers
    np.testing.assert_allclose(layers[:, -1], mean, atol=1e-5)
    features.encode(TEXTS, max_length=16)
    assert len(encoded) == 4
    np.testing.assert_array_equal(features.encode(TEXTS, max_length=32, all_layers=True), layers)
    assert len(encoded) == 4


def test_pairs_are_keyed_apart_from_strings(encoded):
    pair = ("Who wrote Hamlet?", "Shakespeare")
    assert features.text_key(pair) != features.text_key("Who wrote Hamlet? Shakespeare")
    assert features.text_key(pair) != features.text_key(pair[::-1])
    out = features.encode([pair, pair[0]], max_length=32)
    assert not np.allclose(out[0], out[1])


def test_unknown_pooling_says_what_is_valid():
    with pytest.raises(ConfigError, match="unknown pooling 'max'; use one of: mean, cls"):
        features.encode(TEXTS, pooling="max")


def test_model_fingerprint_follows_content(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 10)
    before = features.model_fingerprint(str(tmp_path))
    assert features.model_fingerprint(str(tmp_path)) == before
    (tmp_path / "weights.bin").write_bytes(b"\x01" * 10)
    assert features.model_fingerprint(str(tmp_path)) != before


def test_cache_root_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TUNETEXT_CACHE", str(tmp_path))
    assert features.cache_root() == tmp_path
    monkeypatch.delenv("TUNETEXT_CACHE")
    assert features.cache_root().parts[-2:] == (".cache", "tunetext")


def test_cached_features_are_charged_at_their_first_encoding_cost(encoded, monkeypatch):
    """A warm cache must not make a frozen-encoder method look cheaper to train than its first run."""
    from types import SimpleNamespace

    from tunetext.evaluation.cost import ReusedWork
    from tunetext.methods import make_method

    clock = SimpleNamespace(now=0.0)  # the feature cache's clock, advanced by 0.3 s per encoding: no wall time

    def slow_embed(*args, counting_embed=encoders.embed, **kwargs):
        clock.now += 0.3
        return counting_embed(*args, **kwargs)

    monkeypatch.setattr(features, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    monkeypatch.setattr(encoders, "embed", slow_embed)
    with ReusedWork() as cold:
        features.encode(TEXTS, max_length=32)
    with ReusedWork() as warm:
        features.encode(TEXTS + TEXTS[:1], max_length=32)  # a repeat is encoded once, so charged once
    assert cold.seconds == 0 and warm.seconds >= 0.3 and len(encoded) == 1  # at least what it first cost
    texts, labels = TEXTS + MORE, ["a", "b", "a", "b", "a"]
    make_method("probe", max_length=32).fit(texts, labels)  # encodes MORE
    warm_fit = make_method("probe", max_length=32).fit(texts, labels)  # all cached
    assert len(encoded) == 2 and warm_fit.train_seconds_ >= 0.6  # both encodings' cost, charged


def test_each_keys_file_is_read_once_and_a_cleared_cache_is_noticed(encoded, monkeypatch, tmp_path):
    """Lookups use an in-memory index of the (immutable) shards instead of rereading every keys file per call."""
    import shutil

    features.encode(TEXTS, max_length=32)
    features.encode(MORE, max_length=32)
    loaded = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda file, *a, **k: loaded.append(str(file)) or real_load(file, *a, **k))
    np.testing.assert_array_equal(features.encode(TEXTS + MORE, max_length=32)[3:],
                                  features.encode(MORE, max_length=32))
    assert len(encoded) == 2 and not [name for name in loaded if name.endswith(".keys.npy")]
    shutil.rmtree(tmp_path / "features")
    features.encode(TEXTS, max_length=32)
    assert encoded[-1] == TEXTS  # encoded afresh, not served from the forgotten shards
