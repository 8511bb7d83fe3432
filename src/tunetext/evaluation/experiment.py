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

SPEED_TEXTS = 2_000
"""The uncached pass that times prediction reads at most this many test texts (the first ones): 16 full batches of
128, enough for a steady rate. On 20,000 health tweets a frozen-encoder or fine-tuned model's pass took 2-4 min on 2
cores; smaller test splits are timed whole. Checked against whole passes over those 20,000 (pretrained-head, probe):
the 2,000 read 139-162 texts/s against 155-156, up to 11% low (a larger pass packs its width-grouped batches tighter),
within the 14% that two 2,000-text passes of one model differed by (benchmarks/results/compare_health500k_session10.json)."""


def fit_and_evaluate(
    method: Method,
    train: LabeledTexts,
    test: LabeledTexts,
    *,
    validation: LabeledTexts | None = None,
    save_to: str | Path | None = None,
    overwrite: bool = False,
    time_prediction: bool = True,
) -> tuple[dict, np.ndarray]:
    """Fit `method`, evaluate it on `test`; return metrics plus cost figures, and the test probabilities.

    The model is saved to `save_to` (replaced only as `Method.save` allows, see `overwrite`; else a
    temporary directory) so its size on disk is measured too;
    a model that refers to an encoder folder instead of containing one is charged that folder's size.
    Prediction speed is measured with the feature cache bypassed (test texts may be cached from an
    earlier run), on at most SPEED_TEXTS of them; `time_prediction=False` skips that second, uncached pass and
    records no speed (None), since a pass that may have read cached features says nothing about serving.
    """
    from tunetext.data.loading import check_known_labels
    from tunetext.features import bypass_cache

    check_known_labels(test.labels, train.classes, test.source or "test data")
    with PeakMemory() as memory:
        method.fit(train.texts, train.labels, validation=validation)
    proba = method.predict_proba(test.texts)
    texts_per_second = None
    if time_prediction:
        timed = test.texts[:SPEED_TEXTS]
        with bypass_cache(), Stopwatch() as predicting:
            method.predict_proba(timed)
        texts_per_second = len(timed) / max(predicting.seconds, 1e-9)
    metrics = evaluate(test.labels, proba, method.classes_, texts=test.texts, predicted=method.decide(proba))
    if save_to is not None:
        size = _deployed_bytes(method, method.save(save_to, overwrite=overwrite))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            size = _deployed_bytes(method, method.save(Path(tmp) / "model"))
    metrics |= {
        "method": method.name,
        "params": method.get_params(deep=False),
        "n_train": len(train),
        "train_seconds": method.train_seconds_,  # the whole run's, when fit resumed an interrupted one
        "predict_texts_per_second": texts_per_second,
        "peak_memory_mb": memory.peak_bytes / 2**20,
        "size_mb": size / 2**20,
    }
    return metrics, proba


def _deployed_bytes(method: Method, saved: Path) -> int:
    """What shipping the model takes: its folder, plus the encoder folder it loads from, if it has no weights of its own."""
    size = directory_size_bytes(saved)
    encoder = method.get_params().get("model")
    if encoder is not None and not (saved / "model.safetensors").exists():
        from tunetext.encoders import resolve_model_path

        size += directory_size_bytes(resolve_model_path(encoder))
    return size
