"""One Optuna study per (method, data): sample on train, score on validation, prune weak fine-tuning runs.

The study lives in an RDB storage (SQLite file by default, any SQLAlchemy URL such as postgresql://…),
so a killed search resumes and several machines can work on the same study: each `run_study` call runs
trials until the study holds `trials` finished (complete or pruned) ones, counted across every worker.
Trial 0 of a fresh study runs the method's defaults, so the best found is never worse on validation.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Callable

from tunetext.data.dataset import LabeledTexts
from tunetext.errors import ConfigError
from tunetext.training.config import METRICS as LOOP_METRICS
from tunetext.tune.space import SearchSpace

OBJECTIVES = tuple(name for name, better in LOOP_METRICS.items() if better == "max")
"""Metrics a study maximises (accuracy, f1_macro): the training loop reports them at each validation, for the
pruner, under the names tunetext.evaluation gives the trial's final score."""
HEARTBEAT_SECONDS = 60
"""A running trial writes a heartbeat this often; one silent for twice as long was killed and is retried."""


def optuna_module():
    """Optuna, or an error that says which extra brings it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("hyperparameter search needs Optuna: pip install tunetext[tune]") from None
    return optuna


def run_study(
    space: SearchSpace,
    train: LabeledTexts,
    validation: LabeledTexts,
    *,
    trials: int,
    storage: str,
    study_name: str,
    metric: str = "accuracy",
    seed: int = 0,
    on_trial: Callable | None = None,
):
    """Run the study named `study_name` in `storage` until it has `trials` finished trials; returns it."""
    optuna = optuna_module()
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    if metric not in OBJECTIVES:
        raise ConfigError(f"metric={metric!r}; choose one of: {', '.join(OBJECTIVES)}.")
    if trials < 1:
        raise ConfigError(f"trials={trials!r} must be >= 1.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats, matplotlib plots
    rdb = RDBStorage(storage, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=2 * HEARTBEAT_SECONDS,
                     heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))
    study = optuna.create_study(
        study_name=study_name, storage=rdb, load_if_exists=True, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        # Prune from the second validation on, against the median of finished trials at the same epoch.
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )
    _check_same_search(study, space, metric)
    if not study.trials:
        study.enqueue_trial(space.default_trial())
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    remaining = trials - len(study.get_trials(deepcopy=False, states=finished))
    if remaining > 0:
        callbacks = [MaxTrialsCallback(trials, states=finished)] + ([on_trial] if on_trial else [])
        study.optimize(_objective(space, train, validation, metric), n_trials=remaining, callbacks=callbacks)
    return study


def _objective(space: SearchSpace, train: LabeledTexts, validation: LabeledTexts, metric: str):
    from tunetext.evaluation import evaluate
    from tunetext.methods import make_method
    from tunetext.training.loop import on_evaluation

    def objective(trial) -> float:
        method = make_method(space.method, **space.sample(trial))
        with on_evaluation(_pruning_reporter(trial, metric)):
            method.fit(train.texts, train.labels, validation=validation)
        proba = method.predict_proba(validation.texts)
        return evaluate(validation.labels, proba, method.classes_, predicted=method.decide(proba))[metric]

    return objective


def _pruning_reporter(trial, key: str) -> Callable[[dict], None]:
    """Report each validation to Optuna (step = evaluation number: comparable across batch sizes); prune if weak."""
    import optuna

    evaluations = itertools.count()

    def report(record: dict) -> None:
        trial.report(record[key], next(evaluations))
        if trial.should_prune():
            raise optuna.TrialPruned()

    return report


def _check_same_search(study, space: SearchSpace, metric: str) -> None:
    """Refuse to mix trials of another method or metric into a resumed study (their scores don't compare)."""
    search = {"method": space.method, "metric": metric}
    saved = {key: study.user_attrs.get(key) for key in search}
    if not study.user_attrs:
        for key, value in search.items():
            study.set_user_attr(key, value)
    elif saved != search:
        raise ConfigError(f"study {study.study_name!r} searches {saved}, not {search}; "
                          "pass another --study-name (or --storage) for this search.")


def best_config(study, space: SearchSpace) -> dict:
    """The config file `tunetext train --config` reads: the method, its best parameters, and where they came from."""
    from optuna.trial import TrialState

    best = study.best_trial
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    return {
        "method": space.method,
        "params": space.params_of(best.params),
        "tuned": {"study": study.study_name, "metric": study.user_attrs.get("metric"), "validation_score": best.value,
                  "default_score": default_score(study), "trial": best.number, "finished_trials": len(finished)},
    }


def default_score(study) -> float | None:
    """Trial 0's validation score: the method's defaults (where the space contains them)."""
    first = study.trials[0] if study.trials else None
    return first.value if first is not None else None


def save_plots(study, out: Path) -> list[Path]:
    """history.png always; importance.png when two or more trials finished (importance needs a spread)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState
    from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances

    from tunetext.io import atomic_path

    written = []
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    plots = {"history.png": plot_optimization_history}
    if len(complete) >= 2 and len({tuple(sorted(t.params.items())) for t in complete}) >= 2:
        plots["importance.png"] = plot_param_importances
    for name, plot in plots.items():
        axes = plot(study)
        with atomic_path(out / name) as tmp:
            axes.figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        plt.close(axes.figure)
        written.append(out / name)
    return written
