"""Augmentation: only adds labeled copies, is seeded, and uses the encoder's own vocabulary offline."""

import pytest

from tunetext.augment import EDA, augment
from tunetext.data.dataset import LabeledTexts
from tunetext.errors import ConfigError


@pytest.fixture(scope="module")
def eda():
    return EDA().fit([])


def test_synonyms_are_embedding_neighbours_among_whole_words(eda):
    assert "film" in eda.vocabulary_.neighbours("movie", 5)
    assert all(word.isalpha() and "##" not in word for word in eda.vocabulary_.neighbours("city", 20))
    assert "the" not in eda.vocabulary_ and eda.vocabulary_.neighbours("barnstorming", 5) == ()


def test_augment_appends_ratio_times_labeled_copies_deterministically(real_slice, eda):
    data = real_slice("trec6", "train", 32)
    out = augment(data, eda, 2.5, seed=1)
    assert out.texts[:32] == data.texts and out.labels[:32] == data.labels and len(out) == 32 + 80
    assert out.texts == augment(data, eda, 2.5, seed=1).texts != augment(data, eda, 2.5, seed=2).texts
    originals = dict(zip(data.texts, data.labels))
    assert sum(text not in originals for text in out.texts[32:]) > 60  # most copies really changed


def test_contextual_replacement_trains_a_head_when_the_encoder_has_none(tiny_bert_path):
    data = LabeledTexts(["the movie was good fun", "a dull and boring film", "what a great cast", "bad acting"],
                        ["pos", "neg", "pos", "neg"])
    out = augment(data, "mlm", 1.0, seed=0, model=tiny_bert_path, mlm_steps=2, alpha=0.5)
    assert out.labels[4:] and len(out) == 8
    # Each text copied once, words replaced one for one by whole vocabulary words.
    assert sorted(len(t.split()) for t in out.texts[4:]) == sorted(len(t.split()) for t in data.texts)
    mlm = out.texts[4:]
    assert all(word.isalpha() for text in mlm for word in text.split())
    assert set(mlm) != set(data.texts)


def test_a_folder_with_an_mlm_head_is_used_as_is(tiny_bert_path, tmp_path):
    from transformers import BertConfig, BertForMaskedLM

    from tunetext.augment.contextual import _pretrained_head
    from tunetext.encoders import load_tokenizer

    assert _pretrained_head(tiny_bert_path) is None  # encoder weights only: the head would be random
    BertForMaskedLM(BertConfig.from_pretrained(tiny_bert_path)).save_pretrained(tmp_path)
    load_tokenizer(tiny_bert_path).save_pretrained(tmp_path)
    assert _pretrained_head(str(tmp_path)) is not None


def test_errors_say_what_to_do(eda):
    data = LabeledTexts(["a b", "c d"], ["x", "y"])
    with pytest.raises(ConfigError, match="unknown augmentation 'back'; choose one of: eda, mlm"):
        augment(data, "back")
    with pytest.raises(ConfigError, match="ratio=0 must be > 0"):
        augment(data, eda, 0)
    with pytest.raises(ConfigError, match="text pairs. Train without augmentation"):
        augment(LabeledTexts([("a", "b"), ("c", "d")], ["x", "y"]), eda)


def test_cli_train_augments_the_training_split_only(tmp_path):
    import json

    from typer.testing import CliRunner

    from tunetext.cli import app
    from tunetext.cli import commands  # noqa: F401  (registers the commands)

    args = ["train", "-d", "tests/data/trec6-train.csv", "-m", "tfidf-nb"]
    plain = CliRunner().invoke(app, args + ["-o", str(tmp_path / "plain")])
    result = CliRunner().invoke(app, args + ["-o", str(tmp_path / "eda"), "--augment", "eda", "--augment-ratio", "2"])
    assert plain.exit_code == 0 and result.exit_code == 0, result.output
    plain, augmented = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("plain", "eda"))
    assert augmented["n_train"] == 3 * plain["n_train"] and augmented["n"] == plain["n"]
