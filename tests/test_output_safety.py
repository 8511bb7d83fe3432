"""Issue 12 item 1: an output path never destroys what tunetext did not write (user files, the input, the cwd)."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tunetext.cli import app
from tunetext.cli import commands  # noqa: F401  (registers the commands)
from tunetext.errors import OutputError
from tunetext.export import export_onnx
from tunetext.io import _UMASK, atomic_dir, check_output_dir, check_output_file

runner = CliRunner()
SPAM = Path("tests/data/sms-spam-train.csv").resolve()


def train(*args: str):
    return runner.invoke(app, ["train", "--method", "tfidf-svm", *args])


def one_line(output: str) -> str:
    return " ".join(output.split())


def snapshot(folder: Path) -> dict:
    """Every path under `folder` with its bytes (None for folders): equal snapshots mean nothing was touched."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


@pytest.fixture
def data(tmp_path) -> Path:
    path = tmp_path / "spam.csv"
    shutil.copy(SPAM, path)
    return path


def test_train_keeps_a_folder_of_user_files_and_names_them(data, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("three weeks of notes")
    before = snapshot(tmp_path)
    result = train("--data", str(data), "--out", str(out))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "holds files tunetext did not write: notes.txt (it has no tunetext.json)" in one_line(result.output)
    assert "--overwrite" in result.output
    assert snapshot(tmp_path) == before  # no model, no temporary folder, nothing removed


def test_overwrite_replaces_a_folder_of_user_files(data, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("disposable")
    result = train("--data", str(data), "--out", str(out), "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (out / "notes.txt").exists() and (out / "tunetext.json").exists() and (out / "metrics.json").exists()


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_train_never_replaces_a_file(data, tmp_path, overwrite):
    victim = tmp_path / "victim.csv"
    victim.write_text("id,amount\n1,250\n")
    result = train("--data", str(data), "--out", str(victim), *overwrite)
    assert result.exit_code == 2 and "victim.csv is a file" in one_line(result.output)
    assert victim.read_text() == "id,amount\n1,250\n"


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_train_never_writes_over_its_training_data(data, overwrite):
    before = data.read_bytes()
    result = train("--data", str(data), "--out", str(data), *overwrite)
    assert result.exit_code == 2 and "spam.csv is the input" in one_line(result.output)
    assert data.read_bytes() == before


def test_overwrite_never_replaces_the_folder_holding_the_data(data, tmp_path):
    result = train("--data", str(data), "--out", str(tmp_path), "--overwrite")
    assert result.exit_code == 2 and "holds the input" in one_line(result.output)
    assert data.read_bytes() == SPAM.read_bytes()


@pytest.mark.parametrize("out", [".", ".."])
def test_train_refuses_the_current_folder_and_its_parents(data, tmp_path, monkeypatch, out):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    result = train("--data", str(data), "--out", out, "--overwrite")
    assert result.exit_code == 2 and "the current or home folder or one above it" in one_line(result.output)
    assert snapshot(tmp_path) == before  # and no `.._xxx.old` litter


def test_retraining_replaces_a_tunetext_model_folder(data, tmp_path):
    out = tmp_path / "model"
    assert train("--data", str(data), "--out", str(out)).exit_code == 0
    result = train("--data", str(data), "--out", str(out), "--param", "C=0.01")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "tunetext.json").read_text())["params"]["C"] == 0.01
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "spam.csv"]  # nothing left beside it


def test_train_refuses_a_checkpoint_folder_inside_the_output(data, tmp_path):
    result = train("--data", str(data), "--out", str(tmp_path / "m"), "--param", f"checkpoint_dir={tmp_path / 'm' / 'ckpt'}")
    assert result.exit_code == 2 and "m holds the input" in one_line(result.output) and not (tmp_path / "m").exists()


def test_predict_refuses_its_input_and_an_existing_file_without_overwrite(data, tmp_path):
    model = tmp_path / "model"
    assert train("--data", str(data), "--out", str(model)).exit_code == 0
    before = data.read_bytes()
    for extra in ([], ["--overwrite"]):
        result = runner.invoke(app, ["predict", str(model), "--data", str(data), "--out", str(data), *extra])
        assert result.exit_code == 2 and "spam.csv is the input" in one_line(result.output)
        assert data.read_bytes() == before
    labeled = tmp_path / "labeled.csv"
    labeled.write_text("earlier results\n")
    result = runner.invoke(app, ["predict", str(model), "--data", str(data), "--out", str(labeled)])
    assert result.exit_code == 2 and "labeled.csv already exists" in one_line(result.output)
    assert labeled.read_text() == "earlier results\n"
    result = runner.invoke(app, ["predict", str(model), "--data", str(data), "--out", str(labeled), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "predicted_label" in labeled.read_text().splitlines()[0]


def test_evaluate_refuses_to_write_metrics_over_its_data(data, tmp_path):
    model = tmp_path / "model"
    assert train("--data", str(data), "--out", str(model)).exit_code == 0
    result = runner.invoke(app, ["evaluate", str(model), "--data", str(data), "--out", str(data), "--overwrite"])
    assert result.exit_code == 2 and "spam.csv is the input" in one_line(result.output)
    assert data.read_bytes() == SPAM.read_bytes()


def test_tune_refuses_a_folder_of_user_files(data, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "draft.docx").write_bytes(b"\x00draft")
    result = runner.invoke(app, ["tune", "--method", "tfidf-svm", "--data", str(data), "--trials", "1", "--out", str(out)])
    assert result.exit_code == 2 and "draft.docx (it has no best.json or study.db)" in one_line(result.output)
    assert sorted(p.name for p in out.iterdir()) == ["draft.docx"]


def test_export_refuses_an_onnx_folder_it_did_not_write(tmp_path):
    (tmp_path / "model" / "onnx").mkdir(parents=True)
    (tmp_path / "model" / "onnx" / "mine.onnx").write_bytes(b"user model")
    with pytest.raises(OutputError, match=r"onnx holds files tunetext did not write: mine.onnx \(it has no export.json\)"):
        export_onnx(tmp_path / "model")  # refused before the model folder is even read
    assert (tmp_path / "model" / "onnx" / "mine.onnx").read_bytes() == b"user model"


# ---- the building blocks ----------------------------------------------------------------------------
def test_check_output_dir_refuses_a_symbolic_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(OutputError, match="link is a symbolic link to .*real; .*Pass the folder it points to"):
        check_output_dir(tmp_path / "link", markers=("tunetext.json",), overwrite=True)


def test_check_output_file_refuses_a_folder(tmp_path):
    with pytest.raises(OutputError, match="is a folder; pass an output file path inside it"):
        check_output_file(tmp_path, overwrite=True)


def test_atomic_dir_puts_the_old_folder_back_when_the_swap_fails(tmp_path, monkeypatch):
    target = tmp_path / "model"
    target.mkdir()
    (target / "tunetext.json").write_text("{}")
    real_replace, calls = os.replace, []

    def failing_second_move(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the first moves the old folder aside; the second would put the new one in place
            raise OSError(16, "Device or resource busy")
        real_replace(src, dst)

    monkeypatch.setattr("tunetext.io.os.replace", failing_second_move)
    with pytest.raises(OSError, match="busy"):
        with atomic_dir(target, markers=("tunetext.json",)) as tmp:
            (tmp / "tunetext.json").write_text('{"new": true}')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"] and (target / "tunetext.json").read_text() == "{}"


def test_atomic_dir_gives_every_file_the_umask_mode(tmp_path):
    from safetensors.numpy import save_file

    with atomic_dir(tmp_path / "out") as tmp:
        save_file({"w": np.zeros(3, dtype=np.float32)}, str(tmp / "model.safetensors"))  # safetensors writes 0600
        (tmp / "sub").mkdir(mode=0o700)
        (tmp / "sub" / "x.json").write_text("{}")
    modes = {p.name: p.stat().st_mode & 0o777 for p in [tmp_path / "out", *(tmp_path / "out").rglob("*")]}
    assert modes == {"out": 0o777 & ~_UMASK, "model.safetensors": 0o666 & ~_UMASK,
                     "sub": 0o777 & ~_UMASK, "x.json": 0o666 & ~_UMASK}
