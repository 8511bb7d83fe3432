"""Hyperparameter search with Optuna: per-method search spaces, pruning, resumable shared studies."""

from tunetext.tune.config import read_config
from tunetext.tune.space import SEARCH_SPACES, SearchSpace
from tunetext.tune.study import best_config, default_score, run_study, save_plots

__all__ = ["SEARCH_SPACES", "SearchSpace", "best_config", "default_score", "read_config", "run_study", "save_plots"]
