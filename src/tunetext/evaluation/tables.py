"""Rich tables of metrics: what a person reads in the terminal after train / evaluate / compare."""

from __future__ import annotations

from rich.table import Table

HEADLINE = ("accuracy", "f1_macro", "precision_macro", "recall_macro", "f1_weighted", "log_loss")
MULTILABEL_HEADLINE = ("f1_micro", "f1_macro", "precision_micro", "recall_micro", "f1_weighted", "subset_accuracy",
                       "hamming_loss", "log_loss")


def metrics_table(metrics: dict, title: str = "Test metrics") -> Table:
    """The headline metrics; a row says when the macro averages leave out classes the data lacks."""
    table = Table(title=title, caption=metrics.get("metric_reason"))  # which metric heads the table, and why
    table.add_column("metric")
    table.add_column("value", justify="right")
    headline = MULTILABEL_HEADLINE if metrics.get("multilabel") else HEADLINE + (("f1",) if "f1" in metrics else ())
    for key in headline:
        name = key if key != "f1" else f"f1 ({metrics['positive_label']})"
        table.add_row(name + (" ◀" if key == metrics.get("metric") else ""), f"{metrics[key]:.4f}")
    if metrics.get("multilabel"):
        table.add_row("texts without a label", f"{metrics['empty_true']} true, {metrics['empty_predicted']} predicted")
    if "averaging_note" in metrics:  # the absent classes show with support 0 in the per-class table
        table.add_row("macro over", f"{len(metrics['averaged_over'])} of {len(metrics['per_class'])} classes")
    for key, unit in (("train_seconds", "s"), ("predict_texts_per_second", "texts/s"), ("size_mb", "MB")):
        if key in metrics:
            table.add_row(key, f"{metrics[key]:,.1f} {unit}")
    return table


def per_class_table(metrics: dict) -> Table:
    table = Table(title="Per class")
    for column in ("class", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for label, row in metrics["per_class"].items():
        table.add_row(label, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"]))
    return table
