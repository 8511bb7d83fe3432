"""One measured experiment: fit a method on train, evaluate on test, and record what it cost.

The CLI's `train` and every cell of `compare` go through here, so their numbers mean the same thing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tunetext.data.dataset import LabeledTexts
from tunetext.evaluation.cost import PeakMemory, Stopwatch, directory_size_bytes
from tunetext.evaluation.metrics import evaluate
from tunetext.methods.base import Method


def fit_and_evaluate(
    method: Method,
    train: LabeledTexts,
    test: LabeledTexts,
    *,
    validation: LabeledTexts | None = None,
    save_to: str | Path | None = None,
) -> tuple[dict, np.ndarray]:
    """Fit `method`, evaluate it on `test`; return metrics plus cost figures, and the test probabilities.

    The model is saved to `save_to` (or a temporary directory) so its size on disk is measured too.
    """
    from tunetext.data.loading import check_known_labels

    check_known_labels(test.labels, train.classes, test.source or "test data")
    with PeakMemory() as memory, Stopwatch() as training:
        method.fit(train.texts, train.labels, validation=validation)
    with Stopwatch() as predicting:
        proba = method.predict_proba(test.texts)
    metrics = evaluate(test.labels, proba, method.classes_, texts=test.texts)
    if save_to is not None:
        size = directory_size_bytes(method.save(save_to))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            size = directory_size_bytes(method.save(Path(tmp) / "model"))
    metrics |= {
        "method": method.name,
        "params": method.get_params(deep=False),
        "n_train": len(train),
        "train_seconds": training.seconds,
        "predict_texts_per_second": len(test) / max(predicting.seconds, 1e-9),
        "peak_memory_mb": memory.peak_bytes / 2**20,
        "size_mb": size / 2**20,
    }
    return metrics, proba
