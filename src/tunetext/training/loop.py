"""The fine-tuning loop: one function that reads top to bottom, on Hugging Face Accelerate.

set lr → forward/backward (accumulating) → clip → step → log → maybe evaluate / checkpoint → maybe stop.

The same code runs on CPU, one GPU or several processes (`accelerate launch`): every process builds the
same seeded batch order and takes its own slice of each batch, so `batch_size` is the global batch.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import itertools
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score

from tunetext.encoders import Windows, batched_inference, pad_batch
from tunetext.errors import ConfigError
from tunetext.training.batching import length_grouped_batches
from tunetext.training.checkpoint import TrainState, load_checkpoint, save_checkpoint, set_rng_state
from tunetext.training.config import METRICS, LoopConfig, OptimConfig
from tunetext.training.optim import build_optimizer
from tunetext.training.schedules import get_schedule, warmup_steps

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
_EVAL_LISTENERS: contextvars.ContextVar[tuple[Callable[[dict], None], ...]] = contextvars.ContextVar(
    "tunetext_eval_listeners", default=()
)


@contextlib.contextmanager
def on_evaluation(listener: Callable[[dict], None]) -> Iterator[None]:
    """Call `listener(record)` after every validation of a `train` inside this block.

    Lets a hyperparameter search see intermediate scores without a callback hyperparameter on every method;
    the listener may raise (e.g. to prune the trial), which ends training.
    """
    token = _EVAL_LISTENERS.set(_EVAL_LISTENERS.get() + (listener,))
    try:
        yield
    finally:
        _EVAL_LISTENERS.reset(token)


@dataclass(frozen=True)
class Encoded:
    """Token ids (unpadded) with integer labels, or a 0/1 matrix (texts × labels) for multi-label: tokenized
    once, batched many times."""

    ids: list[list[int]]
    labels: np.ndarray
    texts: Windows | None = None
    """Validation windows of long texts: which text each window came from, so that early stopping scores texts
    (their windows' logits pooled by `aggregation`, as prediction does), not windows."""
    aggregation: str = "mean"

    def __len__(self) -> int:
        return len(self.ids)

    def fingerprint(self) -> str:
        """sha256 of the token ids and labels, in order: a checkpoint trained on other data is not resumed."""
        digest = hashlib.sha256()
        for part in ([len(seq) for seq in self.ids], itertools.chain.from_iterable(self.ids), self.labels.ravel()):
            digest.update(np.fromiter(part, dtype="<i8").tobytes())  # little-endian: the same hash everywhere
        return digest.hexdigest()


def train(
    model: torch.nn.Module,
    data: Encoded,
    validation: Encoded | None,
    *,
    optim: OptimConfig,
    loop: LoopConfig,
    loss_fn: LossFn,
    num_layers: int,
    pad_id: int,
    method: dict | None = None,
) -> TrainState:
    """Train `model` (a module mapping `input_ids, attention_mask` to logits) in place; returns the final state.

    With `validation`, the best weights by `loop.metric` are restored at the end and training stops after
    `loop.patience` evaluations without improvement; without it, the last weights are kept.
    `method` holds what else defines the run (the caller's encoder, head, loss settings): a checkpoint
    resumes only when it, the data and every setting that changes training are the same.
    """
    from accelerate import Accelerator

    accelerator = Accelerator()
    _check_all_processes_joined(accelerator.num_processes)
    torch.manual_seed(loop.seed)  # dropout masks: the batch order has its own seeded generator
    optimizer = build_optimizer(model, optim, num_layers)
    model, optimizer = accelerator.prepare(model, optimizer)
    trainable = [p for p in model.parameters() if p.requires_grad]
    autocast = precision_context(loop.precision, accelerator.device)

    processes = accelerator.num_processes
    if len(data) < processes:
        raise ConfigError(f"{len(data)} training examples cannot be shared by {processes} processes.")
    lengths = [len(seq) for seq in data.ids]

    def epoch_batches(epoch: int) -> list[np.ndarray]:
        return length_grouped_batches(lengths, loop.batch_size, seed=loop.seed, epoch=epoch, min_size=processes)

    batches_per_epoch = len(epoch_batches(0))  # the same count every epoch
    total_steps = max(1, loop.min_steps, math.ceil(loop.epochs * batches_per_epoch / loop.grad_accum_steps))
    warmup = warmup_steps(optim.warmup, total_steps)
    schedule = get_schedule(optim.schedule)
    eval_every = loop.eval_every or math.ceil(batches_per_epoch / loop.grad_accum_steps)
    run_meta = _plain({
        "total_steps": total_steps, "examples": len(data), "training_data": data.fingerprint(),
        "validation_data": None if validation is None else validation.fingerprint(),
        "optim": dataclasses.asdict(optim), "loop": loop.run_settings(), "method": method or {},
    })

    state = TrainState()
    if loop.resume and (saved := load_checkpoint(loop.checkpoint_dir)) is not None:
        _check_same_run(saved["meta"], run_meta, loop.checkpoint_dir)
        accelerator.unwrap_model(model).load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = TrainState(**saved["state"])
        state.resumed_seconds = state.seconds
        set_rng_state(saved["rng"])

    log = _JsonLines(loop.log_path if accelerator.is_main_process else None)
    bar = _progress_bar(total_steps, state.step, loop.progress and accelerator.is_main_process)
    epoch_cache: dict[int, list[np.ndarray]] = {}

    def batch_at(position: int) -> dict[str, torch.Tensor]:
        """The global `position`-th batch of the run (epochs back to back), this process's slice of it."""
        epoch, index = divmod(position, batches_per_epoch)
        if epoch not in epoch_cache:  # one epoch's order at a time: enough to batch, cheap to rebuild
            epoch_cache.clear()
            epoch_cache[epoch] = epoch_batches(epoch)
        rows = epoch_cache[epoch][index][accelerator.process_index :: processes]
        batch = pad_batch([data.ids[i] for i in rows], pad_id)
        batch["labels"] = label_tensor(data.labels[rows])
        return {k: v.to(accelerator.device) for k, v in batch.items()}

    model.train()
    run_started = time.perf_counter()
    while state.step < total_steps and not state.stopped_early:
        step, started = state.step, time.perf_counter()
        # Set the lr from the pure schedule: nothing to restore on resume but the step.
        lr = optim.lr * schedule(step, warmup, total_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr * group["lr_scale"]

        # Forward/backward over the accumulated micro-batches; DDP syncs gradients only on the last.
        loss_sum, samples = 0.0, 0
        for micro in range(loop.grad_accum_steps):
            batch = batch_at(step * loop.grad_accum_steps + micro)
            labels = batch.pop("labels")
            last = micro == loop.grad_accum_steps - 1
            with (contextlib.nullcontext() if last else accelerator.no_sync(model)), autocast(), \
                    training_attention(accelerator.device, batch["input_ids"].shape[1]):
                logits = model(**batch)
            loss = loss_fn(logits.float(), labels) / loop.grad_accum_steps
            accelerator.backward(loss)
            loss_sum += loss.item()
            samples += len(labels) * processes

        # Clip by global norm, step, and flush the gradients as soon as we can (frees their memory).
        grad_norm = accelerator.clip_grad_norm_(trainable, optim.max_grad_norm or math.inf)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        state.step += 1

        speed = samples / (time.perf_counter() - started)
        record = {"step": state.step, "loss": loss_sum, "lr": lr, "grad_norm": float(grad_norm), "samples_per_s": speed}
        log.write(record)
        bar.update(loss=loss_sum, lr=lr, speed=speed)

        if validation is not None and (state.step % eval_every == 0 or state.step == total_steps):
            metrics = evaluate(model, validation, batch_size=loop.eval_batch_size, pad_id=pad_id,
                               loss_fn=loss_fn, autocast=autocast, device=accelerator.device)
            model.train()
            state.stopped_early = _update_best(state, metrics[loop.metric], loop, accelerator.unwrap_model(model))
            state.history.append({"step": state.step, **metrics})
            log.write({"step": state.step, "eval": metrics})
            for listener in _EVAL_LISTENERS.get():
                listener(state.history[-1])
        state.seconds = state.resumed_seconds + time.perf_counter() - run_started
        if loop.checkpoint_dir is not None and accelerator.is_main_process and (
            state.step % loop.checkpoint_every == 0 or state.step == total_steps or state.stopped_early
        ):
            save_checkpoint(loop.checkpoint_dir, accelerator.unwrap_model(model), optimizer, state, run_meta)

    bar.close()
    log.close()
    model = accelerator.unwrap_model(model).eval()
    if state.best_weights is not None:
        model.load_state_dict(state.best_weights)
    return state


def predict_logits(
    model: torch.nn.Module,
    ids: Sequence[Sequence[int]],
    *,
    batch_size: int,
    pad_id: int,
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """float32 logits `(n, classes)` in input order, with `model` in eval mode (then back to the mode it was in)."""

    def logits(**batch: torch.Tensor) -> torch.Tensor:
        with autocast():
            return model(**batch)

    was_training = model.training
    model.eval()
    try:
        return batched_inference(logits, ids, batch_size=batch_size, pad_id=pad_id, device=device)
    finally:
        model.train(was_training)


def label_tensor(labels: np.ndarray) -> torch.Tensor:
    """Class indices as long; a multi-label 0/1 matrix as float (the targets of binary cross-entropy)."""
    return torch.as_tensor(labels, dtype=torch.long if labels.ndim == 1 else torch.float32)


def evaluate(model, data: Encoded, *, batch_size: int, pad_id: int, loss_fn: LossFn, autocast, device) -> dict:
    """Accuracy, macro-F1 and loss on `data` (the same loss as training, class weights included); for multi-label
    data, subset accuracy and macro-F1 over labels, each label predicted where its logit is positive (p ≥ 0.5).
    Windows of long texts are scored per text (`Encoded.texts`)."""
    logits = predict_logits(model, data.ids, batch_size=batch_size, pad_id=pad_id, autocast=autocast, device=device)
    labels = data.labels
    if data.texts is not None:
        logits = data.texts.aggregate(logits, data.aggregation)
        labels = labels[np.unique(data.texts.doc, return_index=True)[1]]  # a text's label is on each of its windows
    predicted = logits.argmax(axis=1) if labels.ndim == 1 else (logits > 0).astype(np.uint8)
    loss = loss_fn(torch.from_numpy(logits), label_tensor(labels)).item()
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1_macro": float(f1_score(labels, predicted, average="macro", zero_division=0)),
        "loss": float(loss),
    }


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' is bf16 where the hardware computes in bf16 natively (recent GPUs; CPUs with AVX512-BF16/AMX)."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    return "fp32"


def precision_context(precision: str, device: torch.device) -> Callable[[], contextlib.AbstractContextManager]:
    """A factory of autocast contexts: bf16 matmuls with fp32 weights, or nothing."""
    if resolve_precision(precision, device) == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def training_attention(device: torch.device, length: int) -> contextlib.AbstractContextManager:
    """The attention kernel to train with: on CPU, plain matmuls for batches up to 128 tokens.

    Without dropout PyTorch picks its flash-attention kernel on CPU, whose backward is the slower one
    for short sequences (MiniLM, batch 32, measured here: 2.5x slower at 16 tokens, 1.7x at 128; 1.4x
    faster at 256). Inference keeps PyTorch's choice: there the flash forward is as fast or faster.
    """
    if device.type != "cpu" or length > 128:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel(SDPBackend.MATH)


def _update_best(state: TrainState, score: float, loop: LoopConfig, model: torch.nn.Module) -> bool:
    """Keep the best weights (on the CPU); return True when patience has run out."""
    better = state.best_score is None or (score > state.best_score if METRICS[loop.metric] == "max" else score < state.best_score)
    if better:
        state.best_score, state.best_step, state.evals_without_improvement = score, state.step, 0
        state.best_weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        return False
    state.evals_without_improvement += 1
    return loop.patience is not None and state.evals_without_improvement >= loop.patience


def _check_all_processes_joined(num_processes: int) -> None:
    """A launcher started several processes but Accelerate sees one: each would train alone on every batch."""
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > num_processes:
        raise ConfigError(f"launched on {launched} processes but Accelerate runs {num_processes}: without GPUs set "
                          "ACCELERATE_USE_CPU=1 (or use `accelerate launch --cpu`) so they train together over gloo.")


def _plain(meta: dict) -> dict:
    """`meta` as JSON would give it back (tuples as lists, paths as strings): plain values that load with
    `weights_only=True` and compare equal after a save and load."""
    return json.loads(json.dumps(meta, default=str))


_ABSENT = object()
_FINGERPRINTS = ("training_data", "validation_data")


def _check_same_run(saved: dict, current: dict, directory) -> None:
    """Refuse a checkpoint of another run, naming every field that differs so the user can put it back."""
    saved, current = _flatten(saved), _flatten(current)
    differ = sorted(key for key in saved.keys() | current.keys() if saved.get(key, _ABSENT) != current.get(key, _ABSENT))
    if differ:
        details = "; ".join(f"{key}: {_show(key, saved.get(key, _ABSENT))} in the checkpoint, "
                            f"{_show(key, current.get(key, _ABSENT))} now" for key in differ)
        raise ConfigError(
            f"the checkpoint in {directory} belongs to a different run ({details}); resume with the same data "
            "and settings, or pass another checkpoint_dir to start afresh."
        )


def _flatten(meta: dict, prefix: str = "") -> dict:
    """{"optim": {"lr": 1e-4}} → {"optim.lr": 1e-4}: so an error can name the one setting that changed."""
    flat = {}
    for key, value in meta.items():
        if isinstance(value, dict) and value:
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _show(key: str, value) -> str:
    if value is _ABSENT:
        return "absent"
    if key in _FINGERPRINTS and value is not None:  # the token ids and labels, hashed: their start tells two apart
        return f"sha256 {value[:12]}…"
    return repr(value)


class _JsonLines:
    """Step metrics, one JSON object per line, appended and flushed so a crash loses nothing written."""

    def __init__(self, path: str | Path | None) -> None:
        self._file = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        if self._file is not None:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class _progress_bar:
    """A Rich progress bar showing loss, lr and samples/s; does nothing when disabled."""

    def __init__(self, total: int, completed: int, enabled: bool) -> None:
        self._progress = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("Fine-tuning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("loss {task.fields[loss]:.4f}  lr {task.fields[lr]:.2e}  {task.fields[speed]:.1f} samples/s"),
            )
            self._task = self._progress.add_task("train", total=total, completed=completed, loss=0.0, lr=0.0, speed=0.0)
            self._progress.start()

    def update(self, **fields) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, **fields)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
