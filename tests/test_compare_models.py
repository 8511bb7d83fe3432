"""compare across encoders: one row per method and encoder, a model-size section, and a verdict on size from the numbers."""

import json

import pytest

from tunetext import api
from tunetext.compare import Budget, run_comparison
from tunetext.compare.model_size import encoder_parameters, size_sentence
from tunetext.compare.plan import plan_cells
from tunetext.data.dataset import DatasetSplits
from tunetext.errors import ConfigError

ONE_RUN = Budget(sizes=(None,), seeds_subsampled=1, seeds_full=1)


@pytest.fixture(scope="module")
def splits(real_slice):
    return DatasetSplits("trec6-slice", real_slice("trec6", "train", 120), real_slice("trec6", "test", 40))


def test_each_encoder_method_runs_once_per_encoder_and_the_report_weighs_size(
        splits, tmp_path, tiny_bert_path, tiny_mpnet_path, feature_cache):
    from pathlib import Path

    bert, mpnet = Path(tiny_bert_path).name, Path(tiny_mpnet_path).name
    summary = run_comparison(splits, out=tmp_path, methods=["tfidf-svm", "probe"], budget=ONE_RUN,
                             params={"probe": {"max_length": 32}}, encoders=[tiny_bert_path, tiny_mpnet_path])

    results = json.loads((tmp_path / "results.json").read_text())
    assert sorted(c["method"] for c in results["cells"]) == sorted(["tfidf-svm", f"probe@{bert}", f"probe@{mpnet}"])
    assert {c.get("encoder") for c in results["cells"]} == {None, tiny_bert_path, tiny_mpnet_path}
    sizes = {r["encoder"]: r for r in summary["model_size"]}
    assert set(sizes) == {bert, mpnet} and sizes[mpnet]["parameters"] > sizes[bert]["parameters"] > 0
    md = (tmp_path / "report.md").read_text()
    assert "## Model size (full training set)" in md and f"| probe | {mpnet} |" in md
    assert f"| probe@{bert} |" in md and "(model_size.png)" in md
    assert (tmp_path / "model_size.png").read_bytes()[:4] == b"\x89PNG"
    [size_line] = [line for line in summary["verdict"] if "larger encoder" in line]
    assert "on the test split)" in size_line  # the two encoders' best rows, tested on the same test texts


def test_a_single_encoder_keeps_todays_cells_and_report(splits, tmp_path, tiny_bert_path, feature_cache):
    summary = api.compare(splits, out=tmp_path, methods="probe", sizes="all", models=tiny_bert_path,
                          params={"probe.max_length": 32})
    results = json.loads((tmp_path / "results.json").read_text())
    assert [c["method"] for c in results["cells"]] == ["probe"] and "encoder" not in results["cells"][0]
    assert results["cells"][0]["key"].startswith("probe__all__seed0__") and "model_size" not in summary
    assert "Model size" not in (tmp_path / "report.md").read_text()
    assert not any("larger encoder" in line for line in summary["verdict"])


def test_cell_keys_and_names_include_the_encoder(real_slice, tiny_bert_path, tiny_mpnet_path):
    train = real_slice("trec6", "train", 60)
    cells = plan_cells(["tfidf-nb", "probe"], ONE_RUN, train, data="x", encoders=[tiny_bert_path, tiny_mpnet_path])
    assert [c.encoder for c in cells] == [None, tiny_bert_path, tiny_mpnet_path]  # read from the declared `model`
    assert [c.params.get("model") for c in cells] == [None, tiny_bert_path, tiny_mpnet_path]
    assert len({c.key for c in cells}) == 3 and cells[2].key.startswith(f"{cells[2].label}__all__")


def test_encoder_names_that_would_give_one_row_name_are_refused(real_slice, tmp_path):
    (tmp_path / "a" / "enc").mkdir(parents=True), (tmp_path / "b" / "enc").mkdir(parents=True)
    with pytest.raises(ConfigError, match="two share one"):
        plan_cells(["probe"], ONE_RUN, real_slice("trec6", "train", 60), data="x",
                   encoders=[str(tmp_path / "a" / "enc"), str(tmp_path / "b" / "enc")])


@pytest.mark.parametrize("kwargs,match", [
    ({"model": "minilm", "models": "minilm-l6,mpnet-base"}, "both given"),
    ({"models": "minilm-l6,minilm-l6"}, "names an encoder twice"),
])
def test_conflicting_encoder_options_are_refused(kwargs, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        api.compare("trec6", out=tmp_path, **kwargs)


def test_parameters_come_from_the_catalog_or_the_folders_weights(tiny_bert_path):
    from tunetext.encoders import load_encoder

    assert encoder_parameters("mpnet-base") == 109_486_464 and encoder_parameters("minilm") == 22_713_216
    assert encoder_parameters(tiny_bert_path) == sum(p.numel() for p in load_encoder(tiny_bert_path).parameters())


def _point(method, encoder, parameters, accuracy, train_seconds, texts_per_second, std=0.0):
    return {"method": f"{method}@{encoder}", "base_method": method, "encoder": encoder, "parameters": parameters,
            "family": "fine-tuned", "reference": False, "size_per_class": None, "accuracy": accuracy,
            "accuracy_std": std, "train_seconds": train_seconds, "predict_texts_per_second": texts_per_second,
            "size_mb": 1.0}


SMALL = [_point("finetune", "minilm-l6", 22_713_216, 0.900, 100.0, 400.0), _point("probe", "minilm-l6", 22_713_216, 0.850, 10.0, 900.0)]


def test_verdict_says_the_larger_encoder_pays_when_it_clearly_wins():
    points = SMALL + [_point("finetune", "mpnet-base", 109_486_464, 0.930, 480.0, 80.0)]
    assert size_sentence(points, "accuracy") == (
        "**The larger encoder is worth its cost here**: mpnet-base (109.5M parameters) takes the best accuracy from "
        "0.900 (finetune@minilm-l6) to 0.930 (finetune@mpnet-base), +3.0 points, for 4.8x the training time and "
        "5.0x slower prediction.")


@pytest.mark.parametrize("accuracy,std", [(0.904, 0.0), (0.920, 0.03), (0.880, 0.0)])
def test_verdict_keeps_the_small_encoder_for_a_small_noisy_or_negative_gain(accuracy, std):
    points = SMALL + [_point("finetune", "mpnet-base", 109_486_464, accuracy, 480.0, 80.0, std)]
    sentence = size_sentence(points, "accuracy")
    assert sentence.startswith("**The larger encoder is not worth its cost here**") and sentence.endswith("Keep minilm-l6.")
    assert f"{100 * (accuracy - 0.9):+.1f} points" in sentence


def test_one_seed_has_no_spread_so_the_gain_must_also_be_significant_on_the_test_split():
    points = SMALL + [_point("finetune", "mpnet-base", 109_486_464, 0.930, 480.0, 80.0)]
    asked = []

    def level(a, b):
        asked.append((a, b))
        return {"p_value": 0.2}

    sentence = size_sentence(points, "accuracy", level)
    assert asked == [("finetune@mpnet-base", "finetune@minilm-l6")]  # the large encoder's best against the small's
    assert sentence.startswith("**The larger encoder is not worth its cost here**")
    assert "+3.0 points (McNemar p = 0.2 on the test split)" in sentence and sentence.endswith("Keep minilm-l6.")
    clear = size_sentence(points, "accuracy", lambda a, b: {"test": "paired bootstrap of accuracy", "p_value": 0.004})
    assert clear.startswith("**The larger encoder is worth its cost here**")
    assert "(paired bootstrap of accuracy p = 0.004 on the test split)" in clear


def test_no_size_sentence_with_one_encoder():
    assert size_sentence(SMALL, "accuracy") is None


def test_cli_names_the_flags_of_conflicting_encoder_options(tmp_path):
    from typer.testing import CliRunner

    from tunetext.cli import app, commands  # noqa: F401  (importing commands registers them)

    result = CliRunner().invoke(app, ["compare", "--model", "minilm", "--models", "minilm-l6,mpnet-base",
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code != 0 and "--model" in result.output and "--models" in result.output
