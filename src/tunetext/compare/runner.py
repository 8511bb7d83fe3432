"""Run the cells of a comparison, each saved as it finishes so a killed run resumes where it stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from tunetext.compare.plan import Cell, subsample
from tunetext.data.dataset import DatasetSplits
from tunetext.evaluation.experiment import fit_and_evaluate
from tunetext.io import read_json, write_json
from tunetext.methods import make_method

CELLS_DIR = "cells"


def run_cell(cell: Cell, splits: DatasetSplits) -> dict:
    """Fit one method on one (subsampled) training set and evaluate it on the full test split.

    Validation data goes in only at full size: a user with 16 labeled examples per class has no
    500-example validation set either, and early stopping on one would flatter the small-data cells.
    """
    train = subsample(splits.train, cell.size, cell.seed)
    params = dict(cell.params)
    method = make_method(cell.method, **params)
    if "seed" in method.get_params():
        method.set_params(seed=cell.seed)
    validation = splits.validation if cell.size is None else None
    # Prediction speed doesn't depend on the training size: time it once, on the full-size cell.
    result, proba = fit_and_evaluate(method, train, splits.test, validation=validation, time_prediction=cell.size is None)
    # Per-example predictions (as class indices) feed the bootstrap intervals and the paired test.
    result |= {"family": method.family, "classes": method.classes_.tolist(), "predicted": proba.argmax(axis=1).tolist()}
    if hasattr(method, "layer_weights_"):  # FineText: which encoder layers the head chose to attend to
        result["layer_weights"] = [float(w) for w in method.layer_weights_]
    return result


def run_cells(
    cells: list[Cell],
    splits: DatasetSplits,
    out: Path,
    *,
    on_start: Callable[[Cell, bool, int], None] | None = None,
) -> list[dict]:
    """Run every cell not already finished in `out/cells/`; return all cell results in `cells` order.

    `on_start(cell, already_done, total)` is called before each cell (for progress display).
    """
    results = []
    for cell in cells:
        path = out / CELLS_DIR / f"{cell.key}.json"
        done = path.exists()
        if on_start is not None:
            on_start(cell, done, len(cells))
        if done:
            results.append(read_json(path))
            continue
        result = run_cell(cell, splits) | {"size_per_class": cell.size, "seed": cell.seed, "key": cell.key}
        write_json(path, result)
        results.append(result)
    return results
