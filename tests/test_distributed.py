"""`tunetext train` on two CPU processes (torchrun → Accelerate → DDP over gloo) learns what one process learns."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def train(processes: int, model: str, data: Path, out: Path) -> dict:
    """The same `tunetext train` command on `processes` processes; returns metrics.json (written by rank 0 only)."""
    params = [f"model={model}", "epochs=6", "batch_size=16", "lr=0.003", "precision=fp32", "seed=0"]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "--module", "tunetext", "train", "--method", "finetune", "--data", str(data), "--out", str(out)]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1"}  # CPU processes join one gloo group (accelerate launch --cpu sets it)
    subprocess.run(command + [arg for p in params for arg in ("--param", p)], check=True, capture_output=True,
                   timeout=300, env=env)
    return json.loads((out / "metrics.json").read_text())


def test_two_processes_land_in_the_accuracy_band_of_one(tiny_bert_path, tmp_path):
    data = tmp_path / "trec6"  # the slices as given splits: all 300 test rows, validation carved from train
    data.mkdir()
    for split in ("train", "test"):
        shutil.copy(DATA / f"trec6-{split}.csv", data / f"{split}.csv")
    # Without dropout (whose masks differ with the process count) the two runs see the same global batches and
    # average the same gradients: they differ by float rounding and the uneven halves of an odd last batch.
    model = shutil.copytree(tiny_bert_path, tmp_path / "tiny-bert")
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps(config | {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}))
    one = train(1, str(model), data, tmp_path / "one")
    two = train(2, str(model), data, tmp_path / "two")
    assert one["accuracy"] > 0.4, one["accuracy"]  # it learned (6 classes, the largest has ~23%)
    assert abs(two["accuracy"] - one["accuracy"]) <= 0.03, (one["accuracy"], two["accuracy"])
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
