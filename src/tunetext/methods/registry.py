"""Methods are looked up by name, so the CLI, config files and compare never branch on method type.

Besides the modules of `tunetext.methods`, any installed package can add methods: it declares each in its
metadata as an entry point of the group `tunetext.methods` (`toy = "mypackage.toy:ToyMethod"` under
`[project.entry-points."tunetext.methods"]`), so a new process loading a saved `toy` model finds the class.
A model folder only names its method: loading one never imports a module the folder names.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from tunetext.errors import ConfigError

_REGISTRY: dict[str, type] = {}
ENTRY_POINT_GROUP = "tunetext.methods"
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
        _import_methods(first=name)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown method {name!r}; available methods are: {', '.join(list_methods())}. A method "
                          f"from another package is found once that package is installed with a {ENTRY_POINT_GROUP!r} "
                          "entry point.") from None


def make_method(name: str, **params: Any):
    """Instantiate the method registered as `name` with hyperparameters `params`."""
    cls = get_method_class(name)
    try:
        return cls(**params)
    except TypeError as exc:
        valid = ", ".join(sorted(cls().get_params()))
        raise ConfigError(f"bad parameters for method {name!r}: {exc}. Valid parameters: {valid}.") from None


def list_methods() -> list[str]:
    _import_methods()
    return list(_REGISTRY)


def _load_entry_points(name: str | None = None) -> None:
    """Register the methods installed packages declare (only the one called `name`, when given)."""
    from importlib.metadata import entry_points

    from tunetext.methods.base import Method

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if name is not None and entry.name != name:
            continue
        fix = f"fix or uninstall the package that declares the {ENTRY_POINT_GROUP!r} entry point {entry.name} = {entry.value}"
        try:
            cls = entry.load()
        except Exception as exc:  # whatever importing someone else's module raises
            raise ConfigError(f"method {entry.name!r} could not be loaded ({type(exc).__name__}: {exc}); {fix}.") from exc
        if not (isinstance(cls, type) and issubclass(cls, Method)):
            raise ConfigError(f"method {entry.name!r} is {cls!r}, not a subclass of tunetext.methods.Method; {fix}.")
        register(entry.name)(cls)


def _import_methods(first: str | None = None) -> None:
    """Import what registers methods: every module of `tunetext.methods`, then installed packages' entry points.

    A new method is a new module with a registered class: nothing else needs editing. With `first`, what may
    hold that method is tried alone before the rest: the module named like it (tfidf-logreg: tfidf.py,
    pretrained-head: pretrained_head.py), then the entry point of that name; so loading a TF-IDF model never
    imports the transformer methods and torch, nor loading another package's model every built-in method.
    """
    import importlib
    import pkgutil

    import tunetext.methods as package

    modules = [f"{package.__name__}.{module.name}" for module in pkgutil.iter_modules(package.__path__)]
    if first is not None:
        for guess in {f"{package.__name__}.{first.replace('-', '_')}", f"{package.__name__}.{first.split('-')[0]}"}:
            if guess in modules:
                importlib.import_module(guess)
        if first not in _REGISTRY:
            _load_entry_points(first)
        if first in _REGISTRY:
            return
    for module in modules:
        importlib.import_module(module)
    _load_entry_points()
    # Registration order depends on which module came first; list methods in module order whatever it was
    # (other packages' methods last).
    rank = {module: i for i, module in enumerate(modules)}
    ordered = sorted(_REGISTRY.items(), key=lambda item: rank.get(item[1].__module__, len(rank)))
    _REGISTRY.clear()
    _REGISTRY.update(ordered)
