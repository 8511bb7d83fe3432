"""Metrics and their presentation."""

from tunetext.evaluation.metrics import evaluate

__all__ = ["evaluate"]
