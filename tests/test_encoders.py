"""The one batched-inference loop: outputs in input order, whatever the batching did."""

import numpy as np
import pytest
import torch

from tunetext.encoders import batched_inference


def test_outputs_come_back_in_input_order_with_padding_masked():
    ids = [[5] * n for n in (3, 9, 1, 17, 4)]
    widths = []

    def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        widths.append(input_ids.shape[1])
        return torch.stack([attention_mask.sum(1), (input_ids * attention_mask).sum(1)], dim=1)

    out = batched_inference(forward, ids, batch_size=2, pad_id=0)
    assert out.dtype == np.float32 and out.tolist() == [[n, 5 * n] for n in (3, 9, 1, 17, 4)]
    assert widths == [24, 16, 8, 8]  # longest first; a batch holds texts of one padded width (a multiple of 8)


def test_batches_never_pad_short_texts_to_a_long_ones_width():
    lengths = [30] + [6] * 10 + [14] * 5
    ids = [[1] * n for n in lengths]
    shapes = []

    def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        shapes.append(tuple(input_ids.shape))
        return attention_mask.sum(1, keepdim=True)

    out = batched_inference(forward, ids, batch_size=4, pad_id=0)
    assert out[:, 0].tolist() == lengths
    assert shapes == [(1, 32), (4, 16), (1, 16), (4, 8), (4, 8), (2, 8)]
    assert sum(rows * width for rows, width in shapes) == 32 + 5 * 16 + 10 * 8  # no row padded past its own width


def test_no_texts_is_the_callers_case():
    with pytest.raises(ValueError, match="got no texts"):
        batched_inference(lambda **batch: batch["input_ids"], [], batch_size=4, pad_id=0)
