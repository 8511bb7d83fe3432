"""ONNX export: plumbing on a tiny random BERT (fast); int8 parity on a real fine-tuned model (slow)."""

import json
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tunetext.cli import app as cli
from tunetext.cli import deploy  # noqa: F401  (registers serve and export)
from tunetext.errors import ConfigError
from tunetext.export import MissingExtraError, OnnxClassifier, export_onnx, has_export
from tunetext.export.onnx import _session as onnx_session
from tunetext.methods import Method, make_method
from tunetext.prediction import load_predictor, predict_file

WORDS = "good great fine nice happy bad awful poor sad ugly the a very not".split()


def varied_texts(n: int, seed: int = 0) -> list[str]:
    """Lengths from 1 to 60 words, so batches pad differently and some texts are truncated."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(1, 60))) for _ in range(n)]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, tiny_bert_path):
    texts = varied_texts(48)
    labels = ["pos" if sum(w in "good great fine nice happy" for w in t.split()) % 2 else "neg" for t in texts]
    path = tmp_path_factory.mktemp("onnx") / "model"
    make_method("finetune", model=tiny_bert_path, epochs=1, batch_size=8, lr=1e-3, precision="fp32",
                max_length=32).fit(texts, labels).save(path)
    export_onnx(path, quantize="int8")
    return path


def test_export_writes_files_and_parity_metadata(tiny_dir):
    meta = pd.read_json(tiny_dir / "onnx" / "export.json", typ="series")
    assert has_export(tiny_dir) and meta["classes"] == ["neg", "pos"]
    fp32, int8 = meta["files"]["model.onnx"]["parity"], meta["files"]["model.int8.onnx"]["parity"]
    assert fp32["max_abs_diff"] < 1e-4 and fp32["label_agreement"] == 1.0 and fp32["texts"] == 16
    assert int8["max_abs_diff"] < 0.05 and int8["texts_per_s"] > 0 and fp32["texts_per_s"] > 0
    faster = int8["texts_per_s"] > fp32["texts_per_s"]
    assert meta["model"] == ("model.int8.onnx" if int8["label_agreement"] >= 0.99 and faster else "model.onnx")


def test_int8_is_the_default_only_when_its_labels_agree_and_it_is_faster():
    from tunetext.export.onnx import _serves_better

    fp32 = {"label_agreement": 1.0, "texts_per_s": 40.0}
    assert _serves_better({"label_agreement": 0.995, "texts_per_s": 50.0}, fp32)
    assert not _serves_better({"label_agreement": 1.0, "texts_per_s": 26.6}, fp32)  # block-wise on an AVX2 CPU
    assert not _serves_better({"label_agreement": 0.98, "texts_per_s": 80.0}, fp32)


def test_int8_quantises_all_but_the_first_layers(tiny_bert_path, tmp_path, monkeypatch):
    import onnx

    from tunetext.export import onnx as exporter

    monkeypatch.setattr(exporter, "FP32_LAYERS", 1)  # the tiny BERT has 2 layers: quantise the second
    texts, labels = varied_texts(16), ["a", "b"] * 8
    make_method("finetune", model=tiny_bert_path, epochs=1, batch_size=8, precision="fp32").fit(texts, labels).save(tmp_path / "m")
    export_onnx(tmp_path / "m", quantize="int8")
    graph = onnx.load(str(tmp_path / "m" / "onnx" / "model.int8.onnx")).graph
    weights = {w.name for w in graph.initializer}
    float_layers = {n.name.split("/")[4] for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights}
    assert any(n.op_type == "MatMulInteger" for n in graph.node) and float_layers == {"layer.0"}
    assert json.loads((tmp_path / "m" / "onnx" / "export.json").read_text())["files"]["model.int8.onnx"]["rule"] == \
        exporter.INT8_RULES[0][0]


def test_blockwise_int8_quantises_every_weight_matmul(tiny_dir, tmp_path):
    import onnx

    from tunetext.export.onnx import _blockwise_int8

    _blockwise_int8(tiny_dir / "onnx" / "model.onnx", tmp_path / "block.onnx")
    graph = onnx.load(str(tmp_path / "block.onnx")).graph
    weights = {w.name for w in graph.initializer}
    blocks = [n for n in graph.node if n.op_type == "MatMulNBits"]
    assert blocks and not [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    assert {a.name: a.i for a in blocks[0].attribute if a.name in ("bits", "accuracy_level")} == {"bits": 8, "accuracy_level": 4}
    texts = varied_texts(20, seed=5)
    fp32 = OnnxClassifier.load(tiny_dir, file="model.onnx")
    reference = fp32.predict_proba(texts)
    fp32.session_ = onnx_session(tmp_path / "block.onnx")
    assert np.abs(fp32.predict_proba(texts) - reference).max() < 0.05


def test_int8_falls_back_to_a_careful_rule_and_then_to_fp32_when_labels_disagree(tiny_bert_path, tmp_path, monkeypatch):
    """MPNet's int8 export kept 22% of trec6 labels under the first rule: the export must notice, not ship it."""
    from tunetext.export import onnx as exporter

    texts, labels = varied_texts(16), ["a", "b"] * 8
    make_method("finetune", model=tiny_bert_path, epochs=1, batch_size=8, precision="fp32").fit(texts, labels).save(tmp_path / "m")
    monkeypatch.setattr(exporter, "MIN_INT8_AGREEMENT", 1.01)  # no rule can reach it
    meta = export_onnx(tmp_path / "m", quantize="int8")
    int8 = meta["files"]["model.int8.onnx"]
    assert int8["rule"] == "block-wise" and int8["parity"]["texts"] == 16
    assert meta["model"] == "model.onnx"  # the default stays fp32
    assert OnnxClassifier.load(tmp_path / "m").predict_proba(texts).shape == (16, 2)


@pytest.mark.parametrize("n", [1, 3, 70])
def test_fp32_matches_pytorch_for_any_batch_and_length(tiny_dir, n):
    texts = varied_texts(n, seed=n)
    onnx = OnnxClassifier.load(tiny_dir, file="model.onnx").predict_proba(texts)
    torch_proba = Method.load(tiny_dir).predict_proba(texts)
    assert onnx.dtype == np.float32 and onnx.shape == (n, 2)
    np.testing.assert_allclose(onnx, torch_proba, atol=1e-4)


def test_backend_choice(tiny_dir, tmp_path):
    assert isinstance(load_predictor(tiny_dir), OnnxClassifier)  # auto: the export, when there is one
    assert isinstance(load_predictor(tiny_dir, "torch"), Method)
    assert load_predictor(tiny_dir).predict_proba([]).shape == (0, 2)
    with pytest.raises(FileNotFoundError, match="has no ONNX export.*tunetext export"):
        load_predictor(tmp_path, "onnx")
    with pytest.raises(ConfigError, match="backend='tensorrt'"):
        load_predictor(tiny_dir, "tensorrt")


def test_predict_file_with_the_onnx_backend_keeps_input_order(tiny_dir, tmp_path):
    texts = varied_texts(30, seed=3)
    pd.DataFrame({"id": range(30), "text": texts}).to_csv(tmp_path / "in.csv", index=False)
    # fp32: int8's dynamic quantisation scales activations per batch, so its rows shift (~1e-4) with their batch-mates.
    predictor = OnnxClassifier.load(tiny_dir, file="model.onnx")
    predict_file(predictor, tmp_path / "in.csv", tmp_path / "out.csv", chunk_size=7)
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["id"].tolist() == list(range(30))
    np.testing.assert_allclose(out[["proba_neg", "proba_pos"]].to_numpy(), predictor.predict_proba(texts), atol=1e-5)


def test_retraining_into_the_folder_removes_a_stale_export(tiny_bert_path, tmp_path):
    texts, labels = varied_texts(16), ["a", "b"] * 8
    method = make_method("finetune", model=tiny_bert_path, epochs=1, batch_size=8, precision="fp32").fit(texts, labels)
    method.save(tmp_path / "model")
    export_onnx(tmp_path / "model")
    method.save(tmp_path / "model")
    assert not has_export(tmp_path / "model")


def test_only_methods_that_declare_it_export(tmp_path):
    make_method("tfidf-nb").fit(["good", "bad", "fine", "awful"], ["p", "n", "p", "n"]).save(tmp_path / "tfidf")
    with pytest.raises(ConfigError, match=r"holds a 'tfidf-nb' model, which does not export to ONNX; the methods "
                                          r"that do are: (.*)\. Serve or predict") as error:
        export_onnx(tmp_path / "tfidf")
    exportable = error.value.args[0].split("that do are: ")[1].split(". ")[0].split(", ")
    assert {"finetune", "finetext"} <= set(exportable) and not any(m.startswith("tfidf") for m in exportable)
    with pytest.raises(ConfigError, match="quantize='int4'"):
        export_onnx(tmp_path / "tfidf", quantize="int4")


def test_missing_extra_names_the_install(tiny_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r"pip install tunetext\[onnx\]"):
        OnnxClassifier.load(tiny_dir)


def test_cli_export_with_data_sample(tiny_dir):
    result = CliRunner().invoke(cli, ["export", str(tiny_dir), "--onnx", "--data", "tests/data/trec6-test.csv",
                                      "--sample-size", "40"])
    assert result.exit_code == 0, result.output
    assert "Parity with PyTorch fp32 on 40 texts" in result.output and "model.onnx" in result.output
    assert not (tiny_dir / "onnx" / "model.int8.onnx").exists()  # no --quantize this time
    result = CliRunner().invoke(cli, ["export", str(tiny_dir)])
    assert result.exit_code == 2 and "--onnx" in result.output


@pytest.mark.slow
def test_int8_agrees_with_pytorch_on_a_real_slice(real_slice, tmp_path):
    train, test = real_slice("trec6", "train"), real_slice("trec6", "test")
    make_method("finetune", epochs=6, seed=0).fit(train.texts, train.labels).save(tmp_path / "model")  # 90% accurate
    meta = export_onnx(tmp_path / "model", quantize="int8", sample_texts=test.texts)
    fp32, int8 = meta["files"]["model.onnx"]["parity"], meta["files"]["model.int8.onnx"]["parity"]
    assert fp32["texts"] == len(test) == 300
    assert fp32["max_abs_diff"] <= 1e-4 and fp32["label_agreement"] == 1.0
    assert int8["label_agreement"] >= 0.99
