"""Which labels look wrong? Out-of-fold probabilities from cheap, strong methods, then confident learning
(cleanlab's `find_label_issues`) ranks the texts whose given label the models most confidently disagree with.

Out-of-fold: each text is scored by models that never saw it, so a wrong label cannot be memorised into
agreeing with itself. Averaging two different methods (TF-IDF words, a frozen encoder's meaning) makes the
probabilities steadier than either alone.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from tunetext.data.dataset import LabeledTexts
from tunetext.errors import ConfigError, DataError
from tunetext.io import atomic_dir, check_output_dir, write_json

DEFAULT_METHODS = ("tfidf-logreg", "probe")
FILTER_BY = "low_self_confidence"
"""cleanlab's rule: as many issues as confident learning estimates, the lowest given-label probabilities. On
trec6 with 5% planted flips it had precision 0.81 and recall 0.86, against 0.56 / 0.88 for cleanlab's default
(prune_by_noise_rate); see benchmarks/audit.py, which scores each rule."""
SUMMARY_FILE = "audit.json"
"""Marks a folder as an audit's output, which a new audit may replace."""
SHOWN = 10  # flagged texts shown in the Markdown/HTML summary; the CSV has them all


@dataclass
class Audit:
    """The audited texts, their out-of-fold probabilities (columns in `classes` order) and the flagged rows,
    most likely mislabeled first."""

    data: LabeledTexts
    classes: list[str]
    proba: np.ndarray
    flagged: np.ndarray
    methods: list[str]
    folds: int
    source: str = ""
    accuracy: dict[str, float] = field(default_factory=dict)
    """Each method's out-of-fold accuracy against the given labels: how far to trust its disagreement."""

    def rows(self) -> list[dict]:
        """One dict per flagged text: row (0-based, in the audited data), text, given and suggested label,
        and the models' probability of the suggested label."""
        index = {c: i for i, c in enumerate(self.classes)}
        out = []
        for row in self.flagged:
            given = str(self.data.labels[row])
            others = self.proba[row].copy()
            others[index[given]] = -1  # the suggestion is the likeliest *other* label
            suggested = int(others.argmax())
            text = self.data.texts[row]
            out.append({"row": int(row), "text": text if isinstance(text, str) else " ||| ".join(text),
                        "given_label": given, "suggested_label": self.classes[suggested],
                        "confidence": round(float(self.proba[row, suggested]), 4),
                        "given_label_probability": round(float(self.proba[row, index[given]]), 4)})
        return out


def audit_labels(
    data: LabeledTexts,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    folds: int = 5,
    seed: int = 0,
    params: dict[str, dict] | None = None,
    filter_by: str = FILTER_BY,
) -> Audit:
    """Out-of-fold probabilities from `folds`-fold stratified cross-validation with each of `methods`
    (`params`: per method), averaged, then cleanlab's confident learning to flag likely label errors
    (`filter_by`: the rule of `cleanlab.filter.find_label_issues`)."""
    from tunetext.methods import make_method

    if not methods:
        raise ConfigError("methods is empty; pass at least one method name, e.g. tfidf-logreg.")
    if folds < 2:
        raise ConfigError(f"folds={folds!r} must be at least 2 (5 is usual).")
    if data.is_multilabel:
        raise DataError("the audit finds single-label errors (confident learning over one class per text); this data "
                        "is multi-label (label sets). Audit one label at a time as a yes/no column instead.")
    labels = np.asarray([str(label) for label in data.labels], dtype=object)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2 or counts.min() < 2:
        raise DataError(f"the audit needs two classes with at least 2 examples each; { {c: int(n) for c, n in zip(classes, counts)} } "
                        "given. Check the label column.")
    if counts.min() < folds:
        raise DataError(f"{folds}-fold cross-validation needs at least {folds} examples of every class; "
                        f"{classes[counts.argmin()]!r} has {counts.min()}. Pass folds={counts.min()}.")
    classes = classes.tolist()
    true_index = np.searchsorted(classes, labels)
    per_method = [_out_of_fold(make_method, name, (params or {}).get(name, {}), data, classes, folds, seed)
                  for name in methods]
    proba = np.mean(per_method, axis=0)
    flagged = label_issues(true_index, proba, filter_by)
    accuracy = {name: float((p.argmax(1) == true_index).mean()) for name, p in zip(methods, per_method)}
    return Audit(data, classes, proba, flagged, list(methods), folds, data.source or "", accuracy)


def label_issues(true_index: np.ndarray, proba: np.ndarray, filter_by: str = FILTER_BY) -> np.ndarray:
    """Rows cleanlab flags as likely mislabeled, least likely correct first."""
    filter_ = _import_cleanlab()
    return np.asarray(filter_.find_label_issues(true_index, proba, filter_by=filter_by,
                                                return_indices_ranked_by="self_confidence"), dtype=int)


def _out_of_fold(make_method, name: str, params: dict, data: LabeledTexts, classes: list[str], folds: int,
                 seed: int) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    proba = np.zeros((len(data), len(classes)), dtype=np.float64)
    column = {c: i for i, c in enumerate(classes)}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    texts, labels = list(data.texts), [str(label) for label in data.labels]
    for train, held in splitter.split(np.zeros(len(labels)), labels):
        method = make_method(name, **params)
        method.fit([texts[i] for i in train], [labels[i] for i in train])
        proba[np.ix_(held, [column[c] for c in method.classes_])] = method.predict_proba([texts[i] for i in held])
    return proba


def write_audit(result: Audit, out: str | Path, *, overwrite: bool = False) -> dict:
    """audit.csv (every flagged text), audit.md and audit.html (a summary and the first few), audit.json,
    written together into `out` (replaced whole; see `io.check_output_dir` for what may be replaced);
    returns the summary written to audit.json."""
    rows = result.rows()
    lines = _summary_lines(result)
    header, body = flagged_table(rows, SHOWN)
    from tunetext.compare.report import CSS, _html_table, _markdown_table

    title = f"tunetext audit — {result.source or 'labels'}"
    md = [f"# {title}", ""] + [f"- {line}" for line in lines] + ["", f"## The {len(body)} likeliest label errors", "",
                                                                  _markdown_table(header, body), ""]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style>"
            f"</head><body><h1>{html.escape(title)}</h1><ul>{''.join(f'<li>{html.escape(x)}</li>' for x in lines)}</ul>"
            f"<h2>The {len(body)} likeliest label errors</h2>{_html_table(header, body)}</body></html>")
    summary = {"source": result.source, "n": len(result.data), "flagged": len(rows), "methods": result.methods,
               "folds": result.folds, "out_of_fold_accuracy": result.accuracy, "summary": lines, "first": rows[:SHOWN]}
    out = Path(out)
    with atomic_dir(out, markers=(SUMMARY_FILE,), overwrite=overwrite) as tmp:
        (tmp / "audit.csv").write_text(flagged_csv(rows), encoding="utf-8")
        (tmp / "audit.md").write_text("\n".join(md), encoding="utf-8")
        (tmp / "audit.html").write_text(page, encoding="utf-8")
        write_json(tmp / SUMMARY_FILE, summary)
    return summary


def flagged_table(rows: list[dict], limit: int) -> tuple[list[str], list[list[str]]]:
    """(header, body) of the first `limit` flagged rows (`Audit.rows`), texts shortened: for a report table."""
    body = [[str(r["row"]), r["given_label"], r["suggested_label"], f"{r['confidence']:.2f}", _short(r["text"])]
            for r in rows[:limit]]
    return ["row", "given label", "suggested", "confidence", "text"], body


def flagged_csv(rows: list[dict]) -> str:
    """Every flagged row (`Audit.rows`) as CSV text, most likely mislabeled first."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["row", "text", "given_label", "suggested_label", "confidence",
                                                "given_label_probability"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def check_audit_dir(out: str | Path, *, inputs: Sequence[str | Path] = (), overwrite: bool = False) -> Path:
    """Refuse, before any model is fitted, an `out` that `write_audit` would refuse to replace."""
    return check_output_dir(out, markers=(SUMMARY_FILE,), inputs=inputs, overwrite=overwrite)


def _summary_lines(result: Audit) -> list[str]:
    n, flagged = len(result.data), len(result.flagged)
    accuracy = ", ".join(f"{name} {value:.3f}" for name, value in result.accuracy.items())
    return [
        f"{flagged:,} of {n:,} texts ({100 * flagged / max(n, 1):.1f}%) look mislabeled: confident learning "
        f"(cleanlab) on out-of-fold probabilities from {result.folds}-fold cross-validation, averaged over "
        f"{', '.join(result.methods)}.",
        f"Out-of-fold accuracy against the given labels: {accuracy}. Flags are candidates for a person to check, "
        "most likely first: a flagged text may be ambiguous rather than wrong.",
    ]


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _import_cleanlab():
    try:
        from cleanlab import filter as filter_
    except ImportError:
        from tunetext.export.onnx import MissingExtraError

        raise MissingExtraError("the label audit needs cleanlab: pip install tunetext[audit]") from None
    return filter_
