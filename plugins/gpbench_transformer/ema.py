"""Exponential moving average (EMA) of a network's weights, updated after every optimiser step.

It computes what ``torch.optim.swa_utils.AveragedModel(net, use_buffers=True,
multi_avg_fn=get_ema_multi_avg_fn(decay))`` computes, to the bit: a copy of the network whose
floating-point parameters and buffers are set to the network's at the first update and moved by
``lerp_(current, 1 - decay)`` at every later one. It pairs the tensors once instead of walking
the module tree at every step, and leaves the integer token index alone (AveragedModel
recomputed it in float and cast it back, unchanged).
"""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn


class WeightEma:
    """The EMA of ``net``'s weights; ``module`` is the averaged copy (evaluate and save it)."""

    def __init__(self, net: nn.Module, decay: float) -> None:
        self.module = copy.deepcopy(net)
        self.weight = 1.0 - float(decay)  # as get_ema_multi_avg_fn: lerp towards the net
        pairs = zip(itertools.chain(self.module.parameters(), self.module.buffers()),
                    itertools.chain(net.parameters(), net.buffers()), strict=True)
        self._pairs = [(avg.detach(), cur.detach()) for avg, cur in pairs
                       if avg.is_floating_point()]
        self.n_updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """Fold the network's current weights into the average (the first call copies them)."""
        if self.n_updates == 0:
            for avg, cur in self._pairs:
                avg.copy_(cur)
        else:
            for avg, cur in self._pairs:
                avg.lerp_(cur, self.weight)
        self.n_updates += 1
