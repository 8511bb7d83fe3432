"""Which weights train, at what lr and with what decay; and the AdamW that steps them.

Every parameter gets a depth: embeddings 0, transformer layer i at i + 1, everything above (pooler,
classifier) at L + 1. Freezing and layer-wise lr decay are both rules on that depth.
"""

from __future__ import annotations

import re

import torch

from tunetext.errors import ConfigError
from tunetext.training.config import OptimConfig

_LAYER = re.compile(r"\.layer\.(\d+)\.")


def parameter_depth(name: str, num_layers: int) -> int:
    """0 for embeddings, i + 1 for transformer layer i, `num_layers + 1` for the head."""
    if "embeddings." in name:
        return 0
    match = _LAYER.search(name)
    return int(match.group(1)) + 1 if match else num_layers + 1


def frozen_depth(config: OptimConfig, num_layers: int) -> int:
    """Parameters at depth below this are frozen (0: nothing frozen)."""
    if config.freeze_layers == "all":
        return num_layers + 1
    layers = num_layers // 2 if config.freeze_layers == "half" else config.freeze_layers
    if layers > num_layers:
        raise ConfigError(f"freeze_layers={layers} but the encoder has only {num_layers} layers; "
                          "pass at most that, or 'all' to train the head only.")
    return layers + 1 if layers or config.freeze_embeddings else 0


def param_groups(model: torch.nn.Module, config: OptimConfig, num_layers: int) -> list[dict]:
    """Freeze what `config` says; group the rest by (lr scale, weight decay).

    Biases and LayerNorm weights (every 1-d tensor) get no weight decay: shrinking them towards 0 only
    hurts. Each group carries `lr_scale`, multiplied into the scheduled lr at every step.
    """
    below = frozen_depth(config, num_layers)
    groups: dict[tuple[float, float], dict] = {}
    for name, param in model.named_parameters():
        depth = parameter_depth(name, num_layers)
        if depth < below:
            param.requires_grad_(False)
            continue
        scale = config.layer_lr_decay ** (num_layers + 1 - depth)
        decay = config.weight_decay if param.ndim >= 2 else 0.0
        group = groups.setdefault((scale, decay), {"params": [], "lr_scale": scale, "weight_decay": decay})
        group["params"].append(param)
    return list(groups.values())


def build_optimizer(model: torch.nn.Module, config: OptimConfig, num_layers: int) -> torch.optim.AdamW:
    """AdamW over the trainable parameters; the fused kernel where PyTorch has one (one pass per step)."""
    groups = param_groups(model, config, num_layers)
    try:
        return torch.optim.AdamW(groups, lr=config.lr, fused=True)
    except RuntimeError:
        return torch.optim.AdamW(groups, lr=config.lr, foreach=True)
