"""The label audit inside compare: how many training labels look wrong, and the likeliest few.

A comparison's ceiling is set by its labels as much as by its methods, so the report says how noisy they look.
It reuses `tunetext.audit` with only the audit methods compare already ran (their features are cached, so the
out-of-fold fits cost seconds), and is skipped, with the reason in the report, where it cannot run.
"""

from __future__ import annotations

from pathlib import Path

from tunetext.audit import DEFAULT_METHODS, audit_labels, flagged_csv, flagged_table
from tunetext.compare.plan import Cell
from tunetext.compare.report import Section
from tunetext.data.dataset import LabeledTexts
from tunetext.errors import TunetextError
from tunetext.io import atomic_path

FOLDS = 5
SHOWN = 5
CSV_FILE = "label_audit.csv"
NOTABLE_SHARE = 0.02
"""The verdict mentions the audit when at least this share of training labels is flagged."""
MAX_TEXTS = 50_000
"""Above this, five out-of-fold fits would lengthen a capped comparison noticeably: `tunetext audit` does it alone."""


def section(train: LabeledTexts, cells: list[Cell], out: Path) -> Section:
    """Audit `train` with the audit methods among `cells` (tfidf-logreg when none ran); write every flagged text to
    OUT/label_audit.csv and return a table of the likeliest few, plus a verdict sentence when the share is notable."""
    if len(train) > MAX_TEXTS:
        return _skipped(f"{len(train):,} training texts, over {MAX_TEXTS:,}: run `tunetext audit` on this data instead")
    ran = {cell.method for cell in cells if not cell.encoder}
    methods = [m for m in DEFAULT_METHODS if m in ran] or [DEFAULT_METHODS[0]]
    try:
        result = audit_labels(train, methods=methods, folds=FOLDS)
    except TunetextError as exc:  # cleanlab not installed, multi-label data, a class with fewer texts than folds
        return _skipped(str(exc))
    rows = result.rows()
    with atomic_path(out / CSV_FILE) as tmp:
        tmp.write_text(flagged_csv(rows), encoding="utf-8")
    n, share = len(train), len(rows) / max(len(train), 1)
    summary = {"label_audit": {"methods": methods, "folds": FOLDS, "n": n, "flagged": len(rows), "share": share,
                               "first": rows[:SHOWN]}}
    heading = (f"Label audit: {len(rows):,} of {n:,} training texts ({100 * share:.1f}%) look mislabeled "
               f"(cleanlab on {FOLDS}-fold out-of-fold probabilities of {', '.join(methods)}; all in {CSV_FILE})")
    sentences = []
    if share >= NOTABLE_SHARE:
        sentences.append(f"Labels: {len(rows):,} training texts ({100 * share:.1f}%) look mislabeled to a label audit; "
                         f"wrong labels cost every method accuracy and blur this comparison — check the likeliest in "
                         f"{CSV_FILE} (or run `tunetext audit`) before paying for a stronger method.")
    return Section(sentences, [(heading, flagged_table(rows, SHOWN))], [], summary)


def _skipped(reason: str) -> Section:
    return Section([], [], [], {"label_audit": {"skipped": reason}})
