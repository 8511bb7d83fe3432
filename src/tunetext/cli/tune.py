"""`tunetext tune`: an Optuna search for one method's hyperparameters, resumable and shareable across machines."""

from __future__ import annotations

import json
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
    from tunetext.data import load_splits, stratified_holdout
    from tunetext.errors import ConfigError
    from tunetext.io import check_output_dir, write_json
    from tunetext.tune import SearchSpace, best_config, run_study, save_plots

    try:
        overrides = json.loads(space.read_text(encoding="utf-8")) if space else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--space {space} is not valid JSON ({exc}); see `tunetext tune --help` for its shape.") from None
    search = SearchSpace.for_method(method, overrides | parse_params(param))
    splits = load_splits(data, text_column=text_column, label_column=label_column, seed=seed)
    train, validation = splits.train, splits.validation
    if not validation:
        train, validation = stratified_holdout(train, 0.2, seed=seed)
    out = out or Path(f"tune-{method}-{splits.name}")
    # An earlier run's folder (rerunning resumes its study) or a new one; never a folder of other files.
    inputs = [path for path in (Path(data), space) if path is not None and path.exists()]
    check_output_dir(out, markers=("best.json", "study.db"), inputs=inputs, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    study_name = study_name or f"{method}-{splits.name}"
    console.print(f"[bold]{method}[/] on [bold]{splits.name}[/]: {len(train):,} train, {len(validation):,} validation; "
                  f"searching {', '.join(search.searched)}; study {study_name!r} in {storage}")

    def progress(study, trial) -> None:
        value = "pruned" if trial.value is None else f"{trial.value:.4f}"
        console.print(f"trial {trial.number}: {value}  {search.params_of(trial.params)}", highlight=False)

    study = run_study(search, train, validation, trials=trials, storage=storage, study_name=study_name,
                      metric=metric, seed=seed, on_trial=progress)
    config = best_config(study, search)
    write_json(out / "best.json", config)
    study.trials_dataframe().to_csv(out / "trials.csv", index=False)
    plots = save_plots(study, out)
    tuned = config["tuned"]
    default = "n/a" if tuned["default_score"] is None else f"{tuned['default_score']:.4f}"
    console.print(f"validation {metric}: best {tuned['validation_score']:.4f} (trial {tuned['trial']}), "
                  f"defaults {default}; {tuned['finished_trials']} finished trials")
    console.print(f"Best parameters: {json.dumps(config['params'])}", highlight=False)
    console.print(f"Wrote {out / 'best.json'} (use: tunetext train --config {out / 'best.json'} --data ... --out ...), "
                  f"trials.csv, {', '.join(p.name for p in plots)}")
