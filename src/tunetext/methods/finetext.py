"""FineText (Majumder et al. 2019, arXiv:1910.11959): classify from a learned attention over *all* encoder layers.

Lower layers hold surface and syntactic features (question form, casing, punctuation), upper layers more
semantic ones; which of them a task needs varies. Instead of the last layer's [CLS] alone, each layer's
pooled vector is scored by a small learned scorer, the scores are soft-maxed over layers, and the classifier
reads the weighted sum. `layer_weights_` (embeddings first, then layers 1..L) is the attention averaged
over training texts: which layers the model chose.

- `finetext`: the encoder is fine-tuned with the head (everything of `finetune`: schedules, freezing, ...).
- `finetext-frozen`: the encoder stays frozen, so its all-layer features come from the feature cache and
  only the head trains, in seconds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tunetext import encoders, features
from tunetext.data.dataset import LabeledTexts, Text
from tunetext.encoders import batched_inference, load_encoder, pool, tokenize
from tunetext.io import read_json
from tunetext.methods.base import METADATA_FILE, Method, Series
from tunetext.methods.finetune import FineTune
from tunetext.methods.long_texts import ReadsLongTexts
from tunetext.methods.registry import register

_HEAD_FILE = "finetext_head.safetensors"
_WEIGHT_SAMPLE = 512
"""Training texts the fine-tuned model's mean layer weights are measured on (an extra forward pass each)."""


class LayerAttentionHead(torch.nn.Module):
    """`(batch, layers, hidden)` pooled vectors → logits, via a softmax attention over layers.

    Each layer's vector is layer-normalised first: raw norms differ several-fold between layers, and the
    mix should weigh content, not scale. The score of a layer is a linear function of its vector plus a
    learned per-layer bias, so the choice can depend on the text as well as on the task.
    """

    def __init__(self, hidden: int, num_layers: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.norm = torch.nn.LayerNorm(hidden, elementwise_affine=False)
        self.scorer = torch.nn.Linear(hidden, 1)
        self.layer_bias = torch.nn.Parameter(torch.zeros(num_layers))
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(hidden, num_classes)

    def attend(self, layers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The weighted sum `(batch, hidden)` and the weights `(batch, layers)`, which sum to 1 per text."""
        layers = self.norm(layers)
        weights = torch.softmax(self.scorer(layers).squeeze(-1) + self.layer_bias, dim=-1)
        return torch.einsum("bl,blh->bh", weights, layers), weights

    def forward(self, layers: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.attend(layers)[0]))


class LayerAttentionClassifier(torch.nn.Module):
    """Encoder → each layer's pooled vector → `LayerAttentionHead`; a module from token ids to logits."""

    def __init__(self, encoder, num_classes: int, pooling: str) -> None:
        super().__init__()
        for param in getattr(encoder, "pooler", torch.nn.Module()).parameters():
            param.requires_grad_(False)  # unused: no gradient (DDP would wait for one), no optimizer state
        self.encoder = encoder
        self.config = encoder.config
        self.pooling = pooling
        self.head = LayerAttentionHead(encoder.config.hidden_size, encoder.config.num_hidden_layers + 1,
                                       num_classes, encoder.config.hidden_dropout_prob)

    def layers(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
        return torch.stack([pool(h, attention_mask, self.pooling) for h in states], dim=1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(input_ids, attention_mask))


class _ReportsLayerWeights:
    """What both FineText methods learn about the encoder's layers: saved with the model, drawn in compare's report."""

    layer_weights_: np.ndarray

    def diagnostics(self) -> dict[str, Series]:
        labels = ["emb"] + [str(layer) for layer in range(1, len(self.layer_weights_))]
        return {"layer_weights": Series("FineText layer weights", labels, self.layer_weights_,
                                        xlabel="encoder layer", ylabel="attention weight")}

    def _metadata(self) -> dict:
        return {**super()._metadata(), "layer_weights": self.layer_weights_.tolist()}


@register("finetext")
class FineText(_ReportsLayerWeights, FineTune):
    """Fine-tune the encoder with a learned attention over all its layers (FineText) instead of the last [CLS]."""

    in_fast_budget = False  # a second full fine-tuning: `compare --budget full` or `--methods finetext`

    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        super()._fit(texts, labels, validation)
        sample = texts[:: max(1, math.ceil(len(texts) / _WEIGHT_SAMPLE))]
        self.layer_weights_ = self._mean_layer_weights(tokenize(self.tokenizer_, sample, self.max_length_))

    def _build_model(self, path: str) -> torch.nn.Module:
        return LayerAttentionClassifier(load_encoder(path), len(self.classes_), self.pooling)

    def _load_model(self, directory: str) -> torch.nn.Module:
        from safetensors.torch import load_file

        model = LayerAttentionClassifier(load_encoder(directory, saved=True), len(self.classes_), self.pooling)
        model.head.load_state_dict(load_file(Path(directory) / _HEAD_FILE))
        return model

    def _save_state(self, directory: Path) -> None:
        from safetensors.torch import save_file

        self.model_.encoder.save_pretrained(directory)
        self.tokenizer_.save_pretrained(directory)
        save_file({k: v.contiguous() for k, v in self.model_.head.state_dict().items()}, directory / _HEAD_FILE)

    def _load_state(self, directory: Path) -> None:
        super()._load_state(directory)
        self.layer_weights_ = np.array(read_json(directory / METADATA_FILE)["layer_weights"], dtype=np.float32)

    def _mean_layer_weights(self, ids: list[list[int]]) -> np.ndarray:
        def weights(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model_.head.attend(self.model_.layers(input_ids, attention_mask))[1]

        per_text = batched_inference(weights, ids, batch_size=self.eval_batch_size, pad_id=self.tokenizer_.pad_token_id,
                                     device=next(self.model_.parameters()).device)
        return per_text.mean(axis=0)


@register("finetext-frozen")
class FineTextFrozen(_ReportsLayerWeights, ReadsLongTexts, Method):
    """Frozen encoder, cached all-layer features → learned attention over layers → linear classifier.

    Features are standardised per layer and dimension with training statistics (as `probe` does), and the
    head is strongly decayed (`weight_decay=1.0`): on TREC-6 with 500 examples both beat the raw, lightly
    regularised head by 2-3 points, which overfits.

    Parameters
    ----------
    model
        The encoder: 'minilm' (bundled) or a local Hugging Face model folder.
    pooling
        How each layer's token vectors become one: 'mean' or 'cls'.
    max_length
        Tokens per encoder window.
    long_texts
        A text longer than the window: 'truncate', 'head_tail', 'chunks' (features averaged over windows) or
        'auto' (chunks when over 10% of training texts are longer).
    epochs
        Passes of the head over the cached features.
    batch_size
        Examples per AdamW step of the head.
    lr
        AdamW learning rate of the head.
    weight_decay
        AdamW weight decay of the head (strong: the head overfits otherwise).
    dropout
        Dropout before the head's classifier.
    seed
        Seeds the head's initial weights and the batch order.
    cache
        Read and write the feature cache; False for texts that will not recur.
    preprocess
        A text normaliser applied at training and prediction ('tweet'), saved with the model.
    """

    family = "pretrained"
    search_space = {
        "lr": {"low": 1e-4, "high": 1e-2, "log": True},
        "weight_decay": {"low": 0.01, "high": 3.0, "log": True},
        "dropout": {"low": 0.0, "high": 0.5},
        "epochs": {"low": 10, "high": 80},
        "batch_size": [32, 64, 128],
    }

    def __init__(
        self,
        *,
        model: str = "minilm",
        pooling: str = "mean",
        max_length: int = 128,
        epochs: int = 40,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1.0,
        dropout: float = 0.1,
        seed: int = 0,
        cache: bool = True,
        preprocess: str | dict | None = None,
        long_texts: str = "auto",
    ) -> None:
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.seed = seed
        self.cache = cache
        self.preprocess = preprocess
        self.long_texts = long_texts

    def _check_params(self) -> None:
        encoders.check_long_texts(self.long_texts)

    def _raw_features(self, texts: list[Text]) -> torch.Tensor:
        """Pooled features of every layer, `(n, layers, hidden)`, through the feature cache."""
        return torch.from_numpy(features.encode(texts, model=self.model, pooling=self.pooling,
                                                max_length=self.max_length, all_layers=True, cache=self.cache,
                                                long_texts=self.long_text_strategy))

    def _features(self, texts: list[Text]) -> torch.Tensor:
        return (self._raw_features(texts) - self.mean_) / self.scale_

    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        self.long_texts_ = features.resolve_long_texts(texts, model=self.model, max_length=self.max_length,
                                                       long_texts=self.long_texts)
        raw = self._raw_features(texts)
        self.mean_, self.scale_ = raw.mean(dim=0), raw.std(dim=0).clamp(min=1e-6)
        x = (raw - self.mean_) / self.scale_
        index = {label: i for i, label in enumerate(self.classes_)}
        y = torch.tensor([index[label] for label in labels])
        torch.manual_seed(self.seed)
        self.head_ = LayerAttentionHead(x.shape[2], x.shape[1], len(self.classes_), self.dropout)
        optimizer = torch.optim.AdamW(self.head_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        order = np.random.default_rng(self.seed)
        self.head_.train()
        for _ in range(self.epochs):  # the features fit in memory: a plain minibatch loop is all it takes
            for rows in np.array_split(order.permutation(len(y)), math.ceil(len(y) / self.batch_size)):
                loss = F.cross_entropy(self.head_(x[rows]), y[rows])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        self.head_.eval()
        with torch.inference_mode():
            self.layer_weights_ = self.head_.attend(x)[1].mean(0).numpy()

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        with torch.inference_mode():
            return torch.softmax(self.head_(self._features(texts)), dim=1).numpy()

    def _save_state(self, directory: Path) -> None:
        from safetensors.torch import save_file

        save_file({**self.head_.state_dict(), "feature_mean": self.mean_, "feature_scale": self.scale_},
                  directory / _HEAD_FILE)

    def _load_state(self, directory: Path) -> None:
        from safetensors.torch import load_file

        self._restore_long_texts(directory)
        state = load_file(directory / _HEAD_FILE)
        self.mean_, self.scale_ = state.pop("feature_mean"), state.pop("feature_scale")
        self.head_ = LayerAttentionHead(state["scorer.weight"].shape[1], len(state["layer_bias"]),
                                        len(self.classes_), self.dropout)
        self.head_.load_state_dict(state)
        self.head_.eval()
        self.layer_weights_ = np.array(read_json(directory / METADATA_FILE)["layer_weights"], dtype=np.float32)
