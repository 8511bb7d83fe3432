"""Contextual replacement (Kobayashi 2018): mask about `alpha` of a text's words and let a masked LM pick
other whole words that fit the context, sampled from its `top_k` guesses.

The masked LM is the encoder's own. A folder that ships an MLM head (a BERT checkpoint) is used as is. The
bundled MiniLM ships none, so `fit` trains a fresh head, together with the encoder, on the texts it is given
(`training.mlm.adapt_mlm`, `mlm_steps` steps): with a few dozen texts that head learns the data's own
vocabulary and little English, which is what "contextual" augmentation can be without a pretrained head.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from tunetext.augment.vocabulary import WordVocabulary, replaceable
from tunetext.encoders import load_encoder, load_tokenizer, pad_batch, quiet_loading, resolve_model_path, tokenize
from tunetext.errors import ConfigError

Logits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(input_ids, attention_mask) -> vocabulary scores at every position."""


class ContextualMLM:
    """Replace words with a masked LM's guesses; trains an MLM head first when the encoder has none."""

    def __init__(self, *, model: str = "minilm", alpha: float = 0.15, top_k: int = 10, mlm_steps: int = 200) -> None:
        self.model = model
        self.alpha = alpha
        self.top_k = top_k
        self.mlm_steps = mlm_steps

    def fit(self, texts: list[str], *, seed: int = 0) -> "ContextualMLM":
        path = resolve_model_path(self.model)
        self.tokenizer_ = load_tokenizer(path)
        if self.tokenizer_.mask_token_id is None:
            raise ConfigError(f"{self.model}'s tokenizer has no mask token: contextual augmentation needs a BERT-style "
                              "masked LM. Use augment='eda'.")
        encoder = load_encoder(path)
        self.vocabulary_ = WordVocabulary(self.tokenizer_, encoder.get_input_embeddings().weight)
        self.logits_ = _pretrained_head(path) or self._trained_head(encoder, texts, seed)
        return self

    def _trained_head(self, encoder, texts: list[str], seed: int) -> Logits:
        from tunetext.training.mlm import AdaptConfig, adapt_mlm

        mlm = adapt_mlm(encoder, self.tokenizer_, texts, AdaptConfig(mlm_steps=self.mlm_steps), seed=seed)
        return lambda ids, mask: mlm.word_logits(mlm.encoder(input_ids=ids, attention_mask=mask).last_hidden_state)

    @torch.inference_mode()
    def __call__(self, texts: list[str], rng: np.random.Generator) -> list[str]:
        out = []
        for start in range(0, len(texts), 64):
            batch = [text.split() for text in texts[start : start + 64]]
            chosen = [self._positions(words, rng) for words in batch]
            masked = [" ".join(self.tokenizer_.mask_token if i in picks else w for i, w in enumerate(words))
                      for words, picks in zip(batch, chosen)]
            inputs = pad_batch(tokenize(self.tokenizer_, masked, 128), self.tokenizer_.pad_token_id)
            scores = self.logits_(inputs["input_ids"], inputs["attention_mask"]).float()
            allowed = torch.full(scores.shape[-1:], -torch.inf)
            allowed[self.vocabulary_.token_ids] = 0.0  # predictions are whole words too
            scores += allowed
            for row, (words, picks) in enumerate(zip(batch, chosen)):
                at = (inputs["input_ids"][row] == self.tokenizer_.mask_token_id).nonzero().flatten()
                for position, score in zip(picks, scores[row, at]):  # truncation may have dropped late masks
                    words[position] = self._sample(score, words[position], rng)
                out.append(" ".join(words))
        return out

    def _positions(self, words: list[str], rng: np.random.Generator) -> list[int]:
        candidates = replaceable(words, self.vocabulary_)
        changes = max(1, round(self.alpha * len(words)))
        return sorted(rng.permutation(candidates)[:changes].tolist())

    def _sample(self, score: torch.Tensor, original: str, rng: np.random.Generator) -> str:
        score = score.clone()
        score[self.tokenizer_.convert_tokens_to_ids(original.lower())] = -torch.inf  # a change, not the same word
        top = score.topk(self.top_k)
        probabilities = torch.softmax(top.values, dim=0).numpy()
        return self.tokenizer_.convert_ids_to_tokens(int(top.indices[rng.choice(self.top_k, p=probabilities)]))


def _pretrained_head(path: str) -> Logits | None:
    """The folder's own MLM head when it ships one complete, else None."""
    from transformers import AutoModelForMaskedLM

    try:
        with quiet_loading():
            model, info = AutoModelForMaskedLM.from_pretrained(path, output_loading_info=True, trust_remote_code=False,
                                                               local_files_only=True)
    except ValueError:  # an architecture without a masked-LM class
        return None
    if info["missing_keys"]:
        return None
    model.eval()
    return lambda ids, mask: model(input_ids=ids, attention_mask=mask).logits
