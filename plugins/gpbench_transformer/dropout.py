"""Dropout with the masks of ``nn.Dropout``, drawn in half the CPU time.

On the CPU, ``torch.dropout`` keeps an element where a float64 uniform draw from the global
generator falls below ``1 - p`` (``bernoulli_``, one draw per element, in element order), then
scales the kept ones by ``1 / (1 - p)``. ``bernoulli_`` spends ~18 ns per element; ``uniform_``
in float64 draws the same numbers in the same order at about half that, so comparing its draws
with ``1 - p`` gives the same mask, the same output and gradient to the bit, and leaves the
generator in the same state. Input dropout on ~12,000 markers x 32 rows was the largest single
cost of a ``fast``-profile training step (docs/notes/transformer-speed.md).
"""

from __future__ import annotations

import torch
from torch import nn


class MaskDropout(nn.Dropout):
    """``nn.Dropout`` with the same masks; on CPU tensors in training the mask comes from one
    float64 ``uniform_`` call (see the module docstring). Elsewhere (CUDA, evaluation,
    ``p`` of 0 or 1) it is ``nn.Dropout``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or x.device.type != "cpu" or not 0.0 < self.p < 1.0:
            return super().forward(x)
        # empty_like keeps x's strides, as torch.dropout's noise tensor does: the draws fill
        # memory in the same order when x is a permuted view (the attention output is)
        draws = torch.empty_like(x, dtype=torch.float64).uniform_()
        # as torch.dropout: a float mask of 0/1 divided by (1 - p), then one multiplication
        noise = (draws < 1.0 - self.p).to(x.dtype).div_(1.0 - self.p)
        if self.inplace:
            return x.mul_(noise)
        return x * noise
