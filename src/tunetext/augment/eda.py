"""EDA (Wei & Zou 2019): each new text is an old one after synonym replacement, random insertion,
random swap or random deletion, changing about `alpha` of its words (0.1 suits small data in the paper)."""

from __future__ import annotations

import numpy as np

from tunetext.augment.vocabulary import WordVocabulary, replaceable
from tunetext.encoders import load_encoder, load_tokenizer, resolve_model_path


class EDA:
    """Easy data augmentation with synonyms from the encoder's own word embeddings (see `vocabulary`)."""

    def __init__(self, *, model: str = "minilm", alpha: float = 0.1, neighbours: int = 5) -> None:
        self.model = model
        self.alpha = alpha
        self.neighbours = neighbours

    def fit(self, texts: list[str], *, seed: int = 0) -> "EDA":
        """Build the synonym table (the texts and seed play no part: nothing here is learned)."""
        path = resolve_model_path(self.model)
        self.vocabulary_ = WordVocabulary(load_tokenizer(path), load_encoder(path).get_input_embeddings().weight)
        return self

    def __call__(self, texts: list[str], rng: np.random.Generator) -> list[str]:
        operations = (self._replace, self._insert, self._swap, self._delete)
        out = []
        for text in texts:
            words = text.split()
            changes = max(1, round(self.alpha * len(words)))
            out.append(" ".join(operations[rng.integers(len(operations))](words, changes, rng)))
        return out

    def _synonym(self, word: str, rng: np.random.Generator) -> str:
        return str(rng.choice(self.vocabulary_.neighbours(word, self.neighbours)))

    def _replace(self, words: list[str], changes: int, rng: np.random.Generator) -> list[str]:
        words = list(words)
        for i in rng.permutation(replaceable(words, self.vocabulary_))[:changes]:
            words[i] = self._synonym(words[i], rng)
        return words

    def _insert(self, words: list[str], changes: int, rng: np.random.Generator) -> list[str]:
        sources = [words[i] for i in replaceable(words, self.vocabulary_)]
        words = list(words)
        for _ in range(changes if sources else 0):
            words.insert(int(rng.integers(len(words) + 1)), self._synonym(str(rng.choice(sources)), rng))
        return words

    def _swap(self, words: list[str], changes: int, rng: np.random.Generator) -> list[str]:
        words = list(words)
        for _ in range(changes if len(words) > 1 else 0):
            i, j = rng.choice(len(words), size=2, replace=False)
            words[i], words[j] = words[j], words[i]
        return words

    def _delete(self, words: list[str], changes: int, rng: np.random.Generator) -> list[str]:
        kept = [word for word in words if rng.random() >= self.alpha]
        return kept or [words[rng.integers(len(words))]]
