"""The `tunetext` command line: one Typer app, one sub-module per group of commands."""

from __future__ import annotations

from functools import wraps
from typing import Callable

import typer
from rich.console import Console

app = typer.Typer(
    name="tunetext",
    help="Fine-tune transformer encoders for text classification, and compare them with the alternatives.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
BACKEND_HELP = "auto: the ONNX export when DIR has one (see `tunetext export`), else torch; torch: the saved method; onnx."
TASK_HELP = "For a multi-task model (`train --task ...`): which task's head answers."


def friendly_errors(command: Callable) -> Callable:
    """Show tunetext's own errors (which already say what to fix) as one red line and exit 2, not a traceback."""
    from tunetext.errors import TunetextError

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (TunetextError, FileNotFoundError) as exc:
            Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def main() -> None:
    from tunetext.cli import commands  # noqa: F401  (registers the commands on `app`)

    app()
