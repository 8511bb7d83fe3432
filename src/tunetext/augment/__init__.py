"""Training-data augmentation for small data: EDA and contextual (masked-LM) word replacement.

Only ever applied to the training split: validation and test texts stay as they are.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from tunetext.augment.contextual import ContextualMLM
from tunetext.augment.eda import EDA
from tunetext.data.dataset import LabeledTexts
from tunetext.errors import ConfigError

AUGMENTERS = {"eda": EDA, "mlm": ContextualMLM}


class Augmenter(Protocol):
    """Learns what it needs from training texts, then writes one changed copy of each text it is given."""

    def fit(self, texts: list[str], *, seed: int = 0) -> "Augmenter": ...

    def __call__(self, texts: list[str], rng: np.random.Generator) -> list[str]: ...


def augment(data: LabeledTexts, augmenter: str | Augmenter, ratio: float = 1.0, *, seed: int = 0,
            **options) -> LabeledTexts:
    """`data` followed by `round(ratio · len(data))` new examples: changed copies of its texts, with their labels.

    Every text is copied once before any is copied twice. `augmenter` is "eda" or "mlm", built with
    `options` (`model`, `alpha`; `top_k`, `mlm_steps` for "mlm") and fitted on `data`'s texts, or an
    augmenter fitted beforehand (to reuse one masked LM across many training sets).
    """
    if isinstance(augmenter, str) and augmenter not in AUGMENTERS:
        raise ConfigError(f"unknown augmentation {augmenter!r}; choose one of: {', '.join(AUGMENTERS)}.")
    if not ratio > 0:
        raise ConfigError(f"augmentation ratio={ratio!r} must be > 0 (new examples per training example, e.g. 1 or 4).")
    if data.is_pair:
        raise ConfigError("augmentation changes single texts; this data holds text pairs. Train without augmentation.")
    if isinstance(augmenter, str):
        augmenter = AUGMENTERS[augmenter](**options).fit(data.texts, seed=seed)
    rng = np.random.default_rng(seed)
    sources = np.concatenate([rng.permutation(len(data)) for _ in range(math.ceil(ratio))])[: round(ratio * len(data))]
    new = augmenter([data.texts[i] for i in sources], rng)
    return LabeledTexts(data.texts + new, data.labels + [data.labels[i] for i in sources], data.source)


__all__ = ["AUGMENTERS", "Augmenter", "ContextualMLM", "EDA", "augment"]
