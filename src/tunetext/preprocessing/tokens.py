"""Domain tokens: whole-token ids for placeholders and frequent emoji, initialised from the words they stand for.

A new token's embedding starts at the mean of the sub-word embeddings of its description ("<url>" →
"<", "ur", "##l", ">"; "😂" → "face with tears of joy"), so fine-tuning starts from something the encoder
already reads instead of a random vector.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import torch


def domain_tokens(texts: Sequence[str], placeholders: Sequence[str] = (), *, min_count: int = 5) -> dict[str, str]:
    """{token: description}: the placeholders, plus the emoji seen at least `min_count` times in `texts`."""
    from tunetext.preprocessing.tweet import emoji_name, social_extra

    emoji = social_extra("emoji")
    counts = Counter(found["emoji"] for text in texts for found in emoji.emoji_list(text))
    frequent = sorted(e for e, n in counts.items() if n >= min_count)
    return {**{token: token for token in placeholders}, **{e: emoji_name(e) for e in frequent}}


def add_domain_tokens(tokenizer, model, tokens: dict[str, str]) -> list[str]:
    """Add the tokens the tokenizer lacks, grow `model`'s embeddings, start each at its description's mean.

    Returns the tokens added (those already whole tokens are left alone).
    """
    vocab = tokenizer.get_vocab()
    new = [token for token in tokens if token not in vocab]
    if not new:
        return []
    pieces = [tokenizer(tokens[token], add_special_tokens=False)["input_ids"] or [tokenizer.unk_token_id]
              for token in new]  # tokenized before adding: the description's own sub-words
    tokenizer.add_tokens(new)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        for token, ids in zip(new, pieces):
            weight[tokenizer.convert_tokens_to_ids(token)] = weight[ids].mean(dim=0)
    return new
