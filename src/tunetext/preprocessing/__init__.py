"""Text normalisers applied before any method sees the text, and the domain tokens they introduce.

A method that takes a `preprocess` hyperparameter gets it applied by `Method` to training and prediction
texts alike; since hyperparameters are saved with the model, a loaded model normalises exactly as it
was trained.
"""

from __future__ import annotations

from typing import Callable

from tunetext.errors import ConfigError
from tunetext.preprocessing.tokens import add_domain_tokens, domain_tokens
from tunetext.preprocessing.tweet import TweetNormaliser

NORMALISERS: dict[str, Callable[..., Callable[[str], str]]] = {"tweet": TweetNormaliser}


def get_normaliser(spec: str | dict) -> Callable[[str], str]:
    """`"tweet"`, or `{"name": "tweet", "hashtags": False, ...}` to switch single steps off."""
    options = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = options.pop("name", None)
    if name not in NORMALISERS:
        raise ConfigError(f"preprocess={spec!r}: unknown normaliser {name!r}; available: {', '.join(NORMALISERS)} "
                          "(or a dict such as {'name': 'tweet', 'emoji': False}).")
    try:
        return NORMALISERS[name](**options)
    except TypeError:
        raise ConfigError(f"preprocess={spec!r}: bad options for {name!r}; valid: "
                          f"{', '.join(NORMALISERS[name].__dataclass_fields__)}.") from None


__all__ = ["NORMALISERS", "TweetNormaliser", "add_domain_tokens", "domain_tokens", "get_normaliser"]
