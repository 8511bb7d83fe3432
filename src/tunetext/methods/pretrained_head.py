"""The naive use of a pretrained encoder: add a classification head and never train it.

A reference row, not a method to use: the head is random, so accuracy sits near chance. It shows
that a pretrained encoder needs either a trained head (`probe`), label semantics (`zeroshot`) or
fine-tuning before it classifies anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from scipy.special import softmax

from tunetext import encoders
from tunetext.data.dataset import LabeledTexts, Text
from tunetext.methods.base import Method
from tunetext.methods.finetune import SequenceClassifier
from tunetext.methods.long_texts import ReadsLongTexts
from tunetext.methods.registry import register
from tunetext.training.loop import predict_logits

_HEAD_FILE = "head.safetensors"


@register("pretrained-head")
class PretrainedHead(ReadsLongTexts, Method):
    """`AutoModelForSequenceClassification` as loaded: the real HF head, randomly initialised from `seed`.

    Parameters
    ----------
    model
        The encoder: 'minilm' (bundled) or a local Hugging Face model folder.
    max_length
        Tokens per window.
    long_texts
        A text longer than the window: 'truncate', 'head_tail', 'chunks' (window logits averaged) or 'auto'
        (chunks when over 10% of the texts fit sees are longer).
    batch_size
        Texts per forward pass.
    seed
        Seeds the randomly initialised head.
    """

    family = "pretrained"
    learns_from_labels = False
    reference_row = True  # the naive use, at chance: the report shows why the head must be trained

    def __init__(self, *, model: str = "minilm", max_length: int = 128, batch_size: int = 64, seed: int = 0,
                 long_texts: str = "auto") -> None:
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.seed = seed
        self.long_texts = long_texts

    def _check_params(self) -> None:
        encoders.check_long_texts(self.long_texts)

    def _build(self) -> list[str]:
        """Load the encoder with a fresh head; returns the names of the newly initialised weights."""
        from transformers import AutoModelForSequenceClassification

        path = encoders.resolve_model_path(self.model)
        encoders.configure_threads()
        with torch.random.fork_rng(), encoders.quiet_loading():  # seed the head without disturbing the caller's RNG
            torch.manual_seed(self.seed)
            self.model_, info = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=len(self.classes_), output_loading_info=True, trust_remote_code=False,
                local_files_only=True,
            )
        self.model_.eval()
        self.tokenizer_ = encoders.load_tokenizer(path)
        return sorted(info["missing_keys"])

    def _fit(self, texts: list[Text], labels: list[str], validation: LabeledTexts | None) -> None:
        self.head_keys_ = self._build()
        pairs = isinstance(texts[0], tuple)
        self.long_texts_ = encoders.resolve_long_texts(self.long_texts, encoders.token_lengths(self.tokenizer_, texts),
                                                       self.max_length, pairs=pairs)

    @torch.inference_mode()
    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        model = SequenceClassifier(self.model_, "cls")

        def logits(ids: list[list[int]]) -> np.ndarray:
            return predict_logits(model, ids, batch_size=self.batch_size, pad_id=self.tokenizer_.pad_token_id)

        return softmax(encoders.per_text(logits, self.tokenizer_, texts, self.max_length, self.long_text_strategy), axis=1)

    def _save_state(self, directory: Path) -> None:
        # Only the head is new; the encoder is referenced by `model` and reloaded from there.
        state = self.model_.state_dict()
        save_file({key: state[key].contiguous() for key in self.head_keys_}, str(directory / _HEAD_FILE))

    def _load_state(self, directory: Path) -> None:
        self._restore_long_texts(directory)
        head = load_file(str(directory / _HEAD_FILE))
        self._build()
        self.model_.load_state_dict(head, strict=False)
        self.head_keys_ = sorted(head)
