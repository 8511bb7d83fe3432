"""Model size as an axis of compare: the same methods on several encoders, and whether the larger one pays.

Compare with `models` names each such row `method@encoder`; this module gathers those rows at full
training size with each encoder's parameter count, and says from the numbers whether the largest
encoder's best result beats the smallest encoder's best by enough to be worth its cost.
"""

from __future__ import annotations

from math import prod
from pathlib import Path
from typing import Callable

from tunetext.compare import plots
from tunetext.compare.plan import Cell
from tunetext.compare.report import Section
from tunetext.compare.statistics import paired_test_name
from tunetext.compare.verdict import contenders

WORTH_POINTS = 1.0
"""The larger encoder must lift the best score by at least this many points (and by more than the seed spread)."""

PairedTest = Callable[[str, str], dict]
"""The comparison's paired test of two rows (by name) on the test split: a dict with its `p_value`."""


def section(rows: list[dict], cells: list[Cell], metric: str, out: Path, paired: PairedTest | None = None) -> Section:
    points = size_rows(rows, {cell.label: (cell.method, cell.encoder) for cell in cells if cell.encoder})
    if not points:
        return Section([], [], [], {})
    sentence = size_sentence(points, metric, paired)
    keys = ("base_method", "encoder", "parameters", metric, "train_seconds", "predict_texts_per_second", "size_mb")
    return Section([sentence] if sentence else [],
                   [("Model size (full training set)", size_table(points, metric))],
                   [(f"{metric} against encoder size", plots.model_size(points, metric, out / "model_size.png"))],
                   {"model_size": [{key: r[key] for key in keys} for r in points]})


def encoder_parameters(encoder: str) -> int | None:
    """The catalog's count for a catalog name; for a folder, summed from its safetensors headers (no weights
    read); None when the folder has no safetensors file to count from."""
    from safetensors import safe_open

    from tunetext.encoder_catalog import get_info, is_catalog_name

    if is_catalog_name(encoder):
        return get_info(encoder).parameters
    files = sorted(Path(encoder).glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for path in files:
        with safe_open(path, framework="np") as weights:
            total += sum(prod(weights.get_slice(name).get_shape()) for name in weights.keys())
    return total


def size_rows(rows: list[dict], encoders: dict[str, tuple[str, str]]) -> list[dict]:
    """The full-size rows run on an encoder (`encoders`: {row name: (method, encoder)}), with the method,
    the encoder and its parameter count added; by method, then smallest encoder first."""
    counts = {encoder: encoder_parameters(encoder) for _, encoder in encoders.values()}
    found = [r | {"base_method": encoders[r["method"]][0], "encoder": Path(encoders[r["method"]][1]).name,
                  "parameters": counts[encoders[r["method"]][1]]}
             for r in rows if r["size_per_class"] is None and r["method"] in encoders]
    return sorted(found, key=lambda r: (r["base_method"], r["parameters"] or 0))


def size_table(points: list[dict], metric: str) -> tuple[list[str], list[list[str]]]:
    header = ["method", "encoder", "parameters", metric, "train s", "predict texts/s", "size MB"]
    body = [[r["base_method"], r["encoder"], _millions(r["parameters"]), f"{r[metric]:.3f}",
             f"{r['train_seconds']:.1f}", f"{r['predict_texts_per_second']:,.0f}", f"{r['size_mb']:.1f}"]
            for r in points]
    return header, body


def size_sentence(points: list[dict], metric: str, paired: PairedTest | None = None) -> str | None:
    """Whether the largest encoder is worth its cost: its best contender against the smallest encoder's best.

    Worth it takes a gain of `WORTH_POINTS` or more, beyond the seed spread, and (with `paired`, the comparison's
    test of two rows on the test split) significant at 5%: one seed at full size has no spread to show."""
    by_encoder: dict[str, list[dict]] = {}
    for r in contenders(points):
        by_encoder.setdefault(r["encoder"], []).append(r)
    if len(by_encoder) < 2:
        return None
    best = {encoder: max(found, key=lambda r: r[metric]) for encoder, found in by_encoder.items()}
    by_size = sorted(best.values(), key=lambda r: r["parameters"] or 0)
    small, large = by_size[0], by_size[-1]
    gain = 100 * (large[metric] - small[metric])
    noise = 100 * max(small.get(f"{metric}_std", 0.0), large.get(f"{metric}_std", 0.0))
    test = paired(large["method"], small["method"]) if paired else None
    worth = gain >= WORTH_POINTS and gain > noise and (test is None or test["p_value"] < 0.05)
    evidence = f" ({paired_test_name(test)} p = {test['p_value']:.3g} on the test split)" if test else ""
    cost = (f"{large['train_seconds'] / max(small['train_seconds'], 1e-9):.1f}x the training time and "
            f"{small['predict_texts_per_second'] / max(large['predict_texts_per_second'], 1e-9):.1f}x slower prediction")
    compared = (f"{large['encoder']} ({_millions(large['parameters'])} parameters) takes the best {metric} from "
                f"{small[metric]:.3f} ({small['method']}) to {large[metric]:.3f} ({large['method']}), "
                f"{gain:+.1f} points{evidence}, for {cost}")
    if worth:
        return f"**The larger encoder is worth its cost here**: {compared}."
    return (f"**The larger encoder is not worth its cost here**: {compared}; a gain under {WORTH_POINTS:g} point, "
            f"within the seed spread or not significant at 5% does not pay for that. Keep {small['encoder']}.")


def _millions(count: int | None) -> str:
    return "?" if count is None else f"{count / 1e6:.1f}M"
