"""Fine-tuning: the whole encoder (or its upper part) and a classification head, trained end to end.

The head is Hugging Face's own (`BertForSequenceClassification`: pooler on [CLS], dropout, linear), so the
saved folder is a plain Hugging Face model: `AutoModelForSequenceClassification.from_pretrained(dir)` gives
tunetext's probabilities (exactly with `precision="fp32"`, up to bf16 rounding otherwise). `pooling="mean"`
feeds the mean of the token vectors to the same linear layer instead; that forward is tunetext's only,
so plain transformers would read such a folder with the (unused, untrained) pooler — load it with tunetext.

Without a `validation` set, fit trains the full schedule and keeps the last weights (the linear schedule
has decayed the lr to 0 by then): on small data every example is worth more in training than in a held-out
set. Pass `validation_fraction` to carve a stratified validation set from train for early stopping instead.

Encoder dropout is off by default (`dropout=0.0`; `None` keeps the model's own, 0.1 for BERT; the head keeps
its dropout). Dropout masks are slow to draw on a CPU and, without them, a fine-tuning step of MiniLM took
0.6x the time, at accuracy within seed noise (see README) on the few epochs fine-tuning runs.

For social-media text: `preprocess="tweet"` normalises every text (at prediction too: it is saved with the
model), `domain_tokens=True` adds its placeholders and frequent emoji to the vocabulary, and
`adapt_mlm_steps=N` trains the encoder with masked-LM on the training texts (or `adapt_texts`) first.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from tunetext.data.dataset import LabeledTexts, Text
from tunetext.encoders import (
    choose_max_length,
    configure_threads,
    load_tokenizer,
    mean_pool,
    resolve_model_path,
    set_dropout,
    tokenize,
)
from tunetext.errors import ConfigError
from tunetext.io import read_json
from tunetext.methods.base import METADATA_FILE, Method
from tunetext.methods.registry import register
from tunetext.training.config import LoopConfig, OptimConfig
from tunetext.training.loop import Encoded, precision_context, predict_logits, train
from tunetext.training.mlm import AdaptConfig, adapted_encoder


class SequenceClassifier(torch.nn.Module):
    """A Hugging Face sequence classifier as a module from `(input_ids, attention_mask)` to logits."""

    def __init__(self, hf_model, pooling: str) -> None:
        super().__init__()
        if pooling not in ("cls", "mean"):
            raise ConfigError(f"pooling={pooling!r}; use 'cls' (Hugging Face's head) or 'mean'.")
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
class FineTune(Method):
    """Fine-tune a pretrained encoder with a classification head (AdamW, warm-up + decay, bf16 where native)."""

    family = "fine-tuned"
    default_freeze_embeddings: ClassVar[bool] = True
    """Word embeddings frozen by default: on trec6 0.965 vs 0.957 accuracy, 1.5x faster, 10% less memory."""
    default_freeze_layers: ClassVar[int | str] = 0

    def __init__(
        self,
        *,
        model: str = "minilm",
        pooling: str = "cls",
        max_length: int | None = None,
        lr: float = 1e-4,
        weight_decay: float = 0.01,
        schedule: str = "linear",
        warmup: float | int = 0.1,
        max_grad_norm: float | None = 1.0,
        dropout: float | None = 0.0,
        layer_lr_decay: float = 1.0,
        freeze_embeddings: bool | None = None,
        freeze_layers: int | str | None = None,
        epochs: float = 4,
        min_steps: int = 100,
        batch_size: int = 32,
        grad_accum_steps: int = 1,
        precision: str = "auto",
        seed: int = 0,
        class_weight: str | dict | None = None,
        label_smoothing: float = 0.0,
        validation_fraction: float = 0.0,
        eval_every: int | None = None,
        eval_batch_size: int = 128,
        metric: str = "accuracy",
        patience: int | None = 3,
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 100,
        resume: bool = False,
        log_path: str | None = None,
        progress: bool = False,
        preprocess: str | dict | None = None,
        domain_tokens: bool = False,
        adapt_mlm_steps: int = 0,
        adapt_texts: str | None = None,
    ) -> None:
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.warmup = warmup
        self.max_grad_norm = max_grad_norm
        self.dropout = dropout
        self.layer_lr_decay = layer_lr_decay
        self.freeze_embeddings = freeze_embeddings
        self.freeze_layers = freeze_layers
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.grad_accum_steps = grad_accum_steps
        self.precision = precision
        self.seed = seed
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.validation_fraction = validation_fraction
        self.eval_every = eval_every
        self.eval_batch_size = eval_batch_size
        self.metric = metric
        self.patience = patience
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.resume = resume
        self.log_path = log_path
        self.progress = progress
        self.preprocess = preprocess
        self.domain_tokens = domain_tokens
        self.adapt_mlm_steps = adapt_mlm_steps
        self.adapt_texts = adapt_texts

    def fit(self, texts: Sequence[Text], labels: Sequence[Any], *, validation: LabeledTexts | None = None) -> "FineTune":
        """As `Method.fit`; a resumed run adds the training time its checkpoint recorded, so `train_seconds_`
        is the whole run's, not only the part after the resume."""
        super().fit(texts, labels, validation=validation)
        self.train_seconds_ += self.resumed_seconds_
        return self

    # ---- configuration ---------------------------------------------------------------------------
    def _optim_config(self) -> OptimConfig:
        return OptimConfig(
            lr=self.lr, weight_decay=self.weight_decay, schedule=self.schedule, warmup=self.warmup,
            max_grad_norm=self.max_grad_norm, layer_lr_decay=self.layer_lr_decay,
            freeze_embeddings=self._freeze_embeddings(),
            freeze_layers=self.default_freeze_layers if self.freeze_layers is None else self.freeze_layers,
        )

    def _freeze_embeddings(self) -> bool:
        """The class default, except that added domain tokens need trainable embeddings to learn anything."""
        if self.freeze_embeddings is not None:
            return self.freeze_embeddings
        return self.default_freeze_embeddings and not self.domain_tokens

    def _loop_config(self) -> LoopConfig:
        return LoopConfig(
            epochs=self.epochs, min_steps=self.min_steps, batch_size=self.batch_size, grad_accum_steps=self.grad_accum_steps,
            precision=self.precision, seed=self.seed, eval_every=self.eval_every,
            eval_batch_size=self.eval_batch_size, metric=self.metric, patience=self.patience,
            checkpoint_dir=self.checkpoint_dir, checkpoint_every=self.checkpoint_every, resume=self.resume,
            log_path=self.log_path, progress=self.progress,
        )

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
        optim, loop, adapt = self._optim_config(), self._loop_config(), self._adapt_config()  # validate first
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing={self.label_smoothing!r} must be in [0, 1) (0.1 is usual).")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout={self.dropout!r} must be in [0, 1), or None for the model's own (0.1 for BERT).")
        if not 0 <= self.validation_fraction < 1:
            raise ConfigError(f"validation_fraction={self.validation_fraction!r} must be in [0, 1); 0 trains on all of train.")
        configure_threads()
        if validation is None and self.validation_fraction > 0:
            texts, labels, validation = _carve_validation(texts, labels, self.validation_fraction, self.seed)

        with adapted_encoder(resolve_model_path(self.model), texts, adapt, seed=self.seed) as path:
            self.tokenizer_ = load_tokenizer(path)
            torch.manual_seed(self.seed)  # the head's initial weights
            self.model_ = self._build_model(path)
        if self.dropout is not None:
            set_dropout(self.model_.encoder, self.dropout)
        label_ids = {label: i for i, label in enumerate(self.classes_)}
        train_ids, self.max_length_ = self._tokenize_for_training(texts)
        data = Encoded(train_ids, np.array([label_ids[y] for y in labels]))
        val = None
        if validation is not None and len(validation):
            unknown = sorted(set(validation.labels) - set(label_ids))
            if unknown:
                raise ConfigError(f"validation labels {unknown} never occur in train; classes are {list(self.classes_)}.")
            val = Encoded(tokenize(self.tokenizer_, validation.texts, self.max_length_),
                          np.array([label_ids[str(y)] for y in validation.labels]))

        weight = _class_weights(self.class_weight, data.labels, list(self.classes_))
        state = train(
            self.model_, data, val, optim=optim, loop=loop, num_layers=self.model_.config.num_hidden_layers,
            pad_id=self.tokenizer_.pad_token_id, loss_fn=self._loss_fn(weight), method=self._run_identity(),
        )
        self.history_ = state.history
        self.best_step_ = state.best_step
        self.steps_ = state.step
        self.resumed_seconds_ = state.resumed_seconds

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        device = next(self.model_.parameters()).device
        logits = predict_logits(
            self.model_, tokenize(self.tokenizer_, texts, self.max_length_), batch_size=self.eval_batch_size,
            pad_id=self.tokenizer_.pad_token_id, autocast=precision_context(self.precision, device), device=device,
        )
        return torch.softmax(torch.from_numpy(logits), dim=1).numpy()

    def _save_state(self, directory: Path) -> None:
        self.model_.hf.save_pretrained(directory)
        self.tokenizer_.save_pretrained(directory)

    def _load_state(self, directory: Path) -> None:
        configure_threads()
        self.max_length_ = read_json(directory / METADATA_FILE)["max_length"]
        self.tokenizer_ = load_tokenizer(str(directory))
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model_ = self._load_model(str(directory)).to(device).eval()

    def _metadata(self) -> dict:
        return {**super()._metadata(), "max_length": self.max_length_}

    # ---- what subclasses change (the head, the loss) ---------------------------------------------
    def _build_model(self, path: str) -> torch.nn.Module:
        """A fresh module from `(input_ids, attention_mask)` to logits over `classes_`, with a `.config`."""
        model = SequenceClassifier(_load_hf_classifier(path, list(self.classes_)), self.pooling)
        if self.pooling == "mean":
            model.hf.config.tunetext_pooling = "mean"
        return model

    def _load_model(self, directory: str) -> torch.nn.Module:
        return SequenceClassifier(_load_hf_classifier(directory), self.pooling)

    def _loss_fn(self, weight: torch.Tensor | None):
        return _cross_entropy(weight, self.label_smoothing)

    # ---- helpers ---------------------------------------------------------------------------------
    def _tokenize_for_training(self, texts: list[Text]) -> tuple[list[list[int]], int]:
        """Tokenize once; unless `max_length` is given, pick it from the data (99% of texts kept whole).

        Texts longer than the chosen length (about 1%) are tokenized again with truncation, which keeps
        the closing [SEP] (and truncates pairs the tokenizer's way) rather than cutting id lists by hand.
        """
        model_limit = min(512, self.tokenizer_.model_max_length)
        if self.max_length is not None:
            if not 8 <= self.max_length <= model_limit:
                raise ConfigError(f"max_length={self.max_length!r} must be between 8 and {model_limit} tokens, "
                                  "or None to choose it from the data.")
            return tokenize(self.tokenizer_, texts, self.max_length), self.max_length
        ids = tokenize(self.tokenizer_, texts, model_limit)
        max_length = choose_max_length([len(seq) for seq in ids], cap=model_limit)
        long = [i for i, seq in enumerate(ids) if len(seq) > max_length]
        if long:
            for i, seq in zip(long, tokenize(self.tokenizer_, [texts[i] for i in long], max_length)):
                ids[i] = seq
        return ids, max_length


@register("finetune-partial")
class FineTunePartial(FineTune):
    """Fine-tune only the upper half of the encoder (embeddings and lower layers frozen) plus the head."""

    in_fast_budget = False
    default_freeze_embeddings = True
    default_freeze_layers = "half"


def _load_hf_classifier(path: str, classes: list[str] | None = None):
    """`AutoModelForSequenceClassification` with SDPA attention; with `classes`, a fresh head for them.

    Never runs code the folder ships. Without `classes` the folder is a model tunetext saved: safetensors only.
    """
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging

    kwargs = {"use_safetensors": True}
    if classes is not None:  # an encoder, which may come as pytorch_model.bin (read with weights_only=True)
        kwargs = {"num_labels": len(classes), "id2label": dict(enumerate(classes)),
                  "label2id": {label: i for i, label in enumerate(classes)}}
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # the expected "classifier weights newly initialised" report is noise here
    try:
        return AutoModelForSequenceClassification.from_pretrained(path, attn_implementation="sdpa",
                                                                  trust_remote_code=False, **kwargs)
    finally:
        logging.set_verbosity(verbosity)


def _class_weights(class_weight, labels: np.ndarray, classes: list[str]) -> torch.Tensor | None:
    """None, 'balanced' (n / (k · count), as scikit-learn) or a {label: weight} dict covering every class."""
    if class_weight is None:
        return None
    if class_weight == "balanced":
        counts = np.bincount(labels, minlength=len(classes))
        return torch.tensor(len(labels) / (len(classes) * np.maximum(counts, 1)), dtype=torch.float32)
    if isinstance(class_weight, dict):
        missing = [c for c in classes if c not in {str(k) for k in class_weight}]
        if missing:
            raise ConfigError(f"class_weight has no weight for {missing}; give one for every class: {classes}.")
        given = {str(k): float(v) for k, v in class_weight.items()}
        return torch.tensor([given[c] for c in classes], dtype=torch.float32)
    raise ConfigError(f"class_weight={class_weight!r}; use None, 'balanced' or a dict {{label: weight}}.")


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
