"""ONNX export of a method that declares `exports_onnx` (the fine-tuned transformers), optional int8
quantisation, and a parity check.

The export is written to DIR/onnx/ inside the model folder it came from: retraining into DIR replaces the
folder whole, so an export can never outlive the weights it was made from. `OnnxClassifier` reads it back
behind the same `classes_` / `predict_proba` interface as a `Method`, reusing the model's tokenizer.

The graph maps one window of token ids to logits; a text longer than the window is cut and its windows' logits
pooled outside the graph, the way the method does (`long_texts` and `aggregation` in export.json).
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from tunetext import __version__
from tunetext.data.dataset import Text
from tunetext.encoders import configure_threads, load_tokenizer, pad_batch, per_text, tokenize
from tunetext.errors import ConfigError, ModelError, TunetextError
from tunetext.io import atomic_dir, check_output_dir, read_json, write_json
from tunetext.methods.base import read_metadata
from tunetext.model_files import EXPORT_DIR, EXPORT_FILE, has_export  # noqa: F401  (defined there: no torch needed)

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
QUANTIZATIONS = ("int8",)
OPSET = 17
FP32_LAYERS = 2
"""Encoder layers that dynamic int8 quantisation leaves in fp32 (see `_dynamic_int8`)."""
INT8_BLOCK = 32
"""Values per scale in block-wise int8 (see `_blockwise_int8`); 128 changed 1 of 539 trec6 labels on MPNet."""
MIN_INT8_AGREEMENT = 0.99
"""The int8 file's label agreement with PyTorch on the sample texts below which the next of `INT8_RULES` is tried;
the export's default is the int8 file only if it reaches this and predicts the sample texts faster than fp32."""
SPEED_REPEATS = 3
"""Timed passes over the sample texts per file when int8 is made (the best counts), for `_serves_better`."""

SAMPLE_TEXTS = (
    "What is the capital of Australia?",
    "Who wrote the novel Pride and Prejudice, and in which year was it first published?",
    "great",
    "The service was slow and the food arrived cold, but the staff apologised and refunded us.",
    "How many kilometres is it from the Earth to the Moon?",
    "Breaking: markets fall sharply after the central bank raises interest rates by half a point.",
    "I can't believe how good this film is!!! Best thing I've seen all year #cinema",
    "Call 0800 123 456 now to claim your free prize, offer ends tonight.",
    "Define the word 'photosynthesis'.",
    "The committee will meet on Thursday to review the budget proposal and vote on the amendments.",
    "meh",
    "Why do cats purr when they are happy, and sometimes when they are hurt?",
    "Le train part à huit heures du matin.",
    "Our quarterly revenue grew 12% year over year, driven by strong demand in Asia and Europe.",
    "Where is the tallest building in the world?",
    "This product broke after two days. Do not buy.",
)
"""Built-in parity sample: questions, reviews, news, spam, one word and a non-English line, long and short."""
class MissingExtraError(TunetextError, ImportError):
    """An optional dependency group is not installed; the message names the `pip install` that fixes it."""


def export_onnx(model_dir: str | Path, *, quantize: str | None = None, sample_texts: Sequence[Text] | None = None) -> dict:
    """Export DIR's model to DIR/onnx/ (fp32, plus int8 with `quantize="int8"`); returns the export metadata.

    Each file's parity with the PyTorch model in fp32 (largest probability difference, label agreement) and its
    speed on `sample_texts` (default `SAMPLE_TEXTS`) are measured here and stored in DIR/onnx/export.json.
    """
    if quantize not in (None, *QUANTIZATIONS):
        raise ConfigError(f"quantize={quantize!r}; use one of {', '.join(QUANTIZATIONS)} or none.")
    model_dir = Path(model_dir)
    check_output_dir(model_dir / EXPORT_DIR, markers=(EXPORT_FILE,))  # before the model is loaded and traced
    method = _load_exportable(model_dir)
    parts = method.onnx_parts()
    model, tokenizer, max_length = parts.module, parts.tokenizer, parts.max_length
    multilabel = getattr(method, "multilabel_", False)
    texts = list(sample_texts) if sample_texts else list(SAMPLE_TEXTS)
    pad_id = tokenizer.pad_token_id
    model = model.cpu().eval()

    def text_proba(module: torch.nn.Module, some: Sequence[Text] = texts) -> np.ndarray:
        return _probabilities(per_text(lambda ids: _logits(module, ids, pad_id), tokenizer, some, max_length,
                                       parts.long_texts, parts.aggregation), multilabel)

    reference = text_proba(model)

    def parity(path: Path) -> dict:
        module = _SessionModule(_session(path))
        text_proba(module, texts[:4])  # the first run allocates: not part of the speed
        seconds = []
        for _ in range(SPEED_REPEATS if quantize else 1):  # the speeds are compared only to choose the int8 file
            start = time.perf_counter()
            proba = text_proba(module)
            seconds.append(time.perf_counter() - start)
        agree = [a == b for a, b in zip(method.decide(proba), method.decide(reference))]  # label sets too
        return {"texts": len(texts), "max_abs_diff": float(np.abs(proba - reference).max()),
                "label_agreement": float(np.mean(agree)), "texts_per_s": len(texts) / min(seconds)}

    with atomic_dir(model_dir / EXPORT_DIR, markers=(EXPORT_FILE,)) as tmp:
        _export_graph(model, tmp / FP32_FILE, tokenizer, max_length)
        files = {FP32_FILE: {"precision": "fp32", "parity": parity(tmp / FP32_FILE)}}
        if quantize == "int8":
            files[INT8_FILE] = _quantize_int8(tmp / FP32_FILE, tmp / INT8_FILE, parity)
        int8_kept = INT8_FILE in files and _serves_better(files[INT8_FILE]["parity"], files[FP32_FILE]["parity"])
        onnx, onnxruntime = _import_onnx()
        metadata = {
            "format": "onnx",
            "model": INT8_FILE if int8_kept else FP32_FILE,
            "files": files,
            "parity_reference": "the PyTorch model in fp32",
            "method": method.name,
            "classes": method.classes_.tolist(),
            "max_length": max_length,
            "temperature": parts.temperature,  # OnnxClassifier divides the graph's logits by it, as the method does
            "long_texts": parts.long_texts,  # and cuts texts into windows, pooling their logits, as the method does
            "aggregation": parts.aggregation,
            # Multi-label: the graph's logits go through one sigmoid each, and a label is predicted at its threshold.
            "multilabel": multilabel,
            **({"thresholds": method.thresholds_.tolist(), "at_least_one": method.at_least_one_} if multilabel else {}),
            "opset": OPSET,
            "versions": {"tunetext": __version__, "torch": torch.__version__, "onnx": onnx.__version__,
                         "onnxruntime": onnxruntime.__version__},
        }
        write_json(tmp / EXPORT_FILE, metadata)
    return metadata


class OnnxClassifier:
    """An ONNX export behind the predictor interface: `classes_` and float32 `predict_proba`."""

    backend = "onnx"

    def __init__(self, model_path: str | Path, tokenizer, *, classes: Sequence[str], max_length: int,
                 temperature: float = 1.0, long_texts: str = "truncate", aggregation: str = "mean",
                 batch_size: int = 32, thresholds: Sequence[float] | None = None, at_least_one: bool = False):
        self.session_ = _session(model_path)
        self.tokenizer_ = tokenizer
        self.classes_ = np.array(classes, dtype=object)
        self.max_length_ = max_length
        self.temperature_ = temperature
        self.long_texts_ = long_texts
        self.aggregation_ = aggregation
        self.batch_size = batch_size
        self.multilabel_ = thresholds is not None
        self.thresholds_ = None if thresholds is None else np.asarray(thresholds, dtype=np.float32)
        self.at_least_one_ = at_least_one

    @classmethod
    def load(cls, model_dir: str | Path, file: str | None = None) -> "OnnxClassifier":
        """The export in DIR/onnx/: `file` (model.onnx or model.int8.onnx), by default the one export chose."""
        model_dir = Path(model_dir)
        fix = f"Recreate the export with `tunetext export {model_dir} --onnx`, or use --backend torch."
        if not has_export(model_dir):
            raise FileNotFoundError(f"{model_dir} has no ONNX export ({EXPORT_DIR}/{EXPORT_FILE} is missing). {fix}")
        meta_path = model_dir / EXPORT_DIR / EXPORT_FILE
        try:
            meta = read_json(meta_path)
            file, files, classes, max_length = file or meta["model"], meta["files"], meta["classes"], meta["max_length"]
            temperature = float(meta.get("temperature", 1.0))  # exports made before temperature scaling have none
            labelling = {"thresholds": meta["thresholds"], "at_least_one": meta["at_least_one"]} if meta.get("multilabel") else {}
            long_texts = {"long_texts": meta.get("long_texts", "truncate"), "aggregation": meta.get("aggregation", "mean")}
        except (ValueError, KeyError, TypeError) as exc:  # not JSON, or not the shape export_onnx writes
            raise ModelError(f"{meta_path} is damaged ({type(exc).__name__}: {exc}). {fix}") from None
        if file not in files:
            raise ConfigError(f"{file!r} is not part of the export in {model_dir / EXPORT_DIR}; it has {', '.join(files)}.")
        path = model_dir / EXPORT_DIR / file
        if not path.is_file():
            raise ModelError(f"{path} is missing from the export. {fix}")
        tokenizer = load_tokenizer(str(model_dir))
        try:
            return cls(path, tokenizer, classes=classes, max_length=max_length, temperature=temperature, **long_texts,
                       **labelling)
        except TunetextError:
            raise
        except Exception as exc:  # onnxruntime's InvalidProtobuf / Fail for a truncated or garbled file
            raise ModelError(f"{path} is not a readable ONNX model ({type(exc).__name__}: {exc}). {fix}") from None

    def predict_proba(self, texts: Sequence[Text]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        session, pad_id = _SessionModule(self.session_), self.tokenizer_.pad_token_id
        logits = per_text(lambda ids: _logits(session, ids, pad_id, self.batch_size), self.tokenizer_, texts,
                          self.max_length_, self.long_texts_, self.aggregation_)
        return _probabilities(logits / self.temperature_, self.multilabel_)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Labels from `predict_proba`'s output, as the exported method decides (its thresholds, for multi-label)."""
        from tunetext.methods.thresholds import predict_labels

        return predict_labels(proba, self.classes_, self.thresholds_, at_least_one=self.at_least_one_)


class _SessionModule(torch.nn.Module):
    """An ONNX Runtime session as a module, so `predict_logits` batches it exactly as it batches PyTorch."""

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        feeds = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        return torch.from_numpy(self.session.run(None, feeds)[0])


def _logits(model: torch.nn.Module, ids: list[list[int]], pad_id: int, batch_size: int = 32) -> np.ndarray:
    from tunetext.training.loop import predict_logits

    with torch.inference_mode():
        return predict_logits(model, ids, batch_size=batch_size, pad_id=pad_id)


def _probabilities(logits: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Softmax over the classes; for a multi-label model, one sigmoid per label."""
    logits = torch.from_numpy(logits)
    return (torch.sigmoid(logits) if multilabel else torch.softmax(logits, dim=1)).numpy()


def _load_exportable(model_dir: Path):
    """Load DIR's method if it declares `exports_onnx`; for any other method, say why not and what to do."""
    from tunetext.methods import Method, get_method_class, list_methods

    name = read_metadata(model_dir)["method"]
    if not get_method_class(name).exports_onnx:
        exportable = [m for m in list_methods() if get_method_class(m).exports_onnx]
        raise ConfigError(f"{model_dir} holds a {name!r} model, which does not export to ONNX; the methods that do "
                          f"are: {', '.join(exportable)}. Serve or predict with this one as it is (--backend torch).")
    _import_onnx()  # fail on a missing extra before loading the weights
    return Method.load(model_dir)


def _export_graph(model: torch.nn.Module, path: Path, tokenizer, max_length: int) -> None:
    """Trace `model` to ONNX with dynamic batch and sequence axes.

    The TorchScript exporter (dynamo=False) needs no onnxscript and takes seconds instead of a minute.
    Tracing records one path through Python branches, so the example batch is padded (the path every
    batch of real texts takes); the parity check afterwards would show any other divergence.
    """
    example = pad_batch(tokenize(tokenizer, ["a short text", "a longer text, so that the batch has padding"], max_length),
                        tokenizer.pad_token_id)
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings():
        # The deprecation notice and the tracer's branch warnings are expected here; parity is checked instead.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example["input_ids"], example["attention_mask"]), str(path),
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )


def _quantize_int8(source: Path, target: Path, parity: Callable[[Path], dict]) -> dict:
    """Int8 quantisation of the weight matrix multiplications by the first of `INT8_RULES` whose labels agree with
    PyTorch on the sample texts (`MIN_INT8_AGREEMENT`); returns the int8 file's entry in export.json (its rule and
    parity). If none reaches it, the last is kept, with its parity, and the export's default model stays fp32.
    """
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizers log generic "consider pre-processing" advice
    try:
        for rule, quantize in INT8_RULES:
            quantize(source, target)
            entry = {"precision": "int8", "rule": rule, "parity": parity(target)}
            if entry["parity"]["label_agreement"] >= MIN_INT8_AGREEMENT:
                break
    finally:
        root.setLevel(level)
    return entry


def _dynamic_int8(source: Path, target: Path) -> None:
    """Dynamic int8 of every weight MatMul but those of the first `FP32_LAYERS` encoder layers: int8 weights per
    output channel, and one int8 scale per activation tensor, computed per batch.

    Only MatMul: that is where the time goes (quantising the embedding lookup saves space, not time). One scale per
    tensor cannot resolve large activation outliers, and where they are depends on the encoder: in MiniLM the first
    `FP32_LAYERS` layers' feed-forward inputs (max |x| 40-75 times the std; quantising them changed 2% of trec6
    labels, keeping them under 1%).
    """
    onnx, _ = _import_onnx()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def in_first_layers(node) -> bool:  # node names carry the module path: /hf/bert/encoder/layer.0/...
        layer = re.search(r"layer\.(\d+)/", node.name)
        return layer is not None and int(layer.group(1)) < FP32_LAYERS

    matmuls = [node for node in onnx.load(str(source)).graph.node if node.op_type == "MatMul"]
    quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
                     nodes_to_exclude=[node.name for node in matmuls if in_first_layers(node)])


def _blockwise_int8(source: Path, target: Path) -> None:
    """Block-wise int8 of every weight MatMul (ONNX Runtime's MatMulNBits, 8 bits, accuracy level 4): weights and
    activations are int8 with one scale per `INT8_BLOCK` values of a row, so an activation outlier coarsens only its
    own block. MPNet has outliers at every MatMul input, which no per-tensor rule survived (98.9% of trec6 labels
    at best, with two thirds of the MatMuls left fp32); this rule kept all 539.
    """
    onnx, _ = _import_onnx()
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(onnx.load(str(source)), bits=8, block_size=INT8_BLOCK, is_symmetric=True,
                                     accuracy_level=4)
    quantizer.process()
    quantizer.model.save_model_to_file(str(target), use_external_data_format=False)


INT8_RULES: tuple[tuple[str, Callable[[Path, Path], None]], ...] = (
    (f"dynamic, the first {FP32_LAYERS} encoder layers fp32", _dynamic_int8),
    ("block-wise", _blockwise_int8),
)
"""The int8 rules export tries, in order, as (name in export.json, quantize(source, target))."""


def _serves_better(int8: dict, fp32: dict) -> bool:
    """Whether the int8 file should be the export's default: its labels agree with PyTorch and it is faster here.

    Block-wise int8 kept every one of MPNet's trec6 test labels but ran at 0.6x the fp32 file's speed on a 2-core
    AVX2 CPU without VNNI: there it only saves disk, and serving should not pay for that with speed.
    """
    return int8["label_agreement"] >= MIN_INT8_AGREEMENT and int8["texts_per_s"] > fp32["texts_per_s"]


def _session(path: str | Path):
    _, onnxruntime = _import_onnx()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = configure_threads()  # ONNX Runtime, like PyTorch, can undercount in containers
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _import_onnx():
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise MissingExtraError(f"ONNX export and inference need {exc.name}: pip install tunetext[onnx]") from None
    return onnx, onnxruntime
