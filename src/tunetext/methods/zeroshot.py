"""Zero-shot classification: the text's embedding against embeddings of label descriptions.

No labeled example is used: `fit` only records the classes and embeds their descriptions. A
sentence-embedding encoder (the bundled MiniLM) puts a text near a short phrase naming its topic,
so readable label names (`sci.space` → "science space") are most of the work.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.special import softmax

from tunetext import encoders, features
from tunetext.data.dataset import LabeledTexts, Text
from tunetext.errors import ConfigError
from tunetext.methods.base import Method
from tunetext.methods.long_texts import ReadsLongTexts
from tunetext.methods.registry import register

_STATE_FILE = "zeroshot.npz"

ABBREVIATIONS = {
    # TREC question types, CoNLL entity tags, 20 Newsgroups prefixes, sentiment shorthands.
    "abbr": "abbreviation", "desc": "description", "enty": "entity", "hum": "person", "loc": "location",
    "num": "number", "per": "person", "org": "organization", "misc": "miscellaneous", "comp": "computer",
    "sci": "science", "rec": "recreation", "soc": "society", "talk": "discussion", "med": "medicine",
    "crypt": "cryptography", "os": "operating system", "sys": "system", "tech": "technology",
    "pos": "positive", "neg": "negative", "neu": "neutral",
}  # fmt: skip


def readable_label(name: str) -> str:
    """A label name as words: "sci.space" → "science space", "realDonaldTrump" → "real donald trump"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    words = re.split(r"[\s._\-/:]+", spaced.lower())
    return " ".join(ABBREVIATIONS.get(word, word) for word in words if word)


@register("zeroshot")
class ZeroShot(ReadsLongTexts, Method):
    """Probabilities = softmax(cosine(text, label) / `temperature`).

    A label is embedded as the mean of its description filled into each of `templates` (e.g.
    "a question about {}"). Descriptions come from `label_descriptions` ({label: text}) where given,
    else from `readable_label`. The defaults were chosen on training splits (never test): the
    template beat the bare name on 3 of 4 datasets, and 256 tokens (MiniLM's training length)
    reads more of long articles than 128. `cache` is as in `probe`.

    Parameters
    ----------
    model
        The encoder: 'minilm' (bundled) or a local Hugging Face model folder.
    templates
        Sentences with a {} the label's description fills; a label is their mean embedding.
    label_descriptions
        {label: text} used instead of the readable label name; None for all names.
    temperature
        Softmax temperature over the cosine similarities.
    max_length
        Tokens per encoder window.
    long_texts
        A text longer than the window: 'truncate', 'head_tail', 'chunks' (embeddings averaged) or 'auto'
        (chunks when over 10% of the texts fit sees are longer).
    batch_size
        Texts per encoder forward pass.
    cache
        Read and write the feature cache; False for texts that will not recur.
    """

    family = "pretrained"
    learns_from_labels = False

    def __init__(
        self,
        *,
        model: str = "minilm",
        templates: Sequence[str] = ("this is about {}",),
        label_descriptions: dict[str, str] | None = None,
        temperature: float = 0.05,
        max_length: int = 256,
        batch_size: int = 128,
        cache: bool = True,
        long_texts: str = "auto",
    ) -> None:
        self.model = model
        self.templates = templates
        self.label_descriptions = label_descriptions
        self.temperature = temperature
        self.max_length = max_length
        self.batch_size = batch_size
        self.cache = cache
        self.long_texts = long_texts

    def _check_params(self) -> None:
        encoders.check_long_texts(self.long_texts)

    def _embed(self, texts: list[Text], long_texts: str | None = None) -> np.ndarray:
        """Unit-length mean-pooled embeddings, so a dot product is the cosine."""
        x = features.encode(
            texts, model=self.model, max_length=self.max_length, batch_size=self.batch_size, cache=self.cache,
            long_texts=long_texts or self.long_text_strategy,
        )
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    def label_texts(self) -> list[list[str]]:
        """The phrases embedded for each class, in `classes_` order."""
        descriptions = dict(self.label_descriptions or {})
        unknown = sorted(set(descriptions) - set(self.classes_))
        if unknown:
            raise ConfigError(
                f"label_descriptions has labels {unknown} that are not classes of the data; "
                f"the classes are: {', '.join(self.classes_)}."
            )
        templates = list(self.templates)
        if not templates or any("{}" not in template for template in templates):
            raise ConfigError(f"templates must be a non-empty list of strings with a '{{}}' slot; got {templates!r}.")
        return [
            [template.format(descriptions.get(label, readable_label(label))) for template in templates]
            for label in self.classes_
        ]

    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be > 0; got {self.temperature}.")
        self.long_texts_ = features.resolve_long_texts(texts, model=self.model, max_length=self.max_length,
                                                       long_texts=self.long_texts)
        phrases = self.label_texts()
        flat = self._embed([phrase for group in phrases for phrase in group], "truncate")  # short phrases
        centroids = flat.reshape(len(phrases), len(self.templates), -1).mean(axis=1)
        self.label_embeddings_ = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        return softmax(self._embed(texts) @ self.label_embeddings_.T / self.temperature, axis=1)

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / _STATE_FILE, label_embeddings=self.label_embeddings_)

    def _load_state(self, directory: Path) -> None:
        self._restore_long_texts(directory)
        with np.load(directory / _STATE_FILE) as state:
            self.label_embeddings_ = state["label_embeddings"]
