"""The report's figures, as PNG files: learning curves, accuracy against cost, and the best model's errors."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tunetext.evaluation.metrics import dense_confusion  # noqa: E402
from tunetext.io import atomic_path  # noqa: E402

FAMILY_STYLE = {"traditional": "--", "pretrained": ":", "fine-tuned": "-"}


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def learning_curves(rows: list[dict], metric: str, path: Path, forecasts: list | None = None) -> Path:
    """Metric against training-set size per method (log x), ± one std over seeds; size-free methods as flat lines.

    `forecasts` (see `compare.forecast`) extend their method's curve, dotted, to the forecast sizes with intervals.
    """
    extended = {f.method: f for f in forecasts or []}
    fig, ax = plt.subplots(figsize=(8, 5))
    largest = max(r["n_train"] for r in rows)
    smallest = min(r["n_train"] for r in rows)
    for method in sorted({r["method"] for r in rows}):
        points = sorted((r for r in rows if r["method"] == method), key=lambda r: r["n_train"])
        style = FAMILY_STYLE.get(points[0]["family"], "-")
        if len(points) == 1:  # zero-shot or untrained: the same at every size
            ax.plot([smallest, largest], [points[0][metric]] * 2, style, label=method)
            continue
        x = np.array([p["n_train"] for p in points])
        y = np.array([p[metric] for p in points])
        std = np.array([p[f"{metric}_std"] for p in points])
        (line,) = ax.plot(x, y, style, marker="o", label=method)
        ax.fill_between(x, y - std, y + std, color=line.get_color(), alpha=0.15)
        if method in extended:
            f = extended[method]
            ahead = sorted(f.points)
            ax.plot([x[-1]] + [k * f.n_now for k in ahead], [y[-1]] + [f.points[k][0] for k in ahead], ":",
                    color=line.get_color())
            ax.errorbar([k * f.n_now for k in ahead], [f.points[k][0] for k in ahead], fmt="none",
                        yerr=np.array([[f.points[k][0] - f.points[k][1], f.points[k][2] - f.points[k][0]] for k in ahead]).T,
                        ecolor=line.get_color(), capsize=3, alpha=0.7)
    ax.set_xscale("log")
    ax.set_xlabel("training examples (log scale)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against training-set size" + (" (dotted: forecast, 95% interval)" if extended else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def pareto(rows: list[dict], metric: str, path: Path) -> Path:
    """Metric against training time on the full training set; the line joins the Pareto-optimal methods."""
    full = sorted((r for r in rows if r["size_per_class"] is None), key=lambda r: r["train_seconds"])
    fig, ax = plt.subplots(figsize=(7, 5))
    for r in full:
        ax.scatter(max(r["train_seconds"], 1e-3), r[metric], s=40)
        ax.annotate(r["method"], (max(r["train_seconds"], 1e-3), r[metric]), fontsize=8, xytext=(4, 4),
                    textcoords="offset points")
    front, best = [], -np.inf
    for r in full:
        if r[metric] > best:
            front.append(r)
            best = r[metric]
    ax.plot([max(r["train_seconds"], 1e-3) for r in front], [r[metric] for r in front], "k-", alpha=0.4,
            label="Pareto front")
    return _log_x_figure(fig, ax, "training time, seconds", metric, f"{metric} against training cost (full training set)", path)


def confusion(stored: dict, labels: list[str], title: str, path: Path) -> Path:
    """Row-normalised confusion matrix with counts, so rare classes are as readable as common ones.

    `stored` is the `confusion_matrix` entry of the metrics, dense or sparse.
    """
    counts = dense_confusion(stored)
    normalised = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.55 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    if len(labels) <= 12:
        for i, j in np.ndindex(counts.shape):
            ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=8,
                    color="white" if normalised[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    return _save(fig, path)


def per_class_f1(per_class: dict[str, dict[str, dict]], path: Path) -> Path:
    """F1 per class for a few methods side by side: where fine-tuning helps, and where it doesn't."""
    methods = list(per_class)
    labels = list(next(iter(per_class.values())))
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(labels) * len(methods) / 2 + 3), 4.5))
    for i, method in enumerate(methods):
        ax.bar(np.arange(len(labels)) + i * width, [per_class[method][c]["f1"] for c in labels], width, label=method)
    ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1")
    ax.set_title("F1 per class (full training set)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def diagnostic(series: dict[str, dict], path: Path) -> Path:
    """One diagnostic (`Method.diagnostics`, stored as dicts) of several methods side by side, as grouped bars."""
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(series)
    for i, (method, one) in enumerate(series.items()):
        ax.bar(np.arange(len(one["values"])) + i * width, one["values"], width, label=method)
    first = max(series.values(), key=lambda one: len(one["labels"]))  # methods on smaller encoders have fewer layers
    ax.set_xticks(np.arange(len(first["labels"])) + 0.4 - width / 2, first["labels"])
    ax.set_xlabel(first["xlabel"])
    ax.set_ylabel(first["ylabel"])
    ax.set_title(f"{first['title']} (full training set)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def reliability(tables: dict[str, dict], path: Path) -> Path:
    """Reliability diagram: accuracy against mean confidence per confidence bin, one line per method (the
    `reliability` tables of the metrics); the diagonal is perfect calibration, below it over-confidence."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k:", alpha=0.6, label="perfectly calibrated")
    for method, table in tables.items():
        filled = [(p, a) for p, a, c in zip(table["confidence"], table["accuracy"], table["count"]) if c]
        ax.plot(*zip(*filled), marker="o", label=method)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (top-class probability, bin mean)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title("Reliability of the leading methods (full training set)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


def model_size(points: list[dict], metric: str, path: Path) -> Path:
    """Metric against encoder parameters (log x), one line per method across its encoders, each point
    annotated with its training time: what a larger encoder buys and what it costs."""
    fig, ax = plt.subplots(figsize=(7, 5))
    for method in dict.fromkeys(r["base_method"] for r in points):
        mine = [r for r in points if r["base_method"] == method and r["parameters"]]
        ax.plot([r["parameters"] for r in mine], [r[metric] for r in mine], marker="o", label=method)
        for r in mine:
            ax.annotate(f"{r['train_seconds']:.0f} s", (r["parameters"], r[metric]), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    encoders = {r["parameters"]: f"{r['encoder']}\n{r['parameters'] / 1e6:.1f}M" for r in points if r["parameters"]}
    return _log_x_figure(fig, ax, "encoder parameters", metric,
                         f"{metric} against encoder size (full training set; points: training time)", path, encoders)


def _log_x_figure(fig, ax, xlabel: str, metric: str, title: str, path: Path, ticks: dict | None = None) -> Path:
    """Log x axis; `ticks`: {x: label} to name the only x values there are (e.g. the encoders)."""
    ax.set_xscale("log")
    if ticks:
        ax.set_xticks(list(ticks), list(ticks.values()))
        ax.minorticks_off()
    ax.set_xlabel(f"{xlabel} (log scale)")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
