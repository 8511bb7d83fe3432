"""The files a saved model folder may hold beside the method's own, readable without importing torch.

`serve` and `predict` check for them before loading any model code, so a TF-IDF model is served without
PyTorch (hundreds of MB of memory) ever being imported.
"""

from __future__ import annotations

from pathlib import Path

EXPORT_DIR = "onnx"
EXPORT_FILE = "export.json"


def has_export(model_dir: str | Path) -> bool:
    return (Path(model_dir) / EXPORT_DIR / EXPORT_FILE).exists()
