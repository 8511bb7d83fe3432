"""Contrastive fine-tuning for few labels (SetFit's idea): pull same-label texts together, then a linear head.

With a handful of examples per class, a cross-entropy head has little to learn from; a contrastive loss
learns from every pair of examples instead. The encoder body is trained with a supervised contrastive
loss (Khosla et al., 2020) on mean-pooled, L2-normalised embeddings: in each batch, every text is pulled
towards the other texts of its label and pushed from the rest. The pairs are the batch's own (no O(n²)
list of sentence pairs as SetFit builds): one forward pass of B texts gives B·(B-1) pairs, so the number
of pairs grows with the data through `epochs` and `min_steps`. A logistic regression on the adapted
embeddings is then the head.

The saved folder is a Hugging Face encoder (safetensors + tokenizer), which any sentence-embedding tool
reads with mean pooling, and the head as safetensors arrays (no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from tunetext.data.dataset import LabeledTexts, Text
from tunetext.encoders import (
    check_long_texts,
    load_encoder,
    load_tokenizer,
    mean_pool,
    resolve_model_path,
    per_text,
    training_windows,
)
from tunetext.errors import ConfigError
from tunetext.io import read_json
from tunetext.methods.base import METADATA_FILE, Method, OnnxParts
from tunetext.methods.long_texts import ReadsLongTexts
from tunetext.methods.registry import register
from tunetext.training.config import LoopConfig, OptimConfig
from tunetext.training.loop import Encoded, precision_context, predict_logits, train

HEAD_FILE = "head.safetensors"
_HEAD_MAX_ITER = 2000


class Embedder(torch.nn.Module):
    """Encoder → mean pooling → unit length: the embedding the contrastive loss and the head see."""

    def __init__(self, encoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return F.normalize(mean_pool(hidden, attention_mask), dim=-1)


class EmbeddingClassifier(torch.nn.Module):
    """The embedder and the linear head: token ids to logits over `classes_` (what predict and ONNX run)."""

    def __init__(self, embedder: Embedder, head: torch.nn.Linear) -> None:
        super().__init__()
        self.embedder = embedder
        self.head = head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedder(input_ids, attention_mask))


def supervised_contrastive_loss(embeddings: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Khosla et al.'s SupCon loss over one batch of unit-length embeddings.

    For each text with at least one other text of its label in the batch: the mean, over those positives,
    of -log softmax of its cosine similarities / temperature (itself left out). A batch without any
    positive pair gives 0 (with a graph, so backward still runs).
    """
    logits = embeddings @ embeddings.T / temperature
    self_mask = torch.eye(len(labels), dtype=torch.bool, device=logits.device)
    log_prob = torch.log_softmax(logits.masked_fill(self_mask, float("-inf")), dim=1)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    counts = positives.sum(1)
    anchors = counts > 0
    if not anchors.any():
        return logits.sum() * 0.0
    per_anchor = -log_prob.masked_fill(~positives, 0.0).sum(1)[anchors] / counts[anchors]
    return per_anchor.mean()


@register("contrastive")
@dataclass(kw_only=True, eq=False, repr=False)  # the keyword-only __init__, as FineTune
class Contrastive(ReadsLongTexts, Method):
    """Contrastive fine-tuning of the encoder (supervised contrastive loss), then logistic regression on its embeddings.

    Parameters
    ----------
    model
        The encoder: 'minilm' (bundled) or a local Hugging Face model folder.
    max_length
        Tokens per window (8-512); None chooses it from the training texts (99% kept whole, at most 512).
    long_texts
        A text longer than the window: 'truncate', 'head_tail', 'chunks' (each window trains with its text's
        label; window logits are averaged per text) or 'auto' (chunks when over 10% of training texts are longer).
    lr
        Peak learning rate of AdamW for the encoder body.
    weight_decay
        AdamW's decoupled weight decay (not applied to biases and LayerNorms).
    warmup
        Warm-up: a float is a ratio of the training steps, an int a number of steps.
    freeze_embeddings
        Freeze the word embeddings: few examples cannot move a 30k-row table usefully.
    temperature
        Scale of the cosine similarities in the contrastive loss; lower sharpens it (0.05-0.1 is usual).
    epochs
        Passes over the training set (a float trains part of the last one).
    min_steps
        Train at least this many optimizer steps (0: the epochs decide). Few steps are enough: at 8 examples per
        class on four catalog sets' validation splits, 4 epochs at lr 2e-4 matched 40 steps at 5e-5 (and 5
        epochs) at under a fifth of the time (benchmarks/few_shot.py).
    batch_size
        Texts per step; every pair within a batch is a training pair, so larger batches see more pairs.
    precision
        'auto' (bf16 where the hardware has it natively), 'bf16' or 'fp32'.
    seed
        Seeds the batch order and the head.
    C
        Inverse L2 strength of the logistic-regression head on the unit-length embeddings.
    eval_batch_size
        Texts per forward pass when embedding and predicting.
    """

    family = "fine-tuned"
    in_fast_budget = False  # its full-size cell on large data costs minutes: `--budget full` or `--methods contrastive`
    in_fast_budget_for_few_labels = True
    exports_onnx = True
    search_space = {
        "lr": {"low": 1e-5, "high": 2e-4, "log": True},
        "temperature": {"low": 0.03, "high": 0.3, "log": True},
        "epochs": {"low": 3, "high": 30},
        "batch_size": [16, 32, 64],
        "C": {"low": 0.1, "high": 100.0, "log": True},
    }
    model: str = "minilm"
    max_length: int | None = None
    long_texts: str = "auto"
    lr: float = 2e-4
    weight_decay: float = 0.01
    warmup: float | int = 0.1
    freeze_embeddings: bool = True
    temperature: float = 0.1
    epochs: float = 4
    min_steps: int = 0
    batch_size: int = 32
    precision: str = "auto"
    seed: int = 0
    C: float = 10.0
    eval_batch_size: int = 128

    # ---- configuration ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        self._optim_config(), self._loop_config()
        resolve_model_path(self.model)
        if self.max_length is not None and not 8 <= self.max_length <= 512:
            raise ConfigError(f"max_length={self.max_length!r} must be between 8 and 512 tokens, "
                              "or None to choose it from the data.")
        check_long_texts(self.long_texts)
        if not self.temperature > 0:
            raise ConfigError(f"temperature={self.temperature!r} must be > 0 (0.05-0.1 is usual).")
        if not self.C > 0:
            raise ConfigError(f"C={self.C!r} must be > 0: the head's inverse L2 strength (10 is the default).")

    def _optim_config(self) -> OptimConfig:
        return OptimConfig(lr=self.lr, weight_decay=self.weight_decay, schedule="linear", warmup=self.warmup,
                           max_grad_norm=1.0, layer_lr_decay=1.0, freeze_embeddings=self.freeze_embeddings,
                           freeze_layers=0)

    def _loop_config(self) -> LoopConfig:
        """The loop without validation, early stopping or checkpoints: a few-shot run takes seconds to minutes."""
        return LoopConfig(epochs=self.epochs, min_steps=self.min_steps, batch_size=self.batch_size, grad_accum_steps=1,
                          precision=self.precision, seed=self.seed, eval_every=None,
                          eval_batch_size=self.eval_batch_size, metric="accuracy", patience=None, checkpoint_dir=None,
                          checkpoint_every=1, resume=False, log_path=None, progress=False)

    # ---- Method hooks ----------------------------------------------------------------------------
    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        optim, loop = self._optim_config(), self._loop_config()
        path = resolve_model_path(self.model)
        self.tokenizer_ = load_tokenizer(path)
        embedder = Embedder(load_encoder(path))
        cut, self.max_length_, self.long_texts_ = training_windows(self.tokenizer_, texts, self.max_length,
                                                                   self.long_texts)
        ids = cut.ids
        label_ids = {label: i for i, label in enumerate(self.classes_)}
        data = Encoded(ids, cut.labels(np.array([label_ids[y] for y in labels])))
        temperature = self.temperature
        train(embedder, data, None, optim=optim, loop=loop, num_layers=embedder.config.num_hidden_layers,
              pad_id=self.tokenizer_.pad_token_id,
              loss_fn=lambda z, y: supervised_contrastive_loss(z, y, temperature))
        self.model_ = EmbeddingClassifier(embedder, self._fit_head(embedder, ids, data.labels))

    def _fit_head(self, embedder: Embedder, ids: list[list[int]], labels: np.ndarray) -> torch.nn.Linear:
        """Logistic regression on the adapted embeddings, as a linear layer over every class (binary: [0, z])."""
        from sklearn.linear_model import LogisticRegression

        x = self._logits(embedder, ids)
        regression = LogisticRegression(C=self.C, max_iter=_HEAD_MAX_ITER, random_state=self.seed).fit(x, labels)
        weight, bias = regression.coef_, regression.intercept_
        if len(weight) == 1:  # sklearn's binary sigmoid is a softmax over (0, z)
            weight, bias = np.vstack([np.zeros_like(weight), weight]), np.concatenate([[0.0], bias])
        return _linear(torch.tensor(weight, dtype=torch.float32), torch.tensor(bias, dtype=torch.float32))

    def _logits(self, module: torch.nn.Module, ids: list[list[int]]) -> np.ndarray:
        device = next(module.parameters()).device
        return predict_logits(module, ids, batch_size=self.eval_batch_size, pad_id=self.tokenizer_.pad_token_id,
                              autocast=precision_context(self.precision, device), device=device)

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        logits = per_text(lambda ids: self._logits(self.model_, ids), self.tokenizer_, texts, self.max_length_,
                          self.long_text_strategy)
        return torch.softmax(torch.from_numpy(logits), dim=1).numpy()

    def _save_state(self, directory: Path) -> None:
        self.model_.embedder.encoder.save_pretrained(directory)
        self.tokenizer_.save_pretrained(directory)
        head = self.model_.head
        save_file({"weight": head.weight.detach().cpu().contiguous(), "bias": head.bias.detach().cpu().contiguous()},
                  str(directory / HEAD_FILE))

    def _load_state(self, directory: Path) -> None:
        self.max_length_ = read_json(directory / METADATA_FILE)["max_length"]
        self._restore_long_texts(directory)
        self.tokenizer_ = load_tokenizer(str(directory))
        arrays = load_file(str(directory / HEAD_FILE))
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = EmbeddingClassifier(Embedder(load_encoder(str(directory), saved=True)),
                                    _linear(arrays["weight"], arrays["bias"]))
        self.model_ = model.to(device).eval()

    def _metadata(self) -> dict:
        return {**super()._metadata(), "max_length": self.max_length_}

    def onnx_parts(self) -> OnnxParts:
        return OnnxParts(self.model_, self.tokenizer_, self.max_length_, long_texts=self.long_text_strategy)


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Linear:
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer
