"""Zero-shot classification: the text's embedding against embeddings of label descriptions.

No labeled training example is used: `fit` only records the classes and embeds their descriptions. A
sentence-embedding encoder (the bundled MiniLM) puts a text near a short phrase naming its topic,
so readable label names (`sci.space` → "science space") are most of the work.

Multi-label data: each label's cosine goes through its own sigmoid, so labels are judged independently.
The sigmoid's slope and offset per label are fitted on the validation split (Platt scaling: a one-feature
logistic regression), the only labels zeroshot ever reads; without validation, a fixed mapping.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.special import expit, softmax
from sklearn.linear_model import LogisticRegression

from tunetext import encoders, features
from tunetext.data.dataset import LabeledTexts, Text, indicator
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

MULTILABEL_MIDPOINT = 0.25
"""Without validation, a label's probability is sigmoid((cosine - 0.25) / temperature): 0.5 at cosine 0.25.
Chosen on Reuters Corn/Grain's validation split (never test) with MiniLM and the default template: micro-F1 0.67 at
0.225, 0.64 from 0.25 to 0.30, 0.44 at 0.325 (texts with a label averaged cosine 0.26-0.32, without 0.03-0.04)."""


def readable_label(name: str) -> str:
    """A label name as words: "sci.space" → "science space", "realDonaldTrump" → "real donald trump"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    words = re.split(r"[\s._\-/:]+", spaced.lower())
    return " ".join(ABBREVIATIONS.get(word, word) for word in words if word)


@register("zeroshot")
class ZeroShot(ReadsLongTexts, Method):
    """Probabilities = softmax(cosine(text, label) / `temperature`); multi-label: a sigmoid per label.

    A label is embedded as the mean of its description filled into each of `templates` (e.g.
    "a question about {}"). Descriptions come from `label_descriptions` ({label: text}) where given,
    else from `readable_label`. The defaults were chosen on training splits (never test): the
    template beat the bare name on 3 of 4 datasets, and 256 tokens (MiniLM's training length)
    reads more of long articles than 128. `cache` is as in `probe`. On multi-label data a label's
    probability is sigmoid(a * cosine + b), with (a, b) fitted per label on the validation split when it
    holds texts with and without the label, else a = 1 / `temperature`, b = -`MULTILABEL_MIDPOINT` * a.

    Parameters
    ----------
    model
        The encoder: 'minilm' (bundled) or a local Hugging Face model folder.
    templates
        Sentences with a {} the label's description fills; a label is their mean embedding.
    label_descriptions
        {label: text} used instead of the readable label name; None for all names.
    temperature
        Softmax temperature over the cosine similarities (multi-label without validation: the sigmoid's).
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
    multilabel = True

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
        if self.multilabel_:
            self.sigmoid_ = self._fit_sigmoids(validation)

    def _fit_sigmoids(self, validation: LabeledTexts | None) -> np.ndarray:
        """(2, n_labels): each label's slope and offset on the cosine, Platt-scaled on `validation` where it has
        texts with and without the label (the cosine / temperature is the feature, so C=1 regularises alike
        across temperatures), else the fixed mapping."""
        slope = np.full(len(self.classes_), 1 / self.temperature)
        sigmoid = np.vstack([slope, -MULTILABEL_MIDPOINT * slope])
        if validation is None or len(validation) == 0:
            return sigmoid
        truth = indicator(validation.labels, self.classes_)
        scaled = self._similarity(list(validation.texts)) / self.temperature
        for j, column in enumerate(truth.T):
            if 0 < column.sum() < len(column):
                platt = LogisticRegression(C=1.0).fit(scaled[:, [j]], column)
                sigmoid[:, j] = platt.coef_[0, 0] / self.temperature, platt.intercept_[0]
        return sigmoid

    def _similarity(self, texts: list[Text]) -> np.ndarray:
        return self._embed(texts) @ self.label_embeddings_.T

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        if getattr(self, "multilabel_", False):
            return expit(self._similarity(texts) * self.sigmoid_[0] + self.sigmoid_[1])
        return softmax(self._similarity(texts) / self.temperature, axis=1)

    def _save_state(self, directory: Path) -> None:
        sigmoid = {"sigmoid": self.sigmoid_} if getattr(self, "multilabel_", False) else {}
        np.savez(directory / _STATE_FILE, label_embeddings=self.label_embeddings_, **sigmoid)

    def _load_state(self, directory: Path) -> None:
        self._restore_long_texts(directory)
        with np.load(directory / _STATE_FILE) as state:
            self.label_embeddings_ = state["label_embeddings"]
            if self.multilabel_:
                self.sigmoid_ = state["sigmoid"]
