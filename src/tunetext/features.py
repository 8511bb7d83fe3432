"""Frozen-encoder features, cached on disk per text, so no text is ever encoded twice.

Learning curves and repeated runs fit on many subsets of the same texts; with a per-text cache each
subset after the first is a pure cache hit. Entries are keyed by a content hash of the model folder,
the pooling, the max length, `all_layers` and the long-text strategy (one directory per such *feature space*:
a chunk-pooled text is not its truncation) and, inside
it, by a hash of each text. Shards are written atomically and named by their content, so concurrent
runs never see half-written files and writing the same texts twice is harmless.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from tunetext import encoders
from tunetext.data.dataset import Text
from tunetext.errors import ConfigError
from tunetext.evaluation.cost import charge_reused
from tunetext.io import atomic_path

POOLINGS = ("mean", "cls")
_KEY_BYTES = 16


_bypassed = False


@contextmanager
def bypass_cache() -> Iterator[None]:
    """Encode everything afresh inside the block: for honest prediction-speed measurements."""
    global _bypassed
    previous, _bypassed = _bypassed, True
    try:
        yield
    finally:
        _bypassed = previous


def cache_root() -> Path:
    """`$TUNETEXT_CACHE`, else `~/.cache/tunetext`."""
    return Path(os.environ.get("TUNETEXT_CACHE") or Path.home() / ".cache" / "tunetext")


def encode(
    texts: Sequence[Text],
    *,
    model: str | os.PathLike | None = None,
    pooling: str = "mean",
    max_length: int = 128,
    all_layers: bool = False,
    batch_size: int = 128,
    cache: bool = True,
    long_texts: str = "truncate",
) -> np.ndarray:
    """Pooled frozen-encoder features of `texts`, float32 `(n, hidden)` or `(n, layers + 1, hidden)`.

    Only texts missing from the cache go through the encoder; `cache=False` neither reads nor writes it.
    `long_texts`: "truncate", "head_tail" or "chunks" (pooled), see `encoders.windows`.
    """
    if pooling not in POOLINGS:
        raise ConfigError(f"unknown pooling {pooling!r}; use one of: {', '.join(POOLINGS)}.")
    texts = list(texts)
    path = encoders.resolve_model_path(model)
    settings = dict(pooling=pooling, max_length=int(max_length), all_layers=bool(all_layers))
    if long_texts != "truncate":  # truncated features keep the feature space (and cache) they always had
        settings["long_texts"] = long_texts

    def run_encoder(batch: list[Text]) -> np.ndarray:
        tokenizer, encoder = _load(path)
        return encoders.embed(encoder, tokenizer, batch, batch_size=batch_size, **settings)

    if not cache or _bypassed:
        return run_encoder(texts)
    store = FeatureCache(cache_root() / "features" / _space_id(path, settings))
    keys = np.array([text_key(text) for text in texts], dtype=f"U{2 * _KEY_BYTES}")
    found, missing, reused_seconds = store.get(keys)
    charge_reused(reused_seconds)
    if len(missing):
        # Encode each distinct missing text once, even if it repeats in `texts`.
        new_keys, first = np.unique(keys[missing], return_index=True)
        start = time.perf_counter()
        new_features = run_encoder([texts[i] for i in missing[first]])
        store.put(new_keys, new_features, (time.perf_counter() - start) / len(new_keys))
        found, missing, _ = store.get(keys)
    assert found is not None and not len(missing)
    return found


class FeatureCache:
    """One feature space on disk: shards of (`<shard>.keys.npy`, `<shard>.npy`) rows, and `<shard>.seconds.npy`:
    what encoding one of its texts cost (absent from shards written before tunetext recorded it: charged 0)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, keys: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, float]:
        """Features of `keys` (rows of missing keys left zero; None if none is cached), the missing indices, and
        the seconds encoding the distinct cached ones first cost."""
        unique, inverse = np.unique(keys, return_inverse=True)
        index = _shard_index(self.directory)
        by_shard: dict[str, list[tuple[int, int]]] = {}
        for target, key in enumerate(unique.tolist()):
            if key in index.rows:
                shard, row = index.rows[key]
                by_shard.setdefault(shard, []).append((row, target))
        hit = np.zeros(len(unique), dtype=bool)
        seconds = 0.0
        out: np.ndarray | None = None
        for shard_name, pairs in by_shard.items():
            shard = np.load(self.directory / f"{shard_name}.npy", mmap_mode="r")
            if out is None:
                out = np.zeros((len(unique),) + shard.shape[1:], dtype=np.float32)
            rows, targets = (list(column) for column in zip(*pairs))
            out[targets] = shard[rows]
            hit[targets] = True
            seconds += len(rows) * index.seconds[shard_name]
        return (None if out is None else out[inverse]), np.flatnonzero(~hit[inverse]), seconds

    def put(self, keys: np.ndarray, features: np.ndarray, seconds_per_text: float = 0.0) -> None:
        """Add a shard; the keys file is written last, so a shard without one is never read."""
        shard = hashlib.blake2b(keys.tobytes(), digest_size=_KEY_BYTES).hexdigest()
        arrays = (".npy", np.asarray(features, dtype=np.float32)), (".seconds.npy", np.float64(seconds_per_text))
        for suffix, array in (*arrays, (".keys.npy", keys)):
            with atomic_path(self.directory / f"{shard}{suffix}") as tmp, open(tmp, "wb") as handle:
                np.save(handle, array)


@dataclass
class _ShardIndex:
    """Where each cached key is (shard, row), and each shard's seconds per text, for the shards read so far."""

    shards: set[str] = field(default_factory=set)
    rows: dict[str, tuple[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


_indexes: dict[Path, _ShardIndex] = {}
_index_lock = threading.Lock()


def _shard_index(directory: Path) -> _ShardIndex:
    """The index of `directory`'s shards, kept in memory: shards are named by their content and never change,
    so only shards new since the last call are read (rescanning every keys file made each call cost as much
    as the whole cache). A shard gone from disk (a cleared cache) rebuilds the index."""
    names = {path.name[: -len(".keys.npy")] for path in directory.glob("*.keys.npy")} if directory.exists() else set()
    with _index_lock:
        index = _indexes.get(directory)
        if index is None or not index.shards <= names:
            index = _indexes[directory] = _ShardIndex()
        for name in sorted(names - index.shards):
            for row, key in enumerate(np.load(directory / f"{name}.keys.npy").tolist()):
                index.rows.setdefault(key, (name, row))
            cost = directory / f"{name}.seconds.npy"
            index.seconds[name] = float(np.load(cost)) if cost.exists() else 0.0
            index.shards.add(name)
        return index


def text_key(text: Text) -> str:
    """Hash of one text; a (str, str) pair hashes differently from any single string."""
    return hashlib.blake2b(json.dumps(text).encode("utf-8"), digest_size=_KEY_BYTES).hexdigest()


def model_fingerprint(model_path: str) -> str:
    """Content hash of the files of a model folder: re-saving a model under the same path changes it."""
    files = sorted(p for p in Path(model_path).iterdir() if p.is_file())
    stats = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _fingerprint(str(Path(model_path).resolve()), stats)


@functools.lru_cache(maxsize=16)
def _fingerprint(model_path: str, stats: tuple) -> str:
    """Hashing ~100 MB of weights takes a moment, so it is done once per unchanged folder."""
    digest = hashlib.blake2b(digest_size=_KEY_BYTES)
    for name, *_ in stats:
        digest.update(name.encode() + b"\0")
        with open(Path(model_path) / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _space_id(model_path: str, settings: dict) -> str:
    tag = "-".join(f"{k}={v}" for k, v in sorted(settings.items()))
    return hashlib.blake2b(f"{model_fingerprint(model_path)}|{tag}".encode(), digest_size=_KEY_BYTES).hexdigest()


def resolve_long_texts(texts: Sequence[Text], *, model: str | os.PathLike | None, max_length: int, long_texts: str) -> dict:
    """The long-text record a frozen method keeps (`encoders.resolve_long_texts`), from its training texts'
    token lengths: the tokenizer alone, so a fit whose features are all cached loads no encoder."""
    tokenizer = _tokenizer(encoders.resolve_model_path(model))
    texts = list(texts)
    pairs = bool(texts) and isinstance(texts[0], tuple)
    return encoders.resolve_long_texts(long_texts, encoders.token_lengths(tokenizer, texts), max_length, pairs=pairs)


@functools.lru_cache(maxsize=1)
def _load(model_path: str):
    """Keep the last encoder in memory: fit and predict of one run share it."""
    return _tokenizer(model_path), encoders.load_encoder(model_path)


@functools.lru_cache(maxsize=1)
def _tokenizer(model_path: str):
    return encoders.load_tokenizer(model_path)
