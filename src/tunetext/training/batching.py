"""Training batches grouped by length, so each batch pads to its own longest text and little compute is wasted.

An epoch's batches are a pure function of `(lengths, batch_size, seed, epoch)`; the data position is then
just the global batch number, which is what makes resume exact.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

MEGABATCH = 50
"""Batches per mega-batch: long enough to group lengths well, short enough to keep epochs well mixed."""


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, *, seed: int, epoch: int, min_size: int = 1
) -> list[np.ndarray]:
    """Shuffle, cut into mega-batches, sort each by length, cut into batches, shuffle the batch order.

    A last batch with fewer than `min_size` rows is left out of this epoch: with several processes every
    process needs a row of every batch (the next epoch's shuffle puts those examples elsewhere).
    """
    rng = np.random.default_rng([seed, epoch])
    lengths = np.asarray(lengths)
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * MEGABATCH):
        mega = order[start : start + batch_size * MEGABATCH]
        mega = mega[np.argsort(-lengths[mega], kind="stable")]
        batches += [mega[i : i + batch_size] for i in range(0, len(mega), batch_size)]
    if len(batches[-1]) < min_size:
        batches.pop()
    return [batches[i] for i in rng.permutation(len(batches))]

