"""The `tunetext` command line: one Typer app, one sub-module per group of commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tunetext",
    help="Fine-tune transformer encoders for text classification, and compare them with the alternatives.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def main() -> None:
    from tunetext.cli import commands  # noqa: F401  (registers the commands on `app`)

    app()
