"""Search spaces: each method's default (its `search_space`), in the same JSON shape a user's override file has.

Each entry maps a hyperparameter to a value (fixed), a list (choose one) or `{"low", "high"[, "log"]}`
(a range: int when both ends are ints, else float). JSON has no tuples, so list choices such as
`ngram_range: [[1, 1], [1, 2]]` are shown to Optuna as their JSON text and handed to the method as tuples.
"""

from __future__ import annotations

import json
from typing import Any

from tunetext.errors import ConfigError


class SearchSpace:
    """The hyperparameters of one method: fixed values plus the ones Optuna samples."""

    def __init__(self, method: str, specs: dict[str, Any]) -> None:
        from tunetext.methods import get_method_class

        valid = get_method_class(method)().get_params()
        unknown = sorted(set(specs) - set(valid))
        if unknown:
            raise ConfigError(f"{method} has no hyperparameter {', '.join(map(repr, unknown))}; "
                              f"valid ones are: {', '.join(sorted(valid))}.")
        self.method = method
        self.specs = {name: _check_spec(name, spec) for name, spec in specs.items()}
        self.defaults = valid

    @classmethod
    def for_method(cls, method: str, overrides: dict[str, Any] | None = None) -> "SearchSpace":
        """The method's own `search_space`, with `overrides` (same shape; a plain value fixes a parameter) on top."""
        from tunetext.methods import get_method_class, list_methods

        overrides = overrides or {}
        default = get_method_class(method).search_space
        if not default and not any(_is_searched(spec) for spec in overrides.values()):
            with_space = [name for name in list_methods() if get_method_class(name).search_space]
            raise ConfigError(f"no default search space for {method!r} (methods with one: {', '.join(with_space)}); "
                              "pass --space FILE.json with ranges, e.g. {\"C\": {\"low\": 0.01, \"high\": 10, \"log\": true}}.")
        return cls(method, {**default, **overrides})

    @property
    def searched(self) -> list[str]:
        return [name for name, spec in self.specs.items() if _is_searched(spec)]

    def sample(self, trial) -> dict[str, Any]:
        """Method parameters for an Optuna trial: fixed values plus one draw of each searched parameter."""
        drawn = {}
        for name in self.searched:
            spec = self.specs[name]
            if isinstance(spec, list):
                drawn[name] = trial.suggest_categorical(name, [_encode(c) for c in spec])
            else:
                kind = trial.suggest_int if _is_int_range(spec) else trial.suggest_float
                drawn[name] = kind(name, spec["low"], spec["high"], log=spec.get("log", False))
        return self.params_of(drawn)

    def params_of(self, drawn: dict[str, Any]) -> dict[str, Any]:
        """Method parameters from Optuna's values of the searched ones (a trial's `params`)."""
        fixed = {name: spec for name, spec in self.specs.items() if not _is_searched(spec)}
        return fixed | {name: _decode(value) for name, value in drawn.items()}

    def default_trial(self) -> dict[str, Any]:
        """The method's defaults for the searched parameters that the space contains (Optuna's representation)."""
        trial = {}
        for name in self.searched:
            spec, value = self.specs[name], self.defaults[name]
            if isinstance(spec, list):
                if _encode(value) in map(_encode, spec):
                    trial[name] = _encode(value)
            elif value is not None and spec["low"] <= value <= spec["high"]:
                trial[name] = value
        return trial


def _is_searched(spec: Any) -> bool:
    return isinstance(spec, (list, dict))


def _is_int_range(spec: dict) -> bool:
    return all(isinstance(spec[end], int) and not isinstance(spec[end], bool) for end in ("low", "high"))


def _check_spec(name: str, spec: Any) -> Any:
    if isinstance(spec, list) and not spec:
        raise ConfigError(f"search space for {name!r} is an empty list; give the choices, e.g. [8, 16, 32].")
    if isinstance(spec, dict):
        extra = sorted(set(spec) - {"low", "high", "log"})
        if extra or not {"low", "high"} <= set(spec) or not spec["low"] <= spec["high"]:
            raise ConfigError(f"search space for {name!r} is {spec!r}; a range is {{\"low\": L, \"high\": H}} with L <= H "
                              "and optionally \"log\": true. A list means choose one; a plain value fixes it.")
        if spec.get("log") and spec["low"] <= 0:
            raise ConfigError(f"search space for {name!r}: a log range needs low > 0, got {spec['low']!r}.")
    return spec


def _encode(choice: Any) -> Any:
    """Optuna stores only scalars as categorical choices: a list or tuple travels as its JSON text."""
    return json.dumps(list(choice)) if isinstance(choice, (list, tuple)) else choice


def _decode(value: Any) -> Any:
    return tuple(json.loads(value)) if isinstance(value, str) and value.startswith("[") else value
