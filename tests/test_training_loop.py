"""The loop's guarantees: clipping bounds the update's gradient norm; a crashed run resumes exactly."""

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


def test_resume_after_a_crash_reaches_exactly_the_uninterrupted_result(tiny_bert_path, tmp_path, monkeypatch):
    texts, labels = toy_data(96)
    settings = dict(validation_fraction=0.25, eval_every=3, epochs=2, checkpoint_every=4)

    uninterrupted = tiny(tiny_bert_path, checkpoint_dir=str(tmp_path / "a"), **settings).fit(texts, labels)

    real_get_schedule = loop_module.get_schedule

    def crashing_schedule(name):
        schedule = real_get_schedule(name)

        def crash_at_step_11(step, warmup, total):
            if step == 11:  # three steps after the step-8 checkpoint: their work is lost, as in a kill -9
                raise Crash
            return schedule(step, warmup, total)

        return crash_at_step_11

    monkeypatch.setattr(loop_module, "get_schedule", crashing_schedule)
    with pytest.raises(Crash):
        tiny(tiny_bert_path, checkpoint_dir=str(tmp_path / "b"), **settings).fit(texts, labels)
    monkeypatch.setattr(loop_module, "get_schedule", real_get_schedule)

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
