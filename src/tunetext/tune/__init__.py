"""Hyperparameter search with Optuna: per-method search spaces, pruning, resumable shared studies."""

from tunetext.tune.config import read_config
from tunetext.tune.space import SearchSpace
from tunetext.tune.study import best_config, default_score, run_study, save_plots

__all__ = ["SearchSpace", "best_config", "default_score", "read_config", "run_study", "save_plots"]
