"""What a fitted transformer method remembers of its `long_texts` hyperparameter.

"auto" is resolved once, at fit time, from the training texts' token lengths (`encoders.resolve_long_texts`);
the resolved strategy and the length summary behind it are `long_texts_`, saved in tunetext.json, so predict,
serve, Spark and the ONNX export read every text the way the model was trained to.
"""

from __future__ import annotations

from pathlib import Path

from tunetext.io import read_json

AGGREGATIONS = ("mean", "max")
TRUNCATED = {"strategy": "truncate", "requested": "truncate"}
"""The record of a model saved before `long_texts` existed: it truncated every text."""


class ReadsLongTexts:
    """Mixin for `Method`s with a `long_texts` hyperparameter: keeps `long_texts_` in the saved metadata."""

    long_texts_: dict

    @property
    def long_text_strategy(self) -> str:
        """The strategy in use: "truncate", "head_tail" or "chunks" (never "auto" once fitted)."""
        return self.long_texts_["strategy"]

    def _metadata(self) -> dict:
        return {**super()._metadata(), "long_texts": self.long_texts_}

    def _restore_long_texts(self, directory: Path) -> None:
        from tunetext.methods.base import METADATA_FILE

        self.long_texts_ = read_json(Path(directory) / METADATA_FILE).get("long_texts") or dict(TRUNCATED)


def describe(record: dict) -> str:
    """One line for `train`: what was chosen and how many texts were longer than the window."""
    chosen = record["strategy"]
    how = f"{chosen} (chosen by auto)" if record.get("requested") == "auto" else chosen
    if "texts" not in record:
        return f"long texts: {how}"
    return (f"long texts: {how}; {record['longer']:,} of {record['texts']:,} training texts "
            f"({100 * record['share_longer']:.0f}%) are longer than the {record['window']}-token window "
            f"(median {record['median_tokens']:.0f}, 90th percentile {record['p90_tokens']:.0f} tokens)")
