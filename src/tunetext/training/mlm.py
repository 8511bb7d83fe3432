"""Domain adaptation of an encoder before fine-tuning: domain tokens, then masked-LM training on in-domain text.

The bundled MiniLM ships no MLM head, so the head here is the standard BERT one started afresh: a
dense + GELU + LayerNorm transform whose output is scored against the word embeddings (the decoder is
tied to them, so new domain tokens learn as inputs and as targets). The shared training loop drives it:
masking happens inside the module's forward, which returns the loss itself.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from tunetext.data.dataset import Text
from tunetext.encoders import choose_max_length, load_encoder, load_tokenizer, tokenize
from tunetext.errors import ConfigError
from tunetext.training.config import LoopConfig, OptimConfig
from tunetext.training.loop import Encoded, train


@dataclass(frozen=True)
class AdaptConfig:
    """What to do to the encoder before fine-tuning; the default does nothing."""

    domain_tokens: bool = False
    mlm_steps: int = 0
    texts_path: str | None = None
    """A file of unlabeled in-domain texts for the MLM; None uses the training texts."""
    preprocess: str | dict | None = None
    """The method's normaliser: its placeholders become domain tokens and it normalises `texts_path`."""
    mlm_lr: float = 1e-4
    mlm_batch_size: int = 32
    mask_probability: float = 0.15

    def __post_init__(self) -> None:
        if not (isinstance(self.mlm_steps, int) and self.mlm_steps >= 0):
            raise ConfigError(f"adapt_mlm_steps={self.mlm_steps!r} must be an int >= 0 (0 skips MLM adaptation).")
        if self.texts_path is not None and self.mlm_steps == 0:
            raise ConfigError(f"adapt_texts={self.texts_path!r} is only read for MLM adaptation; set adapt_mlm_steps > 0.")
        if not 0 < self.mask_probability < 1:
            raise ConfigError(f"mask_probability={self.mask_probability!r} must be in (0, 1); BERT used 0.15.")

    @property
    def active(self) -> bool:
        return self.domain_tokens or self.mlm_steps > 0


@contextlib.contextmanager
def adapted_encoder(model_path: str, texts: Sequence[Text], config: AdaptConfig, *, seed: int = 0) -> Iterator[str]:
    """Yield the folder of the encoder to fine-tune: `model_path` itself, or an adapted copy (deleted after)."""
    if not config.active:
        yield model_path
        return
    tokenizer = load_tokenizer(model_path)
    encoder = load_encoder(model_path)
    singles = [piece for text in texts for piece in (text if isinstance(text, tuple) else (text,))]
    if config.domain_tokens:
        from tunetext.preprocessing import add_domain_tokens, domain_tokens, get_normaliser

        placeholders = get_normaliser(config.preprocess).placeholders if config.preprocess else ()
        add_domain_tokens(tokenizer, encoder, domain_tokens(singles, placeholders))
    if config.mlm_steps:
        adapt_mlm(encoder, tokenizer, _mlm_texts(config) or singles, config, seed=seed)
    with tempfile.TemporaryDirectory(prefix="tunetext-adapted-") as folder:
        encoder.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        yield folder


def adapt_mlm(encoder, tokenizer, texts: Sequence[str], config: AdaptConfig, *, seed: int = 0) -> "MaskedLM":
    """Train `encoder` in place with masked-LM for `config.mlm_steps` steps; returns encoder + trained head
    (fine-tuning discards the head; contextual augmentation predicts words with it)."""
    ids = tokenize(tokenizer, texts, min(512, tokenizer.model_max_length))
    ids = tokenize(tokenizer, texts, choose_max_length([len(seq) for seq in ids]))
    batches_per_epoch = math.ceil(len(ids) / config.mlm_batch_size)
    # The loop runs ceil(epochs · batches_per_epoch) steps; half a step less keeps float error from adding one.
    epochs = (config.mlm_steps - 0.5) / batches_per_epoch
    model = MaskedLM(encoder, special_ids=tokenizer.all_special_ids, mask_id=tokenizer.mask_token_id,
                     probability=config.mask_probability)
    # The MLM's own settings (not fine-tuning's): everything trains, the usual AdamW schedule, no validation set.
    optim = OptimConfig(lr=config.mlm_lr, weight_decay=0.01, schedule="linear", warmup=0.1, max_grad_norm=1.0,
                        layer_lr_decay=1.0, freeze_embeddings=False, freeze_layers=0)
    loop = LoopConfig(epochs=epochs, min_steps=0, batch_size=config.mlm_batch_size, grad_accum_steps=1, precision="auto",
                      seed=seed, eval_every=None, eval_batch_size=128, metric="accuracy", patience=None,
                      checkpoint_dir=None, checkpoint_every=100, resume=False, log_path=None, progress=False)
    train(model, Encoded(ids, np.zeros(len(ids), dtype=int)), None, optim=optim, loop=loop,
          loss_fn=lambda loss, _labels: loss, num_layers=encoder.config.num_hidden_layers, pad_id=tokenizer.pad_token_id)
    encoder.eval()
    return model.eval()


class MaskedLM(torch.nn.Module):
    """Encoder + fresh BERT MLM head; `forward` masks its input (80% [MASK], 10% random, 10% kept) and returns the loss."""

    def __init__(self, encoder, *, special_ids: Sequence[int], mask_id: int, probability: float = 0.15) -> None:
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.config = encoder.config
        self.transform = torch.nn.Sequential(
            torch.nn.Linear(hidden, hidden), torch.nn.GELU(),
            torch.nn.LayerNorm(hidden, eps=getattr(encoder.config, "layer_norm_eps", 1e-12)),
        )
        self.bias = torch.nn.Parameter(torch.zeros(encoder.get_input_embeddings().num_embeddings))
        self.register_buffer("special_ids", torch.as_tensor(list(special_ids)), persistent=False)
        self.mask_id = mask_id
        self.probability = probability

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        inputs, targets = self.mask(input_ids)
        hidden = self.encoder(input_ids=inputs, attention_mask=attention_mask).last_hidden_state
        picked = targets >= 0  # score only the masked positions: the vocabulary projection is the costly part
        return F.cross_entropy(self.word_logits(hidden[picked]).float(), targets[picked])

    def word_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores over the vocabulary for hidden states `(..., hidden)`: the decoder is the word embeddings."""
        return self.transform(hidden) @ self.encoder.get_input_embeddings().weight.T + self.bias

    def mask(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """BERT's masking of `probability` of the real tokens; targets are -1 where nothing is predicted."""
        maskable = ~torch.isin(input_ids, self.special_ids)
        chosen = (torch.rand(input_ids.shape, device=input_ids.device) < self.probability) & maskable
        if not chosen.any():  # a tiny batch may draw no position: predict its first real token
            chosen.view(-1)[maskable.view(-1).nonzero()[:1]] = True
        targets = torch.where(chosen, input_ids, -1)
        roll = torch.rand(input_ids.shape, device=input_ids.device)
        vocab = self.bias.numel()
        inputs = torch.where(chosen & (roll < 0.8), self.mask_id, input_ids)
        random_ids = torch.randint_like(input_ids, vocab)
        inputs = torch.where(chosen & (roll >= 0.8) & (roll < 0.9), random_ids, inputs)
        return inputs, targets


def _mlm_texts(config: AdaptConfig) -> list[str]:
    """The texts of `config.texts_path` (a .txt file, one text a line, or a table), normalised like training texts."""
    if config.texts_path is None:
        return []
    from pathlib import Path

    from tunetext.data.loading import find_text_column, read_table

    path = Path(config.texts_path)
    if path.suffix == ".txt":
        texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        frame = read_table(path)
        texts = frame[find_text_column(list(frame.columns), source=path.name)].astype(str).tolist()
    if config.preprocess:
        from tunetext.preprocessing import get_normaliser

        texts = list(map(get_normaliser(config.preprocess), texts))
    return texts
