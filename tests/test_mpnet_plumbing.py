"""Every encoder method on a tiny random MPNet: no token-type ids, <s>/</s>/<pad>=1 special tokens, no SDPA."""

import numpy as np
import pytest

from tunetext.data import LabeledTexts
from tunetext.encoders import load_encoder, load_tokenizer
from tunetext.methods import Method, list_methods, make_method
from tunetext.methods.multitask import pool_tasks

# multitask learns from pooled 'task:label' labels: its own test below.
ENCODER_METHODS = [name for name in list_methods() if "model" in make_method(name).get_params() and name != "multitask"]


@pytest.fixture(scope="module")
def trec(real_slice):
    return real_slice("trec6", "train", 120), real_slice("trec6", "test", 40)


def test_the_tiny_mpnet_tokenizes_like_all_mpnet_base_v2(tiny_mpnet_path):
    tokenizer = load_tokenizer(tiny_mpnet_path)
    assert tokenizer.model_input_names == ["input_ids", "attention_mask"]  # no token-type ids
    assert (tokenizer.cls_token_id, tokenizer.pad_token_id, tokenizer.sep_token_id) == (0, 1, 2)
    assert tokenizer("hello world", "second")["input_ids"] == [0, 7596, 2092, 2, 2, 2121, 2]  # the real model's ids
    assert type(load_encoder(tiny_mpnet_path)).__name__ == "MPNetModel"


@pytest.mark.parametrize("name", ENCODER_METHODS)
def test_encoder_method_fits_predicts_saves_and_loads_with_mpnet(name, trec, tiny_mpnet_path, tmp_path, feature_cache):
    train, test = trec
    params = make_method(name).get_params()
    fast = {"model": tiny_mpnet_path, "epochs": 1, "min_steps": 0, "max_length": 32, "batch_size": 16,
            "precision": "fp32"}
    method = make_method(name, **{key: value for key, value in fast.items() if key in params})
    method.fit(train.texts, train.labels)
    proba = method.predict_proba(test.texts)
    assert proba.dtype == np.float32 and proba.shape == (len(test), len(method.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert method.predict_proba([""]).shape == (1, len(method.classes_))
    reloaded = Method.load(method.save(tmp_path / name))
    np.testing.assert_allclose(reloaded.predict_proba(test.texts), proba, atol=1e-6)

    if method.exports_onnx:
        pytest.importorskip("onnxruntime")
        from tunetext.export import OnnxClassifier, export_onnx

        meta = export_onnx(tmp_path / name)
        parity = meta["files"]["model.onnx"]["parity"]
        assert parity["max_abs_diff"] < 1e-4 and parity["label_agreement"] == 1.0
        onnx_proba = OnnxClassifier.load(tmp_path / name).predict_proba(test.texts)
        np.testing.assert_allclose(onnx_proba, proba, atol=1e-4)


def test_multitask_shares_one_mpnet_between_tasks(trec, tiny_mpnet_path, tmp_path):
    sentiment = LabeledTexts(["good fine film", "bad awful film"] * 12, ["pos", "neg"] * 12)
    pooled = pool_tasks({"sent": sentiment, "q": trec[0]})
    model = make_method("multitask", model=tiny_mpnet_path, epochs=1, batch_size=16, max_length=32, precision="fp32",
                        task="q").fit(pooled.texts, pooled.labels)
    proba = model.predict_proba(trec[1].texts)
    assert model.tasks_ == ["q", "sent"] and proba.shape == (len(trec[1]), len(set(trec[0].labels)))
    loaded = Method.load(model.save(tmp_path / "mt")).set_params(task="q")
    np.testing.assert_allclose(loaded.predict_proba(trec[1].texts), proba, atol=1e-6)


def test_mlm_adaptation_augmentation_and_int8_export_with_mpnet(trec, tiny_mpnet_path, tmp_path):
    """The masked-LM head is tunetext's own (MPNet folders ship none), tied to MPNet's word embeddings."""
    pytest.importorskip("onnxruntime")
    from tunetext.augment import augment
    from tunetext.export import export_onnx

    train, _ = trec
    method = make_method("finetune", model=tiny_mpnet_path, epochs=1, min_steps=0, batch_size=16, max_length=32,
                         precision="fp32", adapt_mlm_steps=2).fit(train.texts, train.labels)
    meta = export_onnx(method.save(tmp_path / "m"), quantize="int8")
    assert meta["files"]["model.int8.onnx"]["parity"]["max_abs_diff"] < 0.05
    few = LabeledTexts(train.texts[:20], train.labels[:20])
    augmented = augment(few, "mlm", 1.0, seed=0, model=tiny_mpnet_path, mlm_steps=2)
    assert len(augmented) == 40 and sorted(augmented.labels[20:]) == sorted(few.labels)  # each text copied once
    assert set(augmented.texts[20:]) - set(few.texts)  # words were replaced
