"""Checkpoints load with `weights_only=True`: they round-trip every RNG, and a crafted one is refused, not run."""

import pickle
import random

import numpy as np
import pytest
import torch

from tunetext.errors import ConfigError
from tunetext.training.checkpoint import CHECKPOINT_FILE, TrainState, load_checkpoint, save_checkpoint, set_rng_state

from test_finetune import tiny, toy_data


class Payload:
    """Unpickling this object creates `marker`: what a crafted checkpoint could do with any shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_checkpoint_round_trips_every_rng_and_the_state(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    state = TrainState(step=7, best_score=0.5, history=[{"step": 7, "accuracy": 0.5}], seconds=12.5)
    np.random.normal()  # numpy keeps a cached gaussian: it must come back too
    save_checkpoint(tmp_path, model, optimizer, state, {"examples": 10})
    expected = (torch.rand(3), np.random.normal(size=3), [random.random() for _ in range(3)])

    saved = load_checkpoint(tmp_path)
    set_rng_state(saved["rng"])
    assert torch.equal(torch.rand(3), expected[0]) and np.array_equal(np.random.normal(size=3), expected[1])
    assert [random.random() for _ in range(3)] == expected[2]
    assert TrainState(**saved["state"]) == state and saved["meta"] == {"examples": 10}


@pytest.mark.parametrize("write", [torch.save, lambda obj, path: path.write_bytes(pickle.dumps(obj, protocol=2))],
                         ids=["torch.save", "plain pickle"])
def test_a_crafted_checkpoint_is_refused_and_never_run(write, tiny_bert_path, tmp_path):
    marker = tmp_path / "pwned"
    write({"model": Payload(marker)}, tmp_path / CHECKPOINT_FILE)
    texts, labels = toy_data(16)
    with pytest.raises(ConfigError, match=rf"{CHECKPOINT_FILE} is not a checkpoint tunetext can resume from: it holds "
                                          r"Python objects other than tensors.*nothing in it was run.*checkpoint_dir"):
        tiny(tiny_bert_path, checkpoint_dir=str(tmp_path), resume=True).fit(texts, labels)
    assert not marker.exists()


def test_a_truncated_checkpoint_names_the_file_and_the_fix(tmp_path):
    model = torch.nn.Linear(3, 2)
    save_checkpoint(tmp_path, model, torch.optim.AdamW(model.parameters()), TrainState(), {})
    path = tmp_path / CHECKPOINT_FILE
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ConfigError, match=rf"{path} is not a checkpoint tunetext can resume from: it is truncated "
                                          r"or not a PyTorch file.*delete it, or pass another checkpoint_dir"):
        load_checkpoint(tmp_path)
