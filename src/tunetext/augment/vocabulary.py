"""The words an augmenter may touch: whole-word tokens of the encoder's own vocabulary, and their neighbours.

Offline by construction: no WordNet, no download. Synonyms are the nearest neighbours (cosine) in the
encoder's input word-embedding table, restricted to alphabetic whole-word tokens (no `##` pieces, no
stop words). They are related words rather than strict synonyms: `good` → excellent, great, but also bad.
"""

from __future__ import annotations

import re
from functools import lru_cache

import torch
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_WHOLE_WORD = re.compile(r"[a-z]{2,}")


class WordVocabulary:
    """Whole words of a tokenizer's vocabulary with their rows in the encoder's word-embedding table."""

    def __init__(self, tokenizer, embeddings: torch.Tensor) -> None:
        words = sorted((token, i) for token, i in tokenizer.get_vocab().items()
                       if _WHOLE_WORD.fullmatch(token) and token not in ENGLISH_STOP_WORDS)
        self.words = [word for word, _ in words]
        self.token_ids = torch.tensor([i for _, i in words])
        self._index = {word: row for row, word in enumerate(self.words)}
        self._unit = torch.nn.functional.normalize(embeddings.detach().float()[self.token_ids], dim=1)
        self.neighbours = lru_cache(maxsize=None)(self._neighbours)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self._index

    def _neighbours(self, word: str, k: int) -> tuple[str, ...]:
        """The `k` whole words closest to `word` (itself excluded); empty for a word outside the vocabulary."""
        row = self._index.get(word.lower())
        if row is None:
            return ()
        scores = self._unit @ self._unit[row]
        scores[row] = -2.0
        return tuple(self.words[i] for i in scores.topk(k).indices.tolist())


def replaceable(words: list[str], vocabulary: WordVocabulary) -> list[int]:
    """Positions of the words an augmenter may change."""
    return [i for i, word in enumerate(words) if word in vocabulary]
