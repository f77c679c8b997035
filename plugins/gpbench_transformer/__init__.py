"""Transformer models for genomic prediction (after "Transformers for Genomic Prediction").

Two models: ``transformer`` (one trait) and ``transformer-mt`` (all requested traits at once;
NaN targets masked out of the MSE, early stopping on the mean validation PCC over traits).
Both use the host's inner validation split for early stopping (``uses_validation``).

Architecture (``model.py``): per-token linear embedding (no positional encoding: each token has
its own weights) -> ``nn.TransformerEncoder`` (``batch_first=True``, so attention runs over the
token axis; ``n_layers`` layers of multi-head self-attention + feed-forward, Add & Norm, dropout)
-> dropout -> pooling -> linear head with one output per trait. Xavier-uniform init.
Training (``train.py``): targets standardised on the training rows, masked MSE, Adam (AdamW when
``weight_decay`` > 0), early stopping on validation PCC, best-epoch weights restored from a
``copy.deepcopy`` of the state dict; seeded and deterministic on CPU.

Profiles (``profile="auto"``: ``paper`` on CUDA, ``fast`` on CPU):

* ``paper`` -- the paper's model: one token per SNP (11,623 tokens on the yeast data, embedding
  ``x_j * W_j + b_j``), post-norm encoder, flattened token outputs into the head, Adam lr 1e-4,
  batch 8, up to 1000 epochs, patience 35; on CUDA bf16 autocast and the flash /
  memory-efficient SDPA kernels. Only practical on a GPU.
* ``fast`` -- CPU profile: windows of ``window`` adjacent markers inside a chromosome (ordered
  by ``markers.pos``; ``tokens.py``), each with its own linear map window -> ``embed_dim``; a
  seed ensemble of ``n_models`` networks (seeds ``seed``, ``seed + 1``, ...; each trained and
  early-stopped on its own, standardised predictions averaged, the calibration line fitted on
  the averaged validation predictions).

The option ``refit`` (off by default) retrains every member on the whole training fold
(training + validation rows) for the number of epochs early stopping chose for it; the
calibration line stays the one fitted on the validation rows before the refit.

How the ``fast`` defaults were chosen (experiments, figures): docs/notes/transformer-defaults.md.
"""

from __future__ import annotations

from typing import Any

from gpbench import ModelContext, ModelSpec, hookimpl

from .train import (
    OPTIONS,
    PROFILE_DEFAULTS,
    TransformerRegressor,
    resolve_device,
    resolve_options,
)


def effective_options(options: dict[str, Any], context: ModelContext) -> dict[str, Any]:
    """The options a fit will use: profile ``auto`` becomes ``paper`` on CUDA and ``fast`` on
    the CPU (``context.device`` is the resolved device kind), and every option left at None
    takes its profile's value."""
    import torch

    kind = str(context.device or "auto").lower()
    device = resolve_device(kind) if kind == "auto" else torch.device(kind.split(":")[0])
    return resolve_options(options, device)


def search_space(trial: Any) -> dict[str, Any]:
    """The paper's search: learning rate, heads, feed-forward width, embedding size, dropout."""
    return {
        "lr": trial.suggest_float("lr", 1e-5, 1e-2, log=True),
        "n_heads": trial.suggest_categorical("n_heads", [1, 2, 4, 8]),
        "ff_dim": trial.suggest_categorical("ff_dim", [32, 64, 128, 256]),
        "embed_dim": trial.suggest_categorical("embed_dim", [16, 32, 64]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
    }


def _single(options: dict[str, Any], context: ModelContext) -> TransformerRegressor:
    return TransformerRegressor(options, context, multi_trait=False)


def _multi(options: dict[str, Any], context: ModelContext) -> TransformerRegressor:
    return TransformerRegressor(options, context, multi_trait=True)


def _load(directory: Any, context: ModelContext) -> TransformerRegressor:
    return TransformerRegressor.load(directory, context)


@hookimpl
def register_models(register: Any) -> None:
    register(ModelSpec(
        name="transformer", factory=_single, options=dict(OPTIONS), multi_trait=False,
        uses_validation=True, search_space=search_space, accelerator=True, load=_load,
        resolve_options=effective_options, libraries=("torch",), family="neural",
        description="Encoder-only transformer (paper profile on CUDA, windowed fast on CPU)"))
    register(ModelSpec(
        name="transformer-mt", factory=_multi, options=dict(OPTIONS), multi_trait=True,
        uses_validation=True, search_space=search_space, accelerator=True, load=_load,
        resolve_options=effective_options, libraries=("torch",), family="neural",
        description="Multi-trait encoder-only transformer; masked MSE over measured traits"))


__all__ = ["OPTIONS", "PROFILE_DEFAULTS", "TransformerRegressor", "register_models",
           "search_space"]
