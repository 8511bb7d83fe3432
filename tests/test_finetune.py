"""Plumbing on a tiny random BERT (fast); one learning test on a real slice with MiniLM (slow)."""

import numpy as np
import pytest
import torch

from tunetext.errors import ConfigError
from tunetext.methods import Method, make_method

WORDS = {"pos": "good great fine nice happy", "neg": "bad awful poor sad ugly"}


def toy_data(n: int = 64, seed: int = 0):
    """Two classes told apart by their words; lengths vary so batches pad differently."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = rng.choice(WORDS[label].split(), size=rng.integers(2, 12))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def tiny(path, **params):
    defaults = dict(model=path, epochs=2, min_steps=0, batch_size=8, lr=1e-3, precision="fp32")
    return make_method(params.pop("method", "finetune"), **{**defaults, **params})


def test_fit_predict_contract(tiny_bert_path):
    texts, labels = toy_data()
    method = tiny(tiny_bert_path).fit(texts, labels)
    proba = method.predict_proba(texts[:10])
    assert proba.dtype == np.float32 and proba.shape == (10, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert list(method.classes_) == ["neg", "pos"]
    assert method.max_length_ % 8 == 0 and method.steps_ == 16


def test_saved_folder_loads_in_plain_transformers_with_equal_probabilities(tiny_bert_path, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts, labels = toy_data()
    method = tiny(tiny_bert_path).fit(texts, labels)
    method.save(tmp_path / "model")

    hf = AutoModelForSequenceClassification.from_pretrained(tmp_path / "model").eval()
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "model")
    assert hf.config.id2label == {0: "neg", 1: "pos"} and hf.config.label2id == {"neg": 0, "pos": 1}
    with torch.inference_mode():
        batch = tokenizer(texts, padding=True, truncation=True, max_length=method.max_length_, return_tensors="pt")
        hf_proba = torch.softmax(hf(**batch).logits, dim=1).numpy()
    np.testing.assert_allclose(method.predict_proba(texts), hf_proba, atol=1e-5)
    np.testing.assert_array_equal(Method.load(tmp_path / "model").predict_proba(texts), method.predict_proba(texts))


def test_mean_pooling_round_trips_through_save_and_load(tiny_bert_path, tmp_path):
    texts, labels = toy_data()
    method = tiny(tiny_bert_path, pooling="mean", class_weight="balanced", label_smoothing=0.1).fit(texts, labels)
    method.save(tmp_path / "model")
    loaded = Method.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(texts), method.predict_proba(texts))


def test_same_seed_same_model_other_seed_other_model(tiny_bert_path):
    texts, labels = toy_data()
    first = tiny(tiny_bert_path, seed=3).fit(texts, labels).predict_proba(texts)
    again = tiny(tiny_bert_path, seed=3).fit(texts, labels).predict_proba(texts)
    other = tiny(tiny_bert_path, seed=4).fit(texts, labels).predict_proba(texts)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_partial_finetune_keeps_embeddings_and_lower_layers_bit_identical(tiny_bert_path):
    from transformers import BertModel

    texts, labels = toy_data()
    method = tiny(tiny_bert_path, method="finetune-partial").fit(texts, labels)
    before = BertModel.from_pretrained(tiny_bert_path).state_dict()
    after = method.model_.hf.bert.state_dict()
    frozen = [k for k in before if k.startswith(("embeddings.", "encoder.layer.0."))]
    trained = [k for k in before if k.startswith("encoder.layer.1.")]
    assert frozen and trained
    assert all(torch.equal(before[k], after[k]) for k in frozen)
    assert not any(torch.equal(before[k], after[k]) for k in trained if k.endswith("weight"))


def test_head_only_training_changes_nothing_but_pooler_and_classifier(tiny_bert_path):
    from transformers import BertModel

    texts, labels = toy_data()
    method = tiny(tiny_bert_path, freeze_layers="all").fit(texts, labels)
    before = BertModel.from_pretrained(tiny_bert_path).state_dict()
    after = method.model_.hf.bert.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if not k.startswith("pooler."))


def test_validation_keeps_the_best_weights_and_logs_json_lines(tiny_bert_path, tmp_path):
    import json

    texts, labels = toy_data(80)
    method = tiny(tiny_bert_path, validation_fraction=0.2, eval_every=2, epochs=3,
                  log_path=str(tmp_path / "log.jsonl")).fit(texts, labels)
    scores = [h["accuracy"] for h in method.history_]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    assert method.best_step_ == method.history_[best]["step"]
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert {"step", "loss", "lr", "grad_norm", "samples_per_s"} <= set(records[0])
    assert sum("eval" in r for r in records) == len(method.history_)


def test_encoder_dropout_is_set_and_the_head_keeps_its_own(tiny_bert_path):
    texts, labels = toy_data(16)
    rates = lambda module: {m.p for m in module.modules() if isinstance(m, torch.nn.Dropout)}  # noqa: E731
    default = tiny(tiny_bert_path).fit(texts, labels).model_
    assert rates(default.encoder) == {0.0} and rates(default.hf.dropout) == {0.1}
    own = tiny(tiny_bert_path, dropout=None).fit(texts, labels).model_
    assert rates(own.encoder) == {0.1}  # the model config's hidden and attention dropout


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lr": 0}, r"lr=0 must be > 0"),
        ({"warmup": 1.5}, r"warmup=1.5: a float is a ratio of training, in \[0, 1\)"),
        ({"schedule": "step"}, r"unknown lr schedule 'step'; choose one of"),
        ({"freeze_layers": 7}, r"freeze_layers=7 but the encoder has only 2 layers"),
        ({"metric": "auc"}, r"metric='auc'; choose one of: accuracy, "),
        ({"resume": True}, r"resume=True needs checkpoint_dir"),
        ({"pooling": "max"}, r"pooling='max'; use 'cls'"),
        ({"class_weight": {"pos": 2.0}}, r"class_weight has no weight for \['neg'\]"),
        ({"max_length": 4}, r"max_length=4 must be between 8 and"),
        ({"dropout": 1.0}, r"dropout=1.0 must be in \[0, 1\), or None for the model's own"),
    ],
)
def test_bad_settings_fail_with_the_value_and_the_fix(tiny_bert_path, params, message):
    texts, labels = toy_data(16)
    with pytest.raises(ConfigError, match=message):
        tiny(tiny_bert_path, **params).fit(texts, labels)


@pytest.mark.parametrize("params", [
    {"pooling": "max"}, {"lr": 0}, {"metric": "auc"}, {"max_length": 4}, {"dropout": 1.0}, {"label_smoothing": 1},
    {"validation_fraction": 1.0}, {"class_weight": "even"}, {"resume": True}, {"adapt_texts": "more.txt"},
    {"model": "no-such-folder"},
])
def test_bad_settings_fail_before_any_work(tiny_bert_path, monkeypatch, params):
    """Checked by fit's first step: no encoder is loaded or adapted (MLM) before a typo is reported."""
    def no_work(*args, **kwargs):
        raise AssertionError("the encoder was loaded before the settings were checked")

    monkeypatch.setattr("tunetext.methods.finetune.adapted_encoder", no_work)
    with pytest.raises(ConfigError, match=f"{next(iter(params))}="):
        tiny(tiny_bert_path, adapt_mlm_steps=5, **params).fit(*toy_data(16))


def test_finetune_partial_changes_one_default_and_none_means_it(tiny_bert_path):
    from sklearn.base import clone

    partial = make_method("finetune-partial", lr=3e-4)
    assert partial.get_params()["freeze_layers"] == "half" and make_method("finetune").freeze_layers == 0
    assert clone(partial).get_params() == partial.get_params()
    assert partial.set_params(freeze_layers=None)._optim_config().freeze_layers == "half"
    assert make_method("finetune", domain_tokens=True)._optim_config().freeze_embeddings is False


@pytest.mark.slow
def test_minilm_learns_trec6_from_a_small_slice(real_slice):
    train, test = real_slice("trec6", "train"), real_slice("trec6", "test")
    method = make_method("finetune", seed=0).fit(train.texts, train.labels)
    accuracy = float((method.predict(test.texts) == np.array(test.labels, dtype=object)).mean())
    # 600 examples, default settings. Floor set from the full-data figures (~0.95), with room for the small slice.
    assert accuracy >= 0.80
