"""How long the training texts are against each transformer method's window, and what `long_texts` does with them.

A section of its own in compare's report: tokens per text (median, 90th percentile, longest) and, per method,
how many training texts exceed its window and the strategy its `long_texts` resolves to (see `encoders`).
"""

from __future__ import annotations

import inspect
from typing import Sequence

import numpy as np

from tunetext import encoders
from tunetext.data.dataset import Text


def length_table(cells: Sequence, texts: Sequence[Text]) -> tuple[tuple[list[str], list[list[str]]], dict] | None:
    """((header, body), summary) for the methods among `cells` that have a `long_texts` hyperparameter; None if none has."""
    from tunetext.methods.registry import get_method_class

    methods = {}
    for cell in cells:
        signature = inspect.signature(get_method_class(cell.method)).parameters
        if "long_texts" in signature and cell.label not in methods:
            params = {name: p.default for name, p in signature.items()} | dict(cell.params)
            methods[cell.label] = params
    if not methods:
        return None
    texts = list(texts)
    pairs = bool(texts) and isinstance(texts[0], tuple)
    lengths: dict[str, np.ndarray] = {}
    header = ["method", "window (tokens)", "median tokens", "90th pct", "longest", "texts longer", "long_texts"]
    body, summary = [], {}
    for label, params in methods.items():
        model = encoders.resolve_model_path(params.get("model"))
        if model not in lengths:
            lengths[model] = encoders.token_lengths(encoders.load_tokenizer(model), texts)
        window = params.get("max_length") or encoders.choose_max_length(np.minimum(lengths[model], 512))
        record = encoders.resolve_long_texts(params.get("long_texts", "auto"), lengths[model], window, pairs=pairs)
        summary[label] = record
        chosen = record["strategy"] + (" (auto)" if record["requested"] == "auto" else "")
        body.append([label, str(window), f"{record['median_tokens']:.0f}", f"{record['p90_tokens']:.0f}",
                     f"{record['max_tokens']:,}", f"{record['longer']:,} ({100 * record['share_longer']:.0f}%)", chosen])
    return (header, body), {"text_lengths": summary}
