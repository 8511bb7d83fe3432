"""Shared fixtures. Append yours in your own section."""

from pathlib import Path

import pandas as pd
import pytest

from tunetext.cli import configure_environment
from tunetext.data.dataset import LabeledTexts

# Tests run in the process settings of the `tunetext` command (offline, passive OpenMP waits: ~10x faster on
# 2 shared cores), which importing the library no longer sets; before any test module imports torch.
configure_environment()

DATA_DIR = Path(__file__).parent / "data"


# ---- frozen-encoder methods (probe, zeroshot, pretrained-head) -----------------------------------
@pytest.fixture(scope="session")
def real_slice():
    """`real_slice("trec6", "train", 300)`: the first `n` rows of a tests/data slice (rows are shuffled)."""

    def load(name: str, split: str, n: int | None = None) -> LabeledTexts:
        frame = pd.read_csv(DATA_DIR / f"{name}-{split}.csv", dtype=str, keep_default_na=False).head(n)
        return LabeledTexts(frame["text"].tolist(), frame["label"].tolist(), f"{name}-{split}")

    return load


@pytest.fixture(scope="session")
def _session_feature_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("tunetext-cache")


@pytest.fixture
def feature_cache(monkeypatch, _session_feature_cache):
    """One feature cache for the whole session, so each real slice is encoded only once."""
    monkeypatch.setenv("TUNETEXT_CACHE", str(_session_feature_cache))
    return _session_feature_cache


# ---- fine-tuning (tiny random BERT for plumbing) --------------------------------------------------
@pytest.fixture(scope="session")
def tiny_bert_path(tmp_path_factory) -> str:
    """A randomly initialised 2-layer BERT (hidden 32) with the bundled MiniLM tokenizer, saved to a folder."""
    import torch
    from transformers import BertConfig, BertModel

    from tunetext.encoders import load_tokenizer, resolve_model_path

    tokenizer = load_tokenizer(resolve_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


# ---- MPNet plumbing and compare across encoders (issue 14) ------------------------------------------
@pytest.fixture(scope="session")
def tiny_mpnet_path(tmp_path_factory) -> str:
    """A randomly initialised 2-layer MPNet (hidden 32) with all-mpnet-base-v2's vocabulary layout.

    That vocabulary is BERT's uncased one with <s> <pad> </s> <unk> in front and <mask> at the end, so it is
    built from the bundled MiniLM vocabulary: the same ids as the real model's tokenizer, nothing downloaded.
    """
    import json

    import torch
    from transformers import MPNetConfig, MPNetModel

    from tunetext.encoders import load_tokenizer, resolve_model_path

    path = tmp_path_factory.mktemp("tiny-mpnet")
    bert_vocab = (Path(resolve_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    words = ["<s>", "<pad>", "</s>", "<unk>", *bert_vocab, "<mask>"]
    (path / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    (path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "MPNetTokenizer", "do_lower_case": True,
                                                            "model_max_length": 512}))
    config = MPNetConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=130, pad_token_id=1)
    torch.manual_seed(0)
    MPNetModel(config).save_pretrained(path)
    load_tokenizer(str(path)).save_pretrained(path)  # tokenizer.json, as the real folder has
    return str(path)
