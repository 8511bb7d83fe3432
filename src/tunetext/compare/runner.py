"""Run the cells of a comparison, each saved as it finishes so a killed run resumes where it stopped."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from tunetext import __version__
from tunetext.compare.plan import Cell, cap_rows, subsample
from tunetext.data.dataset import DatasetSplits, indicator
from tunetext.errors import ConfigError
from tunetext.evaluation.experiment import fit_and_evaluate
from tunetext.io import read_json, write_json
from tunetext.methods import make_method

CELLS_DIR = "cells"
MANIFEST_FILE = "compare.json"
"""Written first into every report folder: marks the folder as tunetext's and names the data it compares on."""


def claim_report_dir(out: Path, splits: DatasetSplits, fingerprint: str) -> None:
    """Make `out` the report folder of a comparison on `splits`, or refuse before anything is written.

    A folder from an earlier comparison on the same data is resumed; one on other data is refused (its
    finished cells would be reported under the new name), and so is any other non-empty folder or a file:
    the report overwrites files, and only tunetext's own may be overwritten.
    """
    manifest = out / MANIFEST_FILE
    if manifest.is_file():
        saved = _read_manifest(manifest)
        if saved["data_sha256"] != fingerprint:
            raise ConfigError(
                f"out={str(out)!r} holds a comparison on other data: {saved.get('dataset')!r} (sha256 "
                f"{saved['data_sha256'][:12]}…), not {splits.name!r} ({fingerprint[:12]}…); its finished cells "
                f"would be reported as this data's. Pass another out folder, or delete {out} first to start afresh."
            )
        return
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out={str(out)!r} is a file; compare writes a report folder there. Pass a folder path.")
    if out.exists() and any(out.iterdir()):
        names = ", ".join(sorted(p.name for p in out.iterdir())[:5])
        raise ConfigError(
            f"out={str(out)!r} is not empty ({names}) and is not a tunetext compare report (no {MANIFEST_FILE}); "
            "the report would overwrite files tunetext did not write. Pass a new or empty folder."
        )
    write_json(manifest, {"dataset": splits.name, "data_sha256": fingerprint, "tunetext_version": __version__})


def _read_manifest(path: Path) -> dict:
    try:
        saved = read_json(path)
    except ValueError:  # not JSON, or not UTF-8
        saved = None
    if not isinstance(saved, dict) or not isinstance(saved.get("data_sha256"), str):
        raise ConfigError(f"{path} is not a tunetext compare manifest (expected JSON with 'data_sha256'); "
                          "pass another out folder, or delete that folder first to start afresh.")
    return saved


def run_cell(cell: Cell, splits: DatasetSplits) -> dict:
    """Fit one method on one (subsampled) training set and evaluate it on `splits.test`.

    Validation data goes in only at full size: a user with 16 labeled examples per class has no
    500-example validation set either, and early stopping on one would flatter the small-data cells.
    """
    train = subsample(splits.train, cell.size, cell.seed)
    params = dict(cell.params)
    method = make_method(cell.method, **params)
    if "seed" in method.get_params():
        method.set_params(seed=cell.seed)
    if cell.size is None:
        train = cap_rows(train, method.family, cell.seed)
    validation = splits.validation if cell.size is None else None
    # Prediction speed doesn't depend on the training size: time it once, on the full-size cell.
    result, proba = fit_and_evaluate(method, train, splits.test, validation=validation, time_prediction=cell.size is None)
    # Per-example predictions (as class indices) feed the bootstrap intervals and the paired test.
    # What the method declares about itself goes with the numbers: the report reads it, never the method's name.
    # Multi-label: each text's 0/1 row of predicted labels, at the method's thresholds.
    predicted = indicator(method.decide(proba), method.classes_) if method.multilabel_ else proba.argmax(axis=1)
    result |= {"family": method.family, "reference": method.reference_row, "classes": method.classes_.tolist(),
               "predicted": predicted.tolist(),
               "diagnostics": {name: dataclasses.asdict(series) for name, series in method.diagnostics().items()}}
    if cell.encoder:  # one row per method and encoder in every table, plot and test downstream
        result |= {"method": cell.label, "encoder": cell.encoder}
    return result


def run_cells(
    cells: list[Cell],
    splits: DatasetSplits,
    out: Path,
    *,
    on_start: Callable[[Cell, bool, int], None] | None = None,
    curve: DatasetSplits | None = None,
) -> list[dict]:
    """Run every cell not already finished in `out/cells/`; return all cell results in `cells` order.

    `on_start(cell, already_done, total)` is called before each cell (for progress display). Subsampled cells
    score on `curve` when given (`plan.curve_splits`), full-size ones on `splits`.
    """
    results = []
    for cell in cells:
        key = cell.key
        path = out / CELLS_DIR / f"{key}.json"
        done = path.exists()
        if on_start is not None:
            on_start(cell, done, len(cells))
        if done:
            results.append(read_json(path))
            continue
        scored_on = splits if cell.size is None or curve is None else curve
        result = run_cell(cell, scored_on) | {"size_per_class": cell.size, "seed": cell.seed, "key": key}
        write_json(path, result)
        results.append(result)
    return results
