"""Regenerate the small real-data slices the tests learn on: `python tests/data/make_slices.py`.

Each slice is a stratified sample (seed 0) of the catalog's fixed train and test splits, so slice-test
never overlaps slice-train. Needs the catalog datasets (fetched on first use, via pip).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tunetext.data import LabeledTexts, load_catalog, stratified_holdout

HERE = Path(__file__).parent
NEWSGROUPS = ("comp.graphics", "rec.sport.hockey", "sci.space", "talk.politics.mideast")

# name -> (train examples, test examples, characters kept per text, classes kept)
SLICES = {
    "trec6": (600, 300, None, None),
    "rt-snippets": (600, 300, None, None),
    "sms-spam": (400, 200, None, None),
    "election-tweets": (600, 300, None, None),
    "bbc-news": (250, 100, 1500, None),
    "20newsgroups": (400, 200, 1000, NEWSGROUPS),
    "reuters-corn-grain": (400, 150, 450, None),  # multi-label: sets written joined by "|", "" for none
}


def sample(data: LabeledTexts, size: int, max_chars: int | None, classes: tuple[str, ...] | None) -> pd.DataFrame:
    if classes is not None:
        data = data.subset([i for i, label in enumerate(data.labels) if label in classes])
    _, kept = stratified_holdout(data, size, seed=0)
    labels = ["|".join(label) if isinstance(label, tuple) else label for label in kept.labels]
    frame = pd.DataFrame({"text": [t[:max_chars] for t in kept.texts], "label": labels})
    return frame.sample(frac=1, random_state=0)  # shuffled: a head() of the file must not be a single class


def main() -> None:
    for name, (n_train, n_test, max_chars, classes) in SLICES.items():
        splits = load_catalog(name)
        for split, data, size in (("train", splits.train, n_train), ("test", splits.test, n_test)):
            path = HERE / f"{name}-{split}.csv"
            sample(data, size, max_chars, classes).to_csv(path, index=False, lineterminator="\n")
            print(f"{path.name}: {size} rows, {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
