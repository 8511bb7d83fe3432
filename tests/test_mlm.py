"""Domain-adaptive masked-LM: BERT masking, the fresh head tied to the embeddings, the adapted encoder folder."""

from pathlib import Path

import pytest
import torch

from tunetext.encoders import load_encoder, load_tokenizer
from tunetext.errors import ConfigError
from tunetext.training.mlm import AdaptConfig, MaskedLM, adapt_mlm, adapted_encoder

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "<user> loves the debate <url>"] * 12


@pytest.fixture
def tiny(tiny_bert_path):
    return load_tokenizer(tiny_bert_path), load_encoder(tiny_bert_path)


def test_masking_picks_about_15_percent_of_real_tokens_and_never_special_ones(tiny):
    tokenizer, encoder = tiny
    model = MaskedLM(encoder, special_ids=tokenizer.all_special_ids, mask_id=tokenizer.mask_token_id)
    ids = torch.tensor(tokenizer(["the cat sat on the mat and the dog ran"] * 400, padding=True)["input_ids"])
    torch.manual_seed(0)
    inputs, targets = model.mask(ids)
    chosen = targets >= 0
    special = torch.isin(ids, torch.tensor(tokenizer.all_special_ids))
    assert not (chosen & special).any()
    assert 0.13 < chosen.sum() / (~special).sum() < 0.17
    torch.testing.assert_close(targets[chosen], ids[chosen])
    replaced_by_mask = (inputs[chosen] == tokenizer.mask_token_id).float().mean()
    assert 0.75 < replaced_by_mask < 0.85  # 80% [MASK], the rest random or kept
    assert torch.equal(inputs[~chosen], ids[~chosen])


def test_the_decoder_is_tied_to_the_word_embeddings(tiny):
    tokenizer, encoder = tiny
    model = MaskedLM(encoder, special_ids=tokenizer.all_special_ids, mask_id=tokenizer.mask_token_id)
    batch = tokenizer(TEXTS[:3], padding=True, return_tensors="pt")
    model(batch["input_ids"], batch["attention_mask"]).backward()
    assert encoder.get_input_embeddings().weight.grad is not None
    assert "decoder" not in dict(model.named_parameters())  # no separate output matrix


def test_mlm_adaptation_lowers_the_masked_lm_loss(tiny):
    tokenizer, encoder = tiny
    config = AdaptConfig(mlm_steps=30, mlm_lr=3e-3, mlm_batch_size=12)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")

    def loss_with(head) -> float:
        torch.manual_seed(1)  # the same masks before and after
        with torch.no_grad():
            return head(batch["input_ids"], batch["attention_mask"]).item()

    torch.manual_seed(0)
    probe = MaskedLM(encoder, special_ids=tokenizer.all_special_ids, mask_id=tokenizer.mask_token_id).eval()
    start = loss_with(probe)
    adapt_mlm(encoder, tokenizer, TEXTS, config, seed=0)
    assert any(not torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    assert loss_with(probe) < start  # the encoder now predicts masked words better, even under an untrained head


def test_adapted_encoder_is_the_original_folder_when_nothing_is_asked(tiny_bert_path):
    with adapted_encoder(tiny_bert_path, TEXTS, AdaptConfig()) as path:
        assert path == tiny_bert_path


def test_adapted_encoder_adds_placeholders_and_reads_an_mlm_file(tiny_bert_path, tmp_path):
    corpus = tmp_path / "unlabeled.txt"
    corpus.write_text("\n".join(["@amy won the debate https://t.co/x", "#ImWithHer rally tonight"] * 10))
    config = AdaptConfig(domain_tokens=True, mlm_steps=2, texts_path=str(corpus), preprocess="tweet")
    with adapted_encoder(tiny_bert_path, TEXTS, config) as path:
        tokenizer = load_tokenizer(path)
        assert tokenizer.tokenize("<user> at <url>") == ["<user>", "at", "<url>"]
        assert load_encoder(path).get_input_embeddings().num_embeddings == len(tokenizer)
    assert not Path(path).exists()  # the adapted copy lives only while fine-tuning reads it


@pytest.mark.parametrize("params, message", [
    (dict(mlm_steps=-1), "adapt_mlm_steps=-1 must be an int >= 0"),
    (dict(texts_path="x.txt"), "only read for MLM adaptation; set adapt_mlm_steps > 0"),
])
def test_bad_adaptation_settings_say_how_to_fix_them(params, message):
    with pytest.raises(ConfigError, match=message):
        AdaptConfig(**params)
