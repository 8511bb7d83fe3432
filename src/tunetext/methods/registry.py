"""Methods are looked up by name, so the CLI, config files and compare never branch on method type."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from tunetext.errors import ConfigError

_REGISTRY: dict[str, type] = {}
M = TypeVar("M", bound=type)


def register(name: str) -> Callable[[M], M]:
    """Class decorator: make a Method available under `name`."""

    def decorator(cls: M) -> M:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"method name {name!r} is already registered by {_REGISTRY[name].__name__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorator


def get_method_class(name: str) -> type:
    if name not in _REGISTRY:
        _import_builtin_methods(first=name)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown method {name!r}; available methods are: {', '.join(list_methods())}.") from None


def make_method(name: str, **params: Any):
    """Instantiate the method registered as `name` with hyperparameters `params`."""
    cls = get_method_class(name)
    try:
        return cls(**params)
    except TypeError as exc:
        valid = ", ".join(sorted(cls().get_params()))
        raise ConfigError(f"bad parameters for method {name!r}: {exc}. Valid parameters: {valid}.") from None


def list_methods() -> list[str]:
    _import_builtin_methods()
    return list(_REGISTRY)


def _import_builtin_methods(first: str | None = None) -> None:
    """Import every module of `tunetext.methods` once, so its @register decorators run.

    A new method is a new module with a registered class: nothing else needs editing. With `first`, the
    module named like that method (tfidf-logreg: tfidf.py, pretrained-head: pretrained_head.py) is tried
    alone before the rest, so loading a TF-IDF model never imports the transformer methods and torch.
    """
    import importlib
    import pkgutil

    import tunetext.methods as package

    modules = [f"{package.__name__}.{module.name}" for module in pkgutil.iter_modules(package.__path__)]
    if first is not None:
        for guess in {f"{package.__name__}.{first.replace('-', '_')}", f"{package.__name__}.{first.split('-')[0]}"}:
            if guess in modules:
                importlib.import_module(guess)
        if first in _REGISTRY:
            return
    for module in modules:
        importlib.import_module(module)
    # Registration order depends on which module came first; list methods in module order whatever it was.
    rank = {module: i for i, module in enumerate(modules)}
    ordered = sorted(_REGISTRY.items(), key=lambda item: rank.get(item[1].__module__, len(rank)))
    _REGISTRY.clear()
    _REGISTRY.update(ordered)
