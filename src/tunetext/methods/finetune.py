"""Fine-tuning: the whole encoder (or its upper part) and a classification head, trained end to end.

The head is Hugging Face's own (`BertForSequenceClassification`: pooler on [CLS], dropout, linear), so the
saved folder is a plain Hugging Face model: `AutoModelForSequenceClassification.from_pretrained(dir)` gives
tunetext's logits (exactly with `precision="fp32"`, up to bf16 rounding otherwise); tunetext's probabilities are
their softmax after dividing by the `temperature` in tunetext.json (1 unless `calibrate` kept one). `pooling="mean"`
feeds the mean of the token vectors to the same linear layer instead; that forward is tunetext's only,
so plain transformers would read such a folder with the (unused, untrained) pooler — load it with tunetext.

Without a `validation` set, fit trains the full schedule and keeps the last weights (the linear schedule
has decayed the lr to 0 by then): on small data every example is worth more in training than in a held-out
set. Pass `validation_fraction` to carve a stratified validation set from train for early stopping instead.

Encoder dropout is off by default (`dropout=0.0`; `None` keeps the model's own, 0.1 for BERT; the head keeps
its dropout). Dropout masks are slow to draw on a CPU and, without them, a fine-tuning step of MiniLM took
0.6x the time, at accuracy within seed noise (see README) on the few epochs fine-tuning runs.

Multi-label data trains a sigmoid head with binary cross-entropy (Hugging Face's `problem_type=
"multi_label_classification"`, saved in config.json); `class_weight="balanced"` then gives each label the
positive weight n_negative / n_positive, so rare labels are not ignored.

For social-media text: `preprocess="tweet"` normalises every text (at prediction too: it is saved with the
model), `domain_tokens=True` adds its placeholders and frequent emoji to the vocabulary, and
`adapt_mlm_steps=N` trains the encoder with masked-LM on the training texts (or `adapt_texts`) first.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Sequence, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from tunetext.data.dataset import LabeledTexts, Text, indicator
from tunetext.encoders import (
    check_long_texts,
    configure_threads,
    load_tokenizer,
    mean_pool,
    quiet_loading,
    resolve_model_path,
    set_dropout,
    per_text,
    training_windows,
    windows,
)
from tunetext.errors import ConfigError
from tunetext.evaluation.calibration import choose_temperature
from tunetext.io import read_json
from tunetext.methods.base import METADATA_FILE, Method, OnnxParts
from tunetext.methods.long_texts import AGGREGATIONS, ReadsLongTexts
from tunetext.methods.registry import register
from tunetext.training.config import LoopConfig, OptimConfig
from tunetext.training.loop import Encoded, precision_context, predict_logits, train
from tunetext.training.mlm import AdaptConfig, adapted_encoder

POOLINGS = ("cls", "mean")
CALIBRATIONS = ("auto", "none")
C = TypeVar("C")


class SequenceClassifier(torch.nn.Module):
    """A Hugging Face sequence classifier as a module from `(input_ids, attention_mask)` to logits."""

    def __init__(self, hf_model, pooling: str) -> None:
        super().__init__()
        if pooling == "mean":
            if not isinstance(getattr(hf_model, "classifier", None), torch.nn.Linear):
                raise ConfigError(f"pooling='mean' needs a BERT-style linear classifier; "
                                  f"{type(hf_model).__name__} has none. Use pooling='cls'.")
            for param in getattr(hf_model.base_model, "pooler", torch.nn.Module()).parameters():
                param.requires_grad_(False)  # unused by mean pooling: no gradient, no optimizer state
        self.hf = hf_model
        self.pooling = pooling
        self.config = hf_model.config

    @property
    def encoder(self) -> torch.nn.Module:
        return self.hf.base_model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.pooling == "cls":
            return self.hf(input_ids=input_ids, attention_mask=attention_mask).logits
        hidden = self.hf.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.hf.classifier(self.hf.dropout(mean_pool(hidden, attention_mask)))


@register("finetune")
@dataclass(kw_only=True, eq=False, repr=False)  # writes the keyword-only __init__; sklearn keeps its repr and identity
class FineTune(ReadsLongTexts, Method):
    """Fine-tune a pretrained encoder with a classification head (AdamW, warm-up + decay, bf16 where native).

    Parameters
    ----------
    model
        The encoder: 'minilm' (bundled) or a local Hugging Face model folder.
    pooling
        'cls' (Hugging Face's head: pooler on [CLS]) or 'mean' (the mean of the token vectors).
    max_length
        Tokens per window (8-512); None chooses it from the training texts (99% kept whole, at most 512).
    long_texts
        A text longer than the window: 'truncate', 'head_tail' (its first quarter-window and last tokens),
        'chunks' (overlapping windows: each trains with its text's label, their logits are pooled per text) or
        'auto' (chunks when over 10% of training texts are longer). Text pairs are always truncated.
    chunk_aggregation
        How a chunked text's window logits become its own: 'mean' or 'max'.
    lr
        Peak learning rate of AdamW.
    weight_decay
        AdamW's decoupled weight decay (not applied to biases and LayerNorms).
    schedule
        The lr schedule after warm-up: 'linear' (decay to 0), 'cosine', 'constant' or 'inverse_sqrt'.
    warmup
        Warm-up: a float is a ratio of the training steps, an int a number of steps.
    max_grad_norm
        Gradients are clipped to this norm; None turns clipping off.
    dropout
        Encoder dropout (0 by default: 0.6x the step time on CPU at equal accuracy); None keeps the model's own.
    layer_lr_decay
        Each layer below the top learns at this factor of the one above; 1 turns it off, 0.8-0.95 is usual.
    freeze_embeddings
        Freeze the word embeddings (trec6: 0.965 vs 0.957 accuracy, 1.5x faster); None freezes them unless
        domain_tokens adds tokens, which need trainable embeddings.
    freeze_layers
        Lower encoder layers kept frozen: a number, 'half' or 'all' (only the head trains); None is the class's default.
    epochs
        Passes over the training set (a float trains part of the last one).
    min_steps
        Train at least this many optimizer steps: a few epochs of a tiny training set are too few updates.
    batch_size
        Examples per optimizer step (per process under torchrun), before gradient accumulation.
    grad_accum_steps
        Batches whose gradients add up to one optimizer step.
    precision
        'auto' (bf16 where the hardware has it natively), 'bf16' or 'fp32'.
    seed
        Seeds the head's initial weights, shuffling, dropout and the carved validation set.
    class_weight
        Loss weight per class: None, 'balanced' (n / (k * count)) or a dict {label: weight} for every class; for
        multi-label data, the weight of each label's positive examples ('balanced': n_negative / n_positive).
    label_smoothing
        Cross-entropy label smoothing in [0, 1) (0.1 is usual).
    validation_fraction
        Share of train held out (stratified) for early stopping when fit gets no validation set; 0 trains on all.
    eval_every
        Evaluate on the validation set every this many steps; None once per epoch.
    eval_batch_size
        Texts per forward pass when evaluating and predicting.
    metric
        The validation metric early stopping watches.
    patience
        Evaluations without improvement before training stops early; None never stops early.
    checkpoint_dir
        A folder for resumable checkpoints; None writes none.
    checkpoint_every
        Steps between checkpoints.
    resume
        Continue the run checkpointed in checkpoint_dir (same data and settings).
    log_path
        A JSON-lines file of training and validation metrics.
    progress
        Show a progress bar.
    preprocess
        A text normaliser applied at training and prediction ('tweet'), saved with the model.
    domain_tokens
        Add the normaliser's placeholders and frequent emoji to the vocabulary.
    adapt_mlm_steps
        Masked-LM steps on the training texts (or adapt_texts) before fine-tuning; 0 skips it.
    adapt_texts
        A file of unlabeled in-domain texts for the masked-LM adaptation.
    calibrate
        'auto' fits a softmax temperature on the validation set (when fit has one) and keeps it if it lowers the
        validation ECE (honest probabilities; labels never change); 'none' keeps the raw softmax.
    """

    family = "fine-tuned"
    exports_onnx = True
    multilabel = True
    search_space = {
        "lr": {"low": 1e-5, "high": 3e-4, "log": True},
        "batch_size": [8, 16, 32],
        "epochs": {"low": 2, "high": 6},
        "warmup": {"low": 0.0, "high": 0.2},
        "weight_decay": {"low": 0.0, "high": 0.1},
        "dropout": [0.0, 0.1],
        "freeze_layers": [0, 1, "half"],  # holds both defaults: 0, and "half" for finetune-partial
    }
    model: str = "minilm"
    pooling: str = "cls"
    max_length: int | None = None
    long_texts: str = "auto"
    chunk_aggregation: str = "mean"
    lr: float = 1e-4
    weight_decay: float = 0.01
    schedule: str = "linear"
    warmup: float | int = 0.1
    max_grad_norm: float | None = 1.0
    dropout: float | None = 0.0
    layer_lr_decay: float = 1.0
    freeze_embeddings: bool | None = None
    freeze_layers: int | str | None = 0
    epochs: float = 4
    min_steps: int = 100
    batch_size: int = 32
    grad_accum_steps: int = 1
    precision: str = "auto"
    seed: int = 0
    class_weight: str | dict | None = None
    label_smoothing: float = 0.0
    validation_fraction: float = 0.0
    eval_every: int | None = None
    eval_batch_size: int = 128
    metric: str = "accuracy"
    patience: int | None = 3
    checkpoint_dir: str | None = None
    checkpoint_every: int = 100
    resume: bool = False
    log_path: str | None = None
    progress: bool = False
    preprocess: str | dict | None = None
    domain_tokens: bool = False
    adapt_mlm_steps: int = 0
    adapt_texts: str | None = None
    calibrate: str = "auto"

    def fit(self, texts: Sequence[Text], labels: Sequence[Any], *, validation: LabeledTexts | None = None) -> "FineTune":
        """As `Method.fit`; a resumed run adds the training time its checkpoint recorded, so `train_seconds_`
        is the whole run's, not only the part after the resume."""
        super().fit(texts, labels, validation=validation)
        self.train_seconds_ += self.resumed_seconds_
        return self

    # ---- configuration ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Every setting, before the encoder is loaded or adapted; only what needs the data or the encoder
        (class_weight's labels, max_length's upper bound, freeze_layers' depth) is checked once they are known."""
        self._optim_config(), self._loop_config(), self._adapt_config()
        resolve_model_path(self.model)
        if self.pooling not in POOLINGS:
            raise ConfigError(f"pooling={self.pooling!r}; use 'cls' (Hugging Face's head) or 'mean'.")
        if self.max_length is not None and not 8 <= self.max_length <= 512:
            raise ConfigError(f"max_length={self.max_length!r} must be between 8 and 512 tokens, "
                              "or None to choose it from the data.")
        check_long_texts(self.long_texts)
        if self.chunk_aggregation not in AGGREGATIONS:
            raise ConfigError(f"chunk_aggregation={self.chunk_aggregation!r}; use 'mean' or 'max'.")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing={self.label_smoothing!r} must be in [0, 1) (0.1 is usual).")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout={self.dropout!r} must be in [0, 1), or None for the model's own (0.1 for BERT).")
        if not 0 <= self.validation_fraction < 1:
            raise ConfigError(f"validation_fraction={self.validation_fraction!r} must be in [0, 1); 0 trains on all of train.")
        if self.adapt_texts is not None and not Path(self.adapt_texts).is_file():
            raise ConfigError(f"adapt_texts={self.adapt_texts!r} is not a file; pass a .txt file (one text a line) "
                              "or a table with a text column.")
        if self.calibrate not in CALIBRATIONS:
            raise ConfigError(f"calibrate={self.calibrate!r}; use 'auto' (temperature scaling on the validation set) "
                              "or 'none'.")
        if not (self.class_weight is None or self.class_weight == "balanced" or isinstance(self.class_weight, dict)):
            raise ConfigError(f"class_weight={self.class_weight!r}; use None, 'balanced' or a dict {{label: weight}}.")

    def _settings(self, config: type[C], **resolved: Any) -> C:
        """`config` filled from the hyperparameters of the same names: their defaults are the method's, defined once."""
        return config(**{f.name: getattr(self, f.name) for f in fields(config)} | resolved)

    def _optim_config(self) -> OptimConfig:
        return self._settings(OptimConfig, freeze_embeddings=self._freeze_embeddings(), freeze_layers=self._freeze_layers())

    def _freeze_embeddings(self) -> bool:
        """Frozen unless set, except that added domain tokens need trainable embeddings to learn anything."""
        return not self.domain_tokens if self.freeze_embeddings is None else self.freeze_embeddings

    def _freeze_layers(self) -> int | str:
        """None (tune's search space offers it) is the class's own default: 0, or "half" for finetune-partial."""
        return self.__dataclass_fields__["freeze_layers"].default if self.freeze_layers is None else self.freeze_layers

    def _loop_config(self) -> LoopConfig:
        return self._settings(LoopConfig)

    def _adapt_config(self) -> AdaptConfig:
        return AdaptConfig(domain_tokens=self.domain_tokens, mlm_steps=self.adapt_mlm_steps,
                           texts_path=self.adapt_texts, preprocess=self.preprocess)

    def _run_identity(self) -> dict:
        """What defines this run besides the loop's own configs (encoder, head, loss, classes): the loop resumes a
        checkpoint only if these match too. Hyperparameters the configs carry are left to them (resolved there)."""
        in_configs = {f.name for config in (OptimConfig, LoopConfig) for f in fields(config)}
        params = {key: value for key, value in self.get_params(deep=False).items() if key not in in_configs}
        return {"name": self.name, "classes": self.classes_.tolist(), **params}

    # ---- Method hooks ----------------------------------------------------------------------------
    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        optim, loop, adapt = self._optim_config(), self._loop_config(), self._adapt_config()
        configure_threads()
        if validation is None and self.validation_fraction > 0:
            if self.multilabel_:
                texts, labels, validation = _carve_multilabel_validation(texts, labels, self.validation_fraction,
                                                                         self.seed, self.classes_)
            else:
                texts, labels, validation = _carve_validation(texts, labels, self.validation_fraction, self.seed)

        with adapted_encoder(resolve_model_path(self.model), texts, adapt, seed=self.seed) as path:
            self.tokenizer_ = load_tokenizer(path)
            torch.manual_seed(self.seed)  # the head's initial weights
            self.model_ = self._build_model(path)
        if self.dropout is not None:
            set_dropout(self.model_.encoder, self.dropout)
        label_ids = {label: i for i, label in enumerate(self.classes_)}
        # Each window trains with its text's label (multi-label: its label set); early stopping scores the
        # validation texts, their windows' logits pooled as at prediction.
        cut, self.max_length_, self.long_texts_ = training_windows(self.tokenizer_, texts, self.max_length,
                                                                   self.long_texts)
        data = Encoded(cut.ids, cut.labels(self._targets(labels)))
        val = None
        if validation is not None and len(validation):
            names = [name for names in validation.labels for name in names] if self.multilabel_ else validation.labels
            unknown = sorted(set(map(str, names)) - set(label_ids))
            if unknown:
                raise ConfigError(f"validation labels {unknown} never occur in train; classes are {list(self.classes_)}.")
            val_targets = self._targets(indicator(validation.labels, self.classes_) if self.multilabel_
                                        else validation.labels)
            val_cut = windows(self.tokenizer_, validation.texts, self.max_length_, self.long_text_strategy)
            val = Encoded(val_cut.ids, val_cut.labels(val_targets), val_cut, self.chunk_aggregation)

        weighting = _positive_weights if self.multilabel_ else _class_weights
        weight = weighting(self.class_weight, data.labels, list(self.classes_))
        state = train(
            self.model_, data, val, optim=optim, loop=loop, num_layers=self.model_.config.num_hidden_layers,
            pad_id=self.tokenizer_.pad_token_id, loss_fn=self._loss_fn(weight), method=self._run_identity(),
        )
        self.history_ = state.history
        self.best_step_ = state.best_step
        self.steps_ = state.step
        self.resumed_seconds_ = state.resumed_seconds
        self.temperature_ = 1.0 if val is None else self._fit_temperature(validation.texts, val_targets)

    def _targets(self, labels) -> np.ndarray:
        """Class indices, or for multi-label the float 0/1 matrix binary cross-entropy takes."""
        if self.multilabel_:
            return np.asarray(labels, dtype=np.float32)
        index = {label: i for i, label in enumerate(self.classes_)}
        return np.array([index[str(y)] for y in labels])

    def _fit_temperature(self, texts: Sequence[Text], labels: np.ndarray) -> float:
        """Temperature scaling of the texts' (pooled) logits on the validation set early stopping used (1: none).
        Without one nothing is fitted: never on test, and compare's subsampled cells get no validation set.
        Multi-label: none (the per-label thresholds tuned on validation already decide)."""
        if self.calibrate == "none" or self.multilabel_:
            return 1.0
        return choose_temperature(self._text_logits(texts), labels)

    def _text_logits(self, texts: Sequence[Text]) -> np.ndarray:
        """One row of logits per text: its windows' logits pooled by `chunk_aggregation`."""
        return per_text(self._logits, self.tokenizer_, texts, self.max_length_, self.long_text_strategy,
                        self.chunk_aggregation)

    def _logits(self, ids: list[list[int]]) -> np.ndarray:
        device = next(self.model_.parameters()).device
        return predict_logits(self.model_, ids, batch_size=self.eval_batch_size, pad_id=self.tokenizer_.pad_token_id,
                              autocast=precision_context(self.precision, device), device=device)

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        logits = torch.from_numpy(self._text_logits(texts)) / self.temperature_
        return (torch.sigmoid(logits) if self.multilabel_ else torch.softmax(logits, dim=1)).numpy()

    def _save_state(self, directory: Path) -> None:
        self.model_.hf.save_pretrained(directory)
        self.tokenizer_.save_pretrained(directory)

    def _load_state(self, directory: Path) -> None:
        configure_threads()
        meta = read_json(directory / METADATA_FILE)
        self.max_length_ = meta["max_length"]
        self.temperature_ = meta.get("temperature", 1.0)  # saved before calibration existed: none
        self._restore_long_texts(directory)
        self.tokenizer_ = load_tokenizer(str(directory))
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model_ = self._load_model(str(directory)).to(device).eval()

    def _metadata(self) -> dict:
        return {**super()._metadata(), "max_length": self.max_length_, "temperature": self.temperature_}

    def onnx_parts(self) -> OnnxParts:
        """The module from one window's ids to logits (any head, FineText's too), its tokenizer, window length,
        temperature, long-text strategy and chunk aggregation."""
        return OnnxParts(self.model_, self.tokenizer_, self.max_length_, self.temperature_, self.long_text_strategy,
                         self.chunk_aggregation)

    # ---- what subclasses change (the head, the loss) ---------------------------------------------
    def _build_model(self, path: str) -> torch.nn.Module:
        """A fresh module from `(input_ids, attention_mask)` to logits over `classes_`, with a `.config`."""
        model = SequenceClassifier(_load_hf_classifier(path, list(self.classes_), multilabel=self.multilabel_), self.pooling)
        if self.pooling == "mean":
            model.hf.config.tunetext_pooling = "mean"
        return model

    def _load_model(self, directory: str) -> torch.nn.Module:
        return SequenceClassifier(_load_hf_classifier(directory), self.pooling)

    def _loss_fn(self, weight: torch.Tensor | None):
        if self.multilabel_:
            return _binary_cross_entropy(weight, self.label_smoothing)
        return _cross_entropy(weight, self.label_smoothing)


@register("finetune-partial")
@dataclass(kw_only=True, eq=False, repr=False)
class FineTunePartial(FineTune):
    """Fine-tune only the upper half of the encoder (embeddings and lower layers frozen) plus the head."""

    in_fast_budget = False
    freeze_layers: int | str | None = "half"


def _load_hf_classifier(path: str, classes: list[str] | None = None, *, multilabel: bool = False):
    """`AutoModelForSequenceClassification` (SDPA attention where the architecture has it); with `classes`,
    a fresh head for them (a multi-label one: `problem_type` tells transformers to use sigmoids and BCE).

    Never runs code the folder ships. Without `classes` the folder is a model tunetext saved: safetensors only.
    """
    from transformers import AutoModelForSequenceClassification

    kwargs = {"use_safetensors": True}
    if classes is not None:  # an encoder, which may come as pytorch_model.bin (read with weights_only=True)
        kwargs = {"num_labels": len(classes), "id2label": dict(enumerate(classes)),
                  "label2id": {label: i for i, label in enumerate(classes)}}
        if multilabel:
            kwargs["problem_type"] = "multi_label_classification"
    with quiet_loading():  # the expected "classifier weights newly initialised" report is noise here
        return AutoModelForSequenceClassification.from_pretrained(path, trust_remote_code=False,
                                                                  local_files_only=True, **kwargs)


def _class_weights(class_weight, labels: np.ndarray, classes: list[str]) -> torch.Tensor | None:
    """None, 'balanced' (n / (k · count), as scikit-learn) or a {label: weight} dict covering every class."""
    if class_weight is None:
        return None
    if class_weight == "balanced":
        counts = np.bincount(labels, minlength=len(classes))
        return torch.tensor(len(labels) / (len(classes) * np.maximum(counts, 1)), dtype=torch.float32)
    given = {str(k): float(v) for k, v in class_weight.items()}  # a dict: `_check_params` allowed nothing else
    missing = [c for c in classes if c not in given]
    if missing:
        raise ConfigError(f"class_weight has no weight for {missing}; give one for every class: {classes}.")
    return torch.tensor([given[c] for c in classes], dtype=torch.float32)


def _positive_weights(class_weight, targets: np.ndarray, classes: list[str]) -> torch.Tensor | None:
    """Multi-label: BCE's `pos_weight` per label: None, 'balanced' (n_negative / n_positive) or {label: weight}."""
    if class_weight is None:
        return None
    if class_weight == "balanced":
        positives = targets.sum(axis=0)
        return torch.tensor((len(targets) - positives) / np.maximum(positives, 1), dtype=torch.float32)
    given = {str(k): float(v) for k, v in class_weight.items()}
    return torch.tensor([given.get(c, 1.0) for c in classes], dtype=torch.float32)


def _binary_cross_entropy(pos_weight: torch.Tensor | None, label_smoothing: float):
    """One sigmoid per label; smoothing moves the 0/1 targets towards 0.5 by `label_smoothing` / 2."""
    def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        w = None if pos_weight is None else pos_weight.to(logits.device)
        targets = targets * (1 - label_smoothing) + label_smoothing / 2
        return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=w)

    return loss_fn


def _carve_multilabel_validation(texts, labels: np.ndarray, fraction: float, seed: int, classes):
    """A random `fraction` of train held out for early stopping (label sets rarely stratify); the per-label
    thresholds are tuned only on a validation set given to `fit`."""
    from sklearn.model_selection import train_test_split

    from tunetext.methods.thresholds import to_label_sets

    train_idx, val_idx = train_test_split(np.arange(len(texts)), test_size=fraction, random_state=seed)
    validation = LabeledTexts([texts[i] for i in val_idx], list(to_label_sets(labels[val_idx], classes)))
    return [texts[i] for i in train_idx], labels[train_idx], validation


def _cross_entropy(weight: torch.Tensor | None, label_smoothing: float):
    def loss_fn(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        w = None if weight is None else weight.to(logits.device)
        return F.cross_entropy(logits, labels, weight=w, label_smoothing=label_smoothing)

    return loss_fn


def _carve_validation(texts, labels, fraction: float, seed: int):
    """A stratified `fraction` of train, held out for early stopping (each class keeps >= 2 in train)."""
    from sklearn.model_selection import train_test_split

    counts = np.unique(labels, return_counts=True)[1]
    if counts.min() < 2 or int(fraction * len(texts)) < len(counts):
        raise ConfigError(f"validation_fraction={fraction} cannot carve a stratified set from {len(texts)} examples "
                          f"(smallest class has {counts.min()}); pass validation_fraction=0 or a validation set.")
    train_idx, val_idx = train_test_split(np.arange(len(texts)), test_size=fraction, stratify=labels, random_state=seed)
    pick = lambda idx: [texts[i] for i in idx]  # noqa: E731
    return pick(train_idx), [labels[i] for i in train_idx], LabeledTexts(pick(val_idx), [labels[i] for i in val_idx])
