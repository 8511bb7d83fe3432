"""The loop's guarantees: clipping bounds the update's gradient norm; a crashed run resumes exactly, and only itself."""

import time

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from tunetext.methods import make_method
from tunetext.training import loop as loop_module
from tunetext.training.batching import length_grouped_batches

from test_finetune import tiny, toy_data


def test_length_grouped_batches_cover_every_example_once_and_group_lengths():
    lengths = np.random.default_rng(0).integers(1, 100, size=1000)
    batches = length_grouped_batches(lengths, 16, seed=0, epoch=0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 10  # random batches of 16 would spread about 80
    again = length_grouped_batches(lengths, 16, seed=0, epoch=0)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    assert not np.array_equal(batches[0], length_grouped_batches(lengths, 16, seed=0, epoch=1)[0])


def test_a_last_batch_too_small_to_share_between_processes_waits_for_the_next_epoch():
    lengths = np.arange(1, 34)  # 33 examples, batches of 16: the last holds one row
    assert [len(b) for b in length_grouped_batches(lengths, 16, seed=0, epoch=0)].count(1) == 1
    two_processes = length_grouped_batches(lengths, 16, seed=0, epoch=0, min_size=2)
    assert sorted(len(b) for b in two_processes) == [16, 16]


def test_clipping_bounds_the_global_gradient_norm_at_every_step(tiny_bert_path):
    seen = []

    def record_norm(optimizer, args, kwargs):
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        seen.append(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item())

    handle = register_optimizer_step_pre_hook(record_norm)
    try:
        texts, labels = toy_data()
        method = tiny(tiny_bert_path, max_grad_norm=0.05, lr=1e-2, epochs=1)
        method.fit(texts, labels)
    finally:
        handle.remove()
    assert len(seen) == 8 and max(seen) <= 0.05 * (1 + 1e-4)


class Crash(Exception):
    pass


def crashing_at(crash_step: int):
    """A stand-in for `get_schedule` whose schedule raises at `crash_step`: the run dies there, as in a kill -9."""
    real_get_schedule = loop_module.get_schedule

    def get_schedule(name):
        schedule = real_get_schedule(name)

        def crashing(step, warmup, total):
            if step == crash_step:
                raise Crash
            return schedule(step, warmup, total)

        return crashing

    return get_schedule


def test_resume_after_a_crash_reaches_exactly_the_uninterrupted_result(tiny_bert_path, tmp_path, monkeypatch):
    texts, labels = toy_data(96)
    settings = dict(validation_fraction=0.25, eval_every=3, epochs=2, checkpoint_every=4)

    uninterrupted = tiny(tiny_bert_path, checkpoint_dir=str(tmp_path / "a"), **settings).fit(texts, labels)

    # Three steps after the step-8 checkpoint: their work is lost.
    monkeypatch.setattr(loop_module, "get_schedule", crashing_at(11))
    with pytest.raises(Crash):
        tiny(tiny_bert_path, checkpoint_dir=str(tmp_path / "b"), **settings).fit(texts, labels)
    monkeypatch.undo()

    resumed = tiny(tiny_bert_path, checkpoint_dir=str(tmp_path / "b"), resume=True, **settings).fit(texts, labels)
    assert resumed.history_ == uninterrupted.history_ and resumed.best_step_ == uninterrupted.best_step_
    for (name, a), b in zip(uninterrupted.model_.state_dict().items(), resumed.model_.state_dict().values()):
        assert torch.equal(a, b), name
    np.testing.assert_array_equal(resumed.predict_proba(texts), uninterrupted.predict_proba(texts))


def test_resume_refuses_a_checkpoint_from_another_run(tiny_bert_path, tmp_path):
    from tunetext.errors import ConfigError

    texts, labels = toy_data(32)
    tiny(tiny_bert_path, checkpoint_dir=str(tmp_path), epochs=1).fit(texts, labels)
    with pytest.raises(ConfigError, match="belongs to a different run"):
        tiny(tiny_bert_path, checkpoint_dir=str(tmp_path), resume=True, epochs=3).fit(texts, labels)


def test_gradient_accumulation_counts_optimizer_steps(tiny_bert_path):
    texts, labels = toy_data(64)
    method = make_method("finetune", model=tiny_bert_path, epochs=1, min_steps=0, batch_size=8, grad_accum_steps=2)
    assert method.fit(texts, labels).steps_ == 4


def test_min_steps_gives_a_tiny_training_set_enough_updates(tiny_bert_path):
    texts, labels = toy_data(16)
    method = make_method("finetune", model=tiny_bert_path, epochs=1, min_steps=5, batch_size=8).fit(texts, labels)
    assert method.steps_ == 5  # one epoch would be 2 steps


def test_resume_names_every_setting_and_the_data_that_differ(tiny_bert_path, tmp_path):
    from tunetext.errors import ConfigError

    texts, labels = toy_data(32)
    tiny(tiny_bert_path, checkpoint_dir=str(tmp_path), epochs=1).fit(texts, labels)

    def resume(texts=texts, labels=labels, **changed):
        return tiny(tiny_bert_path, checkpoint_dir=str(tmp_path), resume=True, epochs=1, **changed).fit(texts, labels)

    with pytest.raises(ConfigError, match=r"different run \(optim.lr: 0.001 in the checkpoint, 0.002 now\); resume with "
                                          r"the same data and settings, or pass another checkpoint_dir"):
        resume(lr=2e-3)
    edited = ["pos" if label == "neg" else "neg" for label in labels[:4]] + labels[4:]
    with pytest.raises(ConfigError, match=r"different run \(training_data: sha256 \w{12}… in the checkpoint, "
                                          r"sha256 \w{12}… now\)"):
        resume(labels=edited)
    with pytest.raises(ConfigError, match=r"loop.patience: 3 in the checkpoint, None now; method.label_smoothing: "
                                          r"0.0 in the checkpoint, 0.1 now; method.pooling: 'cls' in the checkpoint, 'mean' now"):
        resume(patience=None, label_smoothing=0.1, pooling="mean")
    # Where the checkpoint is written, logged or shown may change: that is the same run, resumed (already finished).
    assert resume(checkpoint_every=1, progress=False, log_path=str(tmp_path / "log.jsonl")).steps_ == 4


def test_train_seconds_after_a_resume_are_the_whole_runs(tiny_bert_path, tmp_path, monkeypatch):
    from tunetext.training.checkpoint import load_checkpoint

    texts, labels = toy_data(32)
    settings = dict(epochs=4, checkpoint_every=8, checkpoint_dir=str(tmp_path))  # 16 steps of 8 examples

    class SlowClock:  # the interrupted run's clock: every reading 100 s after the last, so its time stands out
        readings = 0

        def perf_counter(self):
            self.readings += 1
            return 100.0 * self.readings

    monkeypatch.setattr(loop_module, "get_schedule", crashing_at(11))
    monkeypatch.setattr(loop_module, "time", SlowClock())
    with pytest.raises(Crash):
        tiny(tiny_bert_path, **settings).fit(texts, labels)
    monkeypatch.undo()
    recorded = load_checkpoint(tmp_path)["state"]["seconds"]
    assert recorded >= 8 * 100  # the step-8 checkpoint holds its 8 steps' time, the 3 lost steps' not

    started = time.perf_counter()
    resumed = tiny(tiny_bert_path, resume=True, **settings).fit(texts, labels)
    this_fit = time.perf_counter() - started
    assert resumed.resumed_seconds_ == recorded
    assert recorded < resumed.train_seconds_ <= recorded + this_fit  # interrupted part + resumed part
    assert load_checkpoint(tmp_path)["state"]["seconds"] > recorded  # and a second resume would count both
