"""Label audit: planted flips on a real slice are flagged; the report files; errors that say what to do."""

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tunetext.audit import audit_labels, write_audit
from tunetext.cli import app as cli
from tunetext.cli import commands  # noqa: F401  (registers every command, `audit` included)
from tunetext.data.dataset import LabeledTexts
from tunetext.errors import DataError, OutputError

pytest.importorskip("cleanlab")


@pytest.fixture(scope="module")
def planted(real_slice):
    """sms-spam's 400-row slice with 5% of its labels flipped (seeded)."""
    data = real_slice("sms-spam", "train")
    labels = list(data.labels)
    flipped = np.random.default_rng(0).choice(len(labels), size=20, replace=False)
    for i in flipped:
        labels[i] = "ham" if labels[i] == "spam" else "spam"
    return LabeledTexts(data.texts, labels, "sms-spam-slice"), set(flipped.tolist())


def test_audit_flags_most_planted_flips(planted):
    data, flipped = planted
    result = audit_labels(data, methods=["tfidf-logreg"])
    hits = flipped & set(result.flagged.tolist())
    assert len(hits) >= 0.7 * len(flipped)  # recall
    assert len(hits) >= 0.5 * len(result.flagged)  # precision
    first = result.rows()[0]
    assert first["suggested_label"] != first["given_label"] and 0.5 <= first["confidence"] <= 1
    assert first["given_label"] == data.labels[first["row"]] and first["text"] == data.texts[first["row"]]


def test_report_files_are_written_and_only_over_an_earlier_audit(planted, tmp_path):
    data, _ = planted
    result = audit_labels(data, methods=["tfidf-logreg"], folds=3)
    summary = write_audit(result, tmp_path / "audit")
    rows = list(csv.DictReader((tmp_path / "audit" / "audit.csv").open(encoding="utf-8")))
    assert len(rows) == summary["flagged"] == len(result.flagged) > 0
    assert list(rows[0])[:5] == ["row", "text", "given_label", "suggested_label", "confidence"]
    assert "look mislabeled" in (tmp_path / "audit" / "audit.md").read_text()
    assert "<table>" in (tmp_path / "audit" / "audit.html").read_text()
    assert json.loads((tmp_path / "audit" / "audit.json").read_text())["folds"] == 3
    write_audit(result, tmp_path / "audit")  # an earlier audit is replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(OutputError, match="holds files tunetext did not write"):
        write_audit(result, tmp_path / "mine")


def test_too_few_examples_for_the_folds_says_what_to_pass():
    data = LabeledTexts(["a b", "c d", "e f", "g h", "i j", "k l"], ["x", "x", "x", "x", "y", "y"])
    with pytest.raises(DataError, match="'y' has 2. Pass folds=2"):
        audit_labels(data, methods=["tfidf-logreg"], folds=5)


def test_cli_audits_a_file_whole(planted, tmp_path):
    data, _ = planted
    path = tmp_path / "noisy.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(data.texts, data.labels))
    result = CliRunner().invoke(cli, ["audit", "--data", str(path), "--out", str(tmp_path / "out"),
                                      "--methods", "tfidf-logreg", "--folds", "3"])
    assert result.exit_code == 0, result.output
    assert "of 400 texts" in result.output and (tmp_path / "out" / "audit.csv").exists()
    result = CliRunner().invoke(cli, ["audit", "--data", str(path), "--out", str(tmp_path / "o2"),
                                      "--methods", "tfidf-logreg", "--folds", "300"])
    assert result.exit_code == 2 and "--folds" in result.output


def test_compare_reports_the_planted_flips_it_finds(planted, real_slice, tmp_path):
    from tunetext.compare import Budget, run_comparison
    from tunetext.data.dataset import DatasetSplits

    data, flipped = planted
    splits = DatasetSplits("sms-spam-planted", data, real_slice("sms-spam", "test", 100))
    summary = run_comparison(splits, out=tmp_path, methods=["tfidf-logreg", "tfidf-nb"],
                             budget=Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1), cv="off")
    audit = summary["label_audit"]
    assert audit["methods"] == ["tfidf-logreg"] and audit["n"] == len(data)
    rows = list(csv.DictReader((tmp_path / "label_audit.csv").open()))
    assert len(rows) == audit["flagged"] and len(flipped & {int(r["row"]) for r in rows}) >= 0.6 * len(flipped)
    md = (tmp_path / "report.md").read_text()
    assert f"## Label audit: {audit['flagged']} of {len(data)} training texts" in md
    assert any("look mislabeled to a label audit" in line for line in summary["verdict"])  # 5% flipped: notable
