"""`tunetext audit`: which training labels look wrong (confident learning on out-of-fold probabilities)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from tunetext.cli import app, friendly_errors
from tunetext.cli.commands import DATA_HELP

console = Console()


@app.command()
@friendly_errors
def audit(
    data: str = typer.Option(..., "--data", "-d", help=DATA_HELP + " A file is audited whole; a catalog name or "
                             "folder, its train split."),
    out: Path = typer.Option(Path("audit-report"), "--out", "-o", help="Folder for audit.csv, audit.md, audit.html "
                             "and audit.json."),
    methods: str = typer.Option("tfidf-logreg,probe", help="Comma-separated methods whose out-of-fold probabilities "
                                "are averaged; a fine-tuned one (finetune) is stronger and much slower."),
    folds: int = typer.Option(5, help="Cross-validation folds: each text is scored by models fitted without it."),
    seed: int = typer.Option(0, help="Seed for the folds."),
    text_column: Optional[str] = typer.Option(None, help="Text column (auto-detected by default)."),
    text_pair_column: Optional[str] = typer.Option(None, help="Second text column, for text pairs."),
    label_column: Optional[str] = typer.Option(None, help="Label column (auto-detected by default)."),
    drop_empty: bool = typer.Option(False, help="Skip rows with empty texts or labels instead of stopping."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out even if it holds files tunetext did "
                                   "not write."),
) -> None:
    """Rank the texts whose labels most likely are wrong: k-fold out-of-fold probabilities, then cleanlab."""
    from tunetext import api

    with console.status(f"Auditing {data} ({folds}-fold cross-validation with {methods}) ..."):
        summary = api.audit(data, out=out, methods=methods, folds=folds, seed=seed, overwrite=overwrite,
                            text_column=text_column, text_pair_column=text_pair_column, label_column=label_column,
                            drop_empty=drop_empty)
    for line in summary["summary"]:
        console.print("• " + line, highlight=False)
    console.print(f"Every flagged text: [bold]{out / 'audit.csv'}[/] (summary in audit.html and audit.md)")
