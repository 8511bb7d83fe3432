"""Skewed labels: when accuracy would hide a method that ignores a small class, rank by macro-F1 instead.

A method that never predicts a class loses at most that class's share of accuracy, but a whole class's F1
from the macro average. Labels count as skewed when the smallest class holds under a third of the share an
even split gives it (under 16.7% of two classes, under 5.6% of six): there, ignoring the small class costs
accuracy less than the gaps between the methods compared (sms-spam's 13% spam, reuters-r8's 0.7% grain,
trec6's 1.6% ABBR, the 9%-of-3 review set of issue 21), so accuracy and macro-F1 can crown different methods.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from tunetext.data.dataset import is_multilabel
from tunetext.errors import ConfigError

SKEWED_BELOW = 1 / 3
"""Skewed: the smallest class's share of the labels is under this fraction of the uniform share, 1 / n_classes."""
SKEWED_METRIC, BALANCED_METRIC = "f1_macro", "accuracy"
MULTILABEL_METRICS = ("f1_micro", "f1_macro", "accuracy")
"""What multi-label data may be ranked by: micro-F1 (the default: every text-label decision counts once, so
frequent labels are not drowned by rare ones' noise), macro-F1, and subset accuracy (`accuracy`)."""


@dataclass(frozen=True)
class LabelSkew:
    """Class counts of a label set, most frequent first, and whether they are skewed (see `SKEWED_BELOW`)."""

    counts: dict[str, int]

    @property
    def smallest(self) -> str:
        return min(self.counts, key=lambda c: (self.counts[c], c))

    @property
    def share(self) -> float:
        """The smallest class's share of the labels."""
        return self.counts[self.smallest] / sum(self.counts.values())

    @property
    def ratio(self) -> float:
        """Largest class count over smallest: the imbalance ratio."""
        return max(self.counts.values()) / self.counts[self.smallest]

    @property
    def skewed(self) -> bool:
        return len(self.counts) > 1 and self.share < SKEWED_BELOW / len(self.counts)


def label_skew(labels: Sequence[str]) -> LabelSkew:
    """Counts of each class; of each label name, for multi-label data."""
    if is_multilabel(labels):
        labels = [name for names in labels for name in names]
    return LabelSkew(dict(Counter(str(label) for label in labels).most_common()))


def choose_metric(train_labels: Sequence[str], metric: str | None) -> tuple[str, str]:
    """The metric to rank (compare) or headline (train) by, and a sentence saying why: `metric` when given, else macro-F1 for skewed
    training labels and accuracy for balanced ones. Only training labels are read, never the test split's."""
    if is_multilabel(train_labels):
        if metric is not None and metric not in MULTILABEL_METRICS:
            raise ConfigError(f"metric={metric!r}; for multi-label data use {', '.join(MULTILABEL_METRICS)}, or None for f1_micro.")
        return metric or MULTILABEL_METRICS[0], (f"Metric: {metric}, as asked (multi-label data)." if metric else
                                                 "Metric: f1_micro, the default for multi-label data (each text-label decision counts once).")
    if metric is not None and metric not in (BALANCED_METRIC, SKEWED_METRIC):
        raise ConfigError(f"metric={metric!r}; use {BALANCED_METRIC} or {SKEWED_METRIC}, or None to choose from the labels.")
    skew = label_skew(train_labels)
    uniform = 1 / len(skew.counts)
    facts = (f"the smallest training class, {skew.smallest}, holds {skew.share:.1%} of the labels against "
             f"{uniform:.1%} for an even split (largest/smallest {skew.ratio:.1f})")
    if metric is not None:
        return metric, f"Metric: {metric}, as asked; {facts}."
    if skew.skewed:
        return SKEWED_METRIC, (f"Metric: {SKEWED_METRIC}, not accuracy, because the classes are skewed: {facts}, "
                               "so accuracy would barely notice a method that ignores it.")
    return BALANCED_METRIC, f"Metric: {BALANCED_METRIC}, as the classes are balanced enough ({facts})."


def recall_table(per_class: dict[str, dict], leaders: list[str], skew: LabelSkew, *, most: int = 8) -> tuple[list[str], list[list[str]]]:
    """Recall of each of the `leaders` (methods, best first) on the `most` smallest classes, smallest first:
    where a method that ignores a small class shows. `per_class` maps a method to its per-class metrics."""
    classes = sorted(skew.counts, key=lambda c: (skew.counts[c], c))[:most]
    header = ["method"] + [f"{c} ({skew.counts[c]:,} train)" for c in classes]
    body = [[m] + [f"{per_class[m][c]['recall']:.3f}" for c in classes] for m in leaders]
    return header, body
