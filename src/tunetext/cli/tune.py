"""`tunetext tune`: an Optuna search for one method's hyperparameters, resumable and shareable across machines."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from tunetext.cli import app, friendly_errors
from tunetext.cli.commands import DATA_HELP, parse_params

console = Console()


@app.command()
@friendly_errors
def tune(
    method: str = typer.Option(..., "--method", "-m", help="A method name; see `tunetext methods`."),
    data: str = typer.Option(..., "--data", "-d", help=DATA_HELP),
    trials: int = typer.Option(20, "--trials", "-n", help="Finished trials the study should hold (all workers together)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for best.json, plots and trials.csv "
                                       "(default: tune-METHOD-DATA)."),
    storage: Optional[str] = typer.Option(None, help="Optuna RDB URL shared by every worker, e.g. postgresql://user@host/db "
                                          "(default: sqlite:///OUT/study.db)."),
    study_name: Optional[str] = typer.Option(None, help="Same name + storage resumes the study (default: METHOD-DATA)."),
    space: Optional[Path] = typer.Option(None, help="JSON file overriding the method's search space: "
                                         "{\"lr\": {\"low\": 1e-5, \"high\": 1e-3, \"log\": true}, \"batch_size\": [16, 32]}."),
    param: list[str] = typer.Option([], "--param", "-p", help="A fixed hyperparameter as key=value (repeatable)."),
    metric: str = typer.Option("accuracy", help="Validation metric to maximise: accuracy or f1_macro."),
    seed: int = typer.Option(0, help="Seed for the train/validation split and the sampler."),
    text_column: Optional[str] = typer.Option(None, help="Text column (auto-detected by default)."),
    label_column: Optional[str] = typer.Option(None, help="Label column (auto-detected by default)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write into --out even if it holds files tunetext did not "
                                   "write (its best.json, trials.csv and plots are replaced)."),
) -> None:
    """Search hyperparameters on the validation split (never the test split); write the best as a `train --config` file."""
    from tunetext import api

    api.tune(method, data, trials=trials, out=out, storage=storage, study_name=study_name, space=space,
             params=parse_params(param), metric=metric, seed=seed, text_column=text_column, label_column=label_column,
             overwrite=overwrite, console=console)
