"""The network: per-token linear embedding -> ``nn.TransformerEncoder`` -> linear head.

No positional encoding is added: every token (a SNP in the paper profile, a window of adjacent
markers in the fast profile) has its own embedding weights, so its identity is positional.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .dropout import MaskDropout


class TokenEmbedding(nn.Module):
    """Each token gets its own linear map from its markers to ``embed_dim``.

    Token ``k`` with markers ``x_k`` (``width`` values, zero-padded) is embedded as
    ``x_k @ W_k + b_k`` with ``W_k`` of shape ``(width, embed_dim)``. With ``width == 1`` this is
    the paper's per-position embedding ``x_j * W_j + b_j``. Genotypes are centred by the training
    marker means (``center``) before embedding; padded slots read a constant zero column.
    """

    def __init__(self, index: np.ndarray, embed_dim: int) -> None:
        super().__init__()
        index = np.asarray(index, dtype=np.int64)
        self.n_markers = int(index.max()) + 1
        self.n_tokens, self.width = index.shape
        flat = np.where(index < 0, self.n_markers, index).reshape(-1)  # pad -> zero column
        self.register_buffer("index", torch.as_tensor(flat), persistent=False)
        self.register_buffer("center", torch.zeros(self.n_markers))
        self.weight = nn.Parameter(torch.empty(self.n_tokens, self.width, embed_dim))
        self.bias = nn.Parameter(torch.zeros(self.n_tokens, embed_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Xavier-uniform per token: fan_in = markers in the window, fan_out = embed_dim
        bound = math.sqrt(6.0 / (self.width + self.weight.shape[-1]))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, drop: nn.Module | None = None) -> torch.Tensor:
        x = x - self.center
        if drop is not None:
            x = drop(x)
        x = torch.cat([x, x.new_zeros(x.shape[0], 1)], dim=1)
        # index_select copies the same values as x[:, index] at a fifth of the CPU time
        g = x.index_select(1, self.index).view(x.shape[0], self.n_tokens, self.width)
        return torch.einsum("btw,twd->btd", g, self.weight) + self.bias


class GenomicTransformer(nn.Module):
    """Encoder-only transformer for (multi-)trait regression on marker genotypes.

    ``pool="mean"`` averages the encoder outputs over tokens before the head; ``"flatten"``
    concatenates them (one head weight per token and feature, as in the paper's diagram).
    """

    def __init__(self, index: np.ndarray, n_outputs: int, embed_dim: int = 32, n_heads: int = 4,
                 ff_dim: int = 64, n_layers: int = 2, dropout: float = 0.1,
                 pool: str = "mean", activation: str = "relu",
                 attn_dropout: float | None = None, norm_first: bool = False,
                 input_dropout: float = 0.0) -> None:
        super().__init__()
        if embed_dim % n_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by n_heads ({n_heads})")
        if pool not in ("mean", "flatten"):
            raise ValueError(f"pool must be 'mean' or 'flatten', got {pool!r}")
        self.embed = TokenEmbedding(index, embed_dim)
        self.input_dropout = MaskDropout(input_dropout)  # on centred genotypes, before embedding
        layer = nn.TransformerEncoderLayer(embed_dim, n_heads, ff_dim, dropout,
                                           activation=activation, batch_first=True,
                                           norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        for lyr in self.encoder.layers:  # nn.Dropout's masks, drawn faster (dropout.py)
            lyr.dropout, lyr.dropout1, lyr.dropout2 = (MaskDropout(dropout) for _ in range(3))
            if attn_dropout is not None:  # dropout on the attention weights (default: = dropout)
                lyr.self_attn.dropout = float(attn_dropout)
        self.dropout = MaskDropout(dropout)
        self.pool = pool
        head_in = embed_dim * (self.embed.n_tokens if pool == "flatten" else 1)
        self.head = nn.Linear(head_in, n_outputs)
        for name, p in self.named_parameters():
            if p.dim() >= 2 and not name.startswith("embed."):
                nn.init.xavier_uniform_(p)

    @property
    def n_tokens(self) -> int:
        return self.embed.n_tokens

    @torch.no_grad()
    def warm_start_linear(self, coef: np.ndarray) -> None:
        """Add a linear model ``coef`` (markers x outputs, on centred genotypes) to the embedding.

        Token ``k``'s embedding weights get ``coef_k @ pinv(H_k).T`` added, where ``H_k`` is the
        head's weight acting on token ``k`` (``head.weight / n_tokens`` with mean pooling). Along
        the residual stream (embedding -> pooling -> head, which a pre-norm encoder passes
        through unchanged) the network then starts as that linear model plus what the attention
        and feed-forward sublayers and the random part of the embedding add.
        """
        coef = torch.as_tensor(np.asarray(coef), dtype=self.embed.weight.dtype)
        coef = torch.cat([coef, coef.new_zeros(1, coef.shape[1])])  # padded slots: zero
        per_token = coef[self.embed.index].view(self.embed.n_tokens, self.embed.width, -1)
        w = self.head.weight.detach()
        d = self.embed.weight.shape[-1]
        for k in range(self.embed.n_tokens):
            h_k = w / self.embed.n_tokens if self.pool == "mean" else w[:, k * d:(k + 1) * d]
            self.embed.weight[k] += per_token[k] @ torch.linalg.pinv(h_k).T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (batch, tokens, embed_dim): attention runs over the token axis
        h = self.encoder(self.embed(x, self.input_dropout))
        h = self.dropout(h)
        h = h.mean(dim=1) if self.pool == "mean" else h.flatten(1)
        return self.head(h)
