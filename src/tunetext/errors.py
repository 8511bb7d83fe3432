"""Errors a user can act on: each message states the value, the expectation and the fix."""


class TunetextError(Exception):
    """Base class for every error tunetext raises on purpose."""


class DataError(TunetextError, ValueError):
    """Input data that cannot be used as given (missing column, empty texts, one class, ...)."""


class ConfigError(TunetextError, ValueError):
    """A hyperparameter or option outside its valid range, or an unknown name."""


class NotFittedError(TunetextError, RuntimeError):
    """A method used for prediction or saving before `fit`."""


class OutputError(TunetextError, ValueError):
    """An output path tunetext refuses to write: it holds the user's files, the input data, or the current folder."""


class ModelError(TunetextError, ValueError):
    """A saved model folder that cannot be read: a damaged or truncated file, or a broken ONNX export."""
