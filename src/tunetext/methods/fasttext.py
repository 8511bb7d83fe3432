"""fastText (Joulin et al. 2017): averaged word and word-bigram embeddings into a softmax, the fast peer of TF-IDF.

Training runs in a fresh Python process. The `fasttext-numpy2` wheel reads heap memory it never initialised
while training (measured: the same seed gives another model after a `predict` or `load_model` in the same
process, and sometimes "Encountered NaN" at a small learning rate); a new process starts on zeroed pages, and
there the same seed gave the same model every time. Prediction from a loaded model was stable either way.

Multi-label data trains fastText's one-vs-all loss (`loss="ova"`): one sigmoid per label over the shared
text embedding, so `predict_proba` gives each label its own probability.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from tunetext.data.dataset import LabeledTexts, Text
from tunetext.errors import ConfigError
from tunetext.methods.base import Method
from tunetext.methods.registry import register
from tunetext.methods.tfidf import join_pair

MODEL_FILE = "fasttext.bin"
LABEL_PREFIX = "__label__"
NO_LABEL = "none"
"""The label an empty label set is written with: fastText skips a line without labels, and a text with none is
as much an example as any (most of Reuters Corn/Grain). Its sigmoid is trained and never read."""
_PUNCTUATION = re.compile(r"""([.!?,;:'"/()])""")  # not [ ]: join_pair's [SEP] stays one token
_TRAIN = "import json, sys, fasttext; a = json.loads(sys.argv[1]); fasttext.train_supervised(**a['args']).save_model(a['out'])"
"""What the training process runs: fastText's own trainer, then its own binary format (numbers, not code)."""


def _import_fasttext():
    try:
        import fasttext
    except ImportError:
        from tunetext.export.onnx import MissingExtraError

        raise MissingExtraError("the fasttext method needs fasttext-numpy2: pip install tunetext[fasttext]") from None
    return fasttext


def fasttext_line(text: Text) -> str:
    """One line of fastText input: it splits on whitespace only, so punctuation is split off and case folded
    (as fastText's own classification tutorial does), and a newline, which ends a fastText example, is a space."""
    return " ".join(_PUNCTUATION.sub(r" \1 ", join_pair(text).lower()).split())


@register("fasttext")
class FastText(Method):
    """fastText supervised classifier: a linear softmax (multi-label: one-vs-all sigmoids) over the mean of word and n-gram embeddings.

    Trains on one thread so a seed fixes the model (fastText's Hogwild threads race); on data this size that
    costs seconds (5-10 s for 4,000-5,000 short texts, 2 shared cores), growing linearly with the words read. Word n-grams
    are hashed into `bucket` rows: fastText's default of 2,000,000 makes an 800 MB model at dim 100, the
    default here about 5 MB.

    Parameters
    ----------
    lr
        Initial learning rate, decayed linearly to 0; too high diverges ("Encountered NaN").
    epoch
        Passes over the training texts.
    dim
        Size of the word and n-gram embeddings.
    word_ngrams
        Longest word n-gram embedded (2: words and bigrams).
    bucket
        Hash buckets shared by all word n-grams longer than 1; the model's size grows as bucket * dim.
    min_count
        Ignore words seen in fewer training texts than this.
    seed
        Seed of the training-file shuffle and of fastText's random initialisation.
    """

    search_space = {
        "lr": {"low": 0.05, "high": 1.0, "log": True},
        "epoch": {"low": 5, "high": 50},
        "word_ngrams": [1, 2, 3],
    }
    multilabel = True

    def __init__(self, *, lr: float = 0.2, epoch: int = 25, dim: int = 50, word_ngrams: int = 2,
                 bucket: int = 20_000, min_count: int = 1, seed: int = 0):
        self.lr = lr
        self.epoch = epoch
        self.dim = dim
        self.word_ngrams = word_ngrams
        self.bucket = bucket
        self.min_count = min_count
        self.seed = seed

    def _check_params(self) -> None:
        if not self.lr > 0:
            raise ConfigError(f"lr={self.lr!r} must be > 0 (0.1 to 1.0 is usual for fastText).")
        for name, low in {"epoch": 1, "dim": 1, "word_ngrams": 1, "bucket": 1, "min_count": 1}.items():
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ConfigError(f"{name}={value!r} must be an integer >= {low}.")

    def _label_tokens(self, labels: list[str] | np.ndarray) -> list[str]:
        """Each text's fastText labels: its class's index in classes_ (any label string survives), or in
        multi-label mode the index of every label it has (`NO_LABEL` for none)."""
        if self.multilabel_:
            return [" ".join(f"{LABEL_PREFIX}{j}" for j in np.flatnonzero(row)) or f"{LABEL_PREFIX}{NO_LABEL}"
                    for row in labels]
        index = {label: i for i, label in enumerate(self.classes_)}
        return [f"{LABEL_PREFIX}{index[label]}" for label in labels]

    def _fit(self, texts: list[Text], labels: list[str] | np.ndarray, validation: LabeledTexts | None) -> None:
        fasttext = _import_fasttext()
        tokens = self._label_tokens(labels)
        with tempfile.TemporaryDirectory(prefix="tunetext-fasttext-") as tmp:
            train, out = Path(tmp) / "train.txt", Path(tmp) / MODEL_FILE
            # fastText's SGD reads the file in order, so it is shuffled: on a file sorted by class (as catalog splits
            # can be) the last class wins (measured: 0.52 accuracy on bbc-news unshuffled).
            order = np.random.default_rng(self.seed).permutation(len(texts))
            train.write_text("".join(f"{tokens[i]} {fasttext_line(texts[i])}\n" for i in order), encoding="utf-8")
            args = {"input": str(train), "lr": self.lr, "epoch": self.epoch, "dim": self.dim,
                    "wordNgrams": self.word_ngrams, "bucket": self.bucket, "minCount": self.min_count,
                    "seed": self.seed, "thread": 1, "verbose": 0, "label": LABEL_PREFIX,
                    "loss": "ova" if self.multilabel_ else "softmax"}
            done = subprocess.run([sys.executable, "-c", _TRAIN, json.dumps({"args": args, "out": str(out)})],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
                if "NaN" in detail:
                    raise ConfigError(f"fastText diverged with lr={self.lr!r} ({detail}); lower lr (0.1 is fastText's own default).")
                raise RuntimeError(f"fastText training failed: {detail}")
            self.model_ = fasttext.load_model(str(out))

    def _predict_proba(self, texts: list[Text]) -> np.ndarray:
        # k=-1: every label, sorted by probability per text; scatter each back to its classes_ column (ova: each
        # label's own sigmoid), the NO_LABEL one into a last column that is dropped.
        labels, probs = self.model_.predict([fasttext_line(t) for t in texts], k=-1, threshold=0.0)
        none = len(self.classes_)
        columns = np.array([[none if label == LABEL_PREFIX + NO_LABEL else int(label[len(LABEL_PREFIX):])
                             for label in row] for row in labels])
        proba = np.zeros((len(texts), none + 1), dtype=np.float32)
        np.put_along_axis(proba, columns, np.asarray(probs, dtype=np.float32), axis=1)
        return proba[:, :none]

    def _save_state(self, directory: Path) -> None:
        self.model_.save_model(str(directory / MODEL_FILE))

    def _load_state(self, directory: Path) -> None:
        self.model_ = _import_fasttext().load_model(str(directory / MODEL_FILE))
