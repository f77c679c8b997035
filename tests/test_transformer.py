"""Tests of the transformer plugin on small simulated data (CPU; GPU tests marked ``gpu``)."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

try:
    import gpbench_transformer
except ImportError:  # not yet in the editable install's package map
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
    import gpbench_transformer

from gpbench import ModelContext
from gpbench.plugins import load_registry
from gpbench_transformer import model as tmodel
from gpbench_transformer.dropout import MaskDropout
from gpbench_transformer.ema import WeightEma
from gpbench_transformer.model import GenomicTransformer
from gpbench_transformer.tokens import snp_index, window_index
from gpbench_transformer.train import TransformerRegressor, masked_mse, pcc, ridge_coefficients

TINY = {"profile": "fast", "window": 8, "embed_dim": 8, "n_heads": 2, "ff_dim": 16,
        "batch_size": 16, "max_epochs": 6, "patience": 6, "lr": 3e-3}


def _markers(p: int, n_chrom: int = 3) -> pd.DataFrame:
    chrom = [f"chr{(j * n_chrom) // p + 1:02d}" for j in range(p)]
    return pd.DataFrame({"chrom": chrom, "pos": np.arange(p) * 100 + 7},
                        index=[f"m{j}" for j in range(p)])


def _data(n: int = 80, p: int = 48, t: int = 1, seed: int = 0, nan_frac: float = 0.0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(n, p)).astype(np.int8)
    B = rng.normal(size=(p, t)) * (rng.random((p, t)) < 0.3)
    Y = (X - X.mean(0)) @ B + rng.normal(scale=0.5, size=(n, t)) + 10.0
    if nan_frac:
        Y[rng.random(Y.shape) < nan_frac] = np.nan
    return X, Y


def _fit(options=None, t=1, seed=0, nan_frac=0.0, valid=True, report=None, n=80, p=48):
    X, Y = _data(n=n, p=p, t=t, nan_frac=nan_frac)
    ctx = ModelContext(seed=seed, markers=_markers(p), n_threads=1, device="cpu", report=report)
    m = TransformerRegressor({**TINY, **(options or {})}, ctx, multi_trait=t > 1)
    cut = int(0.75 * n)
    m.fit(X[:cut], Y[:cut], valid=(X[cut:], Y[cut:]) if valid else None)
    return m, X, Y, cut


# --------------------------------------------------------------------------- registration


def test_registers_single_and_multi_trait_specs():
    reg = load_registry(extra=[("transformer", gpbench_transformer)], load_entrypoints=False)
    st, mt = reg.model("transformer"), reg.model("transformer-mt")
    assert not st.multi_trait and mt.multi_trait
    assert st.uses_validation and mt.uses_validation
    assert st.options["n_layers"] == 2 and st.options["profile"] == "auto"
    with pytest.raises(ValueError):
        st.build({"no_such_option": 1}, ModelContext(device="cpu"))
    optuna = pytest.importorskip("optuna")
    trial = optuna.trial.FixedTrial({"lr": 1e-3, "n_heads": 2, "ff_dim": 64, "embed_dim": 32,
                                     "dropout": 0.1})
    suggested = st.search_space(trial)
    assert set(suggested) == {"lr", "n_heads", "ff_dim", "embed_dim", "dropout"}
    assert set(suggested) <= set(st.options)


def test_auto_profile_is_fast_on_cpu():
    m = TransformerRegressor({}, ModelContext(device="cpu"))
    assert m.o["profile"] == "fast"
    assert m.o["window"] > 1


# --------------------------------------------------------------------------- shapes, info


def test_single_trait_shapes_and_fit_info():
    m, X, Y, _ = _fit()
    P = m.predict(X[:7])
    assert P.shape == (7, 1) and np.isfinite(P).all()
    info = m.fit_info
    json.dumps(info)  # JSON-serialisable
    hist = info["history"]
    assert set(hist) == {"epoch", "train_pcc", "valid_pcc", "train_mse", "valid_mse"}
    assert len(hist["epoch"]) == info["epochs_run"] <= TINY["max_epochs"]
    assert 1 <= info["best_epoch"] <= info["epochs_run"]
    assert info["profile"] == "fast" and info["device"] == "cpu"
    assert info["n_tokens"] == m.net.n_tokens and info["epoch_time_s"] > 0


def test_multi_trait_shapes_with_missing_targets():
    m, X, Y, cut = _fit(t=3, nan_frac=0.3)
    assert np.isnan(Y).any()
    P = m.predict(X[:5])
    assert P.shape == (5, 3) and np.isfinite(P).all()
    # standardisation from the training rows only, NaN ignored
    np.testing.assert_allclose(m.y_mean, np.nanmean(Y[:cut], axis=0))
    np.testing.assert_allclose(m.y_sd, np.nanstd(Y[:cut], axis=0))
    assert all(v is None or np.isfinite(v) for v in m.fit_info["history"]["valid_pcc"])


def test_predictions_in_original_units():
    m, X, Y, _ = _fit(options={"max_epochs": 15, "patience": 15})
    assert abs(m.predict(X).mean() - Y.mean()) < 1.0  # Y is centred at 10, not 0


# --------------------------------------------------------------------------- loss


def test_masked_loss_ignores_nan_targets():
    torch.manual_seed(0)
    net = GenomicTransformer(window_index(20, None, 5), 2, embed_dim=8, n_heads=2, ff_dim=8,
                             dropout=0.0)
    x = torch.randint(0, 2, (6, 20)).float()
    y = torch.randn(6, 2)
    y_nan = y.clone()
    y_nan[1, 0] = y_nan[4, 1] = float("nan")
    mask = ~torch.isnan(y_nan)

    def loss_and_grads(target, fn):
        net.zero_grad()
        loss = fn(net(x), target)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in net.parameters()]

    ref_loss, ref_grads = loss_and_grads(y, lambda p, t: ((p - t)[mask] ** 2).mean())
    loss, grads = loss_and_grads(y_nan, masked_mse)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, ref_loss)
    for g, r in zip(grads, ref_grads, strict=True):
        assert torch.isfinite(g).all()
        torch.testing.assert_close(g, r)
    # the value hidden behind a NaN does not matter
    y_other = y.clone()
    y_other[1, 0] = 1e6
    loss2, _ = loss_and_grads(torch.where(mask, y_other, y_nan), masked_mse)
    torch.testing.assert_close(loss2, loss)


# --------------------------------------------------------------------------- model


def test_eval_predictions_are_batch_independent():
    torch.manual_seed(0)
    net = GenomicTransformer(window_index(30, _markers(30), 4), 1, embed_dim=8, n_heads=2,
                             ff_dim=16, dropout=0.3).eval()
    x = torch.randint(0, 2, (9, 30)).float()
    with torch.no_grad():
        alone = net(x[:1])
        together = net(x)
        other = net(torch.cat([x[:1], 1 - x[1:]]))
    torch.testing.assert_close(alone[0], together[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(alone[0], other[0], rtol=1e-5, atol=1e-6)


def test_attention_runs_over_tokens_not_batch():
    net = GenomicTransformer(window_index(30, None, 5), 1, embed_dim=8, n_heads=2, ff_dim=8)
    assert all(layer.self_attn.batch_first for layer in net.encoder.layers)
    h = net.embed(torch.zeros(3, 30))
    assert h.shape == (3, 6, 8)  # (batch, tokens, embed_dim)


def test_window_embedding_is_per_window_linear():
    torch.manual_seed(0)
    index = window_index(10, None, 4)  # windows 4, 3, 3 (near-equal sizes)
    emb = tmodel.TokenEmbedding(index, 5)
    x = torch.randn(2, 10)
    out = emb(x)
    for k, cols in enumerate(index):
        cols = cols[cols >= 0]
        w = emb.weight[k, : len(cols)]
        torch.testing.assert_close(out[:, k], x[:, cols] @ w + emb.bias[k])


# --------------------------------------------------------------------------- same numbers, faster


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_mask_dropout_draws_the_masks_of_nn_dropout(p):
    """Same output, gradient and generator state as nn.Dropout, also on a permuted view (the
    attention output reaches dropout1 as one): the training weights stay those of before."""
    base = torch.randn(6, 5, 4)
    for x in (base, base.transpose(0, 1)):
        results = []
        for drop in (torch.nn.Dropout(p), MaskDropout(p)):
            xg = x.detach().clone().requires_grad_()  # clone keeps the permuted strides
            torch.manual_seed(7)
            y = drop(xg)
            y.backward(torch.arange(y.numel(), dtype=y.dtype).view_as(y))
            results.append((y.detach(), xg.grad, torch.rand(3)))
        for ours, theirs in zip(*results, strict=True):
            assert torch.equal(ours, theirs)
    assert torch.equal(MaskDropout(p).eval()(base), base)


def test_weight_ema_matches_torchs_averaged_model():
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    torch.manual_seed(0)
    net = GenomicTransformer(window_index(30, None, 5), 1, embed_dim=8, n_heads=2, ff_dim=8)
    ref = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    ema = WeightEma(net, 0.9)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(4):
        net(torch.randn(5, 30)).pow(2).mean().backward()
        opt.step()
        opt.zero_grad()
        ref.update_parameters(net)
        ema.update()
    theirs = ref.module.state_dict()
    for name, ours in ema.module.state_dict().items():
        assert torch.equal(ours, theirs[name]), name
    assert torch.equal(ema.module.embed.index, net.embed.index)
    assert not torch.equal(ema.module.head.weight, net.head.weight)  # averaged, not copied


# --------------------------------------------------------------------------- tokens


def test_windows_respect_chromosome_boundaries_and_positions():
    rng = np.random.default_rng(1)
    p = 57
    markers = _markers(p, n_chrom=4).sample(frac=1.0, random_state=3)  # shuffled columns
    markers["pos"] = rng.permutation(p) * 10
    index = window_index(p, markers, 5)
    chrom = markers["chrom"].to_numpy()
    pos = markers["pos"].to_numpy()
    real = index[index >= 0]
    assert sorted(real.tolist()) == list(range(p))  # every marker exactly once
    chrom_order = []
    for row in index:
        cols = row[row >= 0]
        assert 1 <= len(cols) <= 5
        assert len(set(chrom[cols])) == 1, "a window straddles a chromosome boundary"
        assert np.all(np.diff(pos[cols]) > 0), "markers in a window are not ordered by pos"
        chrom_order.append(chrom[cols[0]])
    assert chrom_order == sorted(chrom_order)
    # windows per chromosome: ceil(n_c / 5)
    counts = pd.Series(chrom).value_counts()
    assert len(index) == sum(-(-c // 5) for c in counts)


def test_windows_without_marker_map_are_consecutive():
    index = window_index(23, None, 5)
    assert index.shape == (5, 5)
    flat = index[index >= 0]
    assert flat.tolist() == list(range(23))
    assert snp_index(4).tolist() == [[0], [1], [2], [3]]


def test_natural_chromosome_order():
    markers = pd.DataFrame({"chrom": ["chr10", "chr2", "chr1"], "pos": [1, 1, 1]})
    index = window_index(3, markers, 2)
    assert index[:, 0].tolist() == [2, 1, 0]


# --------------------------------------------------------------------------- training


def test_best_epoch_weights_are_restored():
    states: list[dict] = []
    holder: dict = {}

    def report(step, value):
        states.append(copy.deepcopy(holder["m"].net.state_dict()))

    X, Y = _data()
    ctx = ModelContext(seed=0, markers=_markers(48), device="cpu", report=report)
    m = TransformerRegressor({**TINY, "max_epochs": 12, "patience": 12, "ema": 0.0,
                                     "calibrate": False, "n_models": 1}, ctx)
    holder["m"] = m
    # validation targets anti-correlated with the signal: the more it learns, the worse it gets
    m.fit(X[:60], Y[:60], valid=(X[60:], -Y[60:]))
    info = m.fit_info
    best, hist = info["best_epoch"], info["history"]["valid_pcc"]
    assert len(states) == info["epochs_run"] == 12
    assert best < info["epochs_run"], "test needs a run whose best epoch is not the last"
    assert hist[best - 1] == max(v for v in hist if v is not None)
    final = m.net.state_dict()
    for k in final:
        torch.testing.assert_close(final[k], states[best - 1][k], rtol=0, atol=0)
    assert any(not torch.equal(final[k], states[-1][k]) for k in final)
    # the restored weights give the best validation PCC again
    assert pcc(-Y[60:], m.predict(X[60:])) == pytest.approx(hist[best - 1], abs=1e-5)


def test_calibration_is_a_line_fitted_on_the_validation_rows():
    m, X, Y, cut = _fit(options={"calibrate": True, "n_models": 1})
    raw = m._predict_std(torch.from_numpy(X[cut:].astype(np.float32)))[:, 0]
    ys = (Y[cut:, 0] - m.y_mean[0]) / m.y_sd[0]
    b = np.cov(raw, ys)[0, 1] / np.var(raw, ddof=1)
    assert m.cal_b[0] == pytest.approx(np.clip(b, 0, 10))
    assert m.cal_a[0] == pytest.approx(ys.mean() - m.cal_b[0] * raw.mean())
    expected = (raw * m.cal_b[0] + m.cal_a[0]) * m.y_sd[0] + m.y_mean[0]
    np.testing.assert_allclose(m.predict(X[cut:])[:, 0], expected, rtol=1e-10)


def test_early_stopping_bites():
    m, *_ = _fit(options={"lr": 3e-2, "max_epochs": 50, "patience": 3})
    info = m.fit_info
    assert info["epochs_run"] == info["best_epoch"] + 3 < 50


def test_same_seed_same_predictions_on_cpu():
    m1, X, *_ = _fit(seed=5)
    m2, *_ = _fit(seed=5)
    m3, *_ = _fit(seed=6)
    np.testing.assert_array_equal(m1.predict(X), m2.predict(X))
    assert m1.fit_info["history"] == m2.fit_info["history"]
    assert not np.array_equal(m1.predict(X), m3.predict(X))


def test_training_sees_only_the_rows_given_to_fit(monkeypatch):
    seen: list[np.ndarray] = []
    forward = GenomicTransformer.forward

    def spy(self, x):
        seen.append(x.detach().cpu().numpy().copy())
        return forward(self, x)

    monkeypatch.setattr(GenomicTransformer, "forward", spy)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(90, 48)).astype(np.int8)  # rows are distinct
    Y = rng.normal(size=(90, 1))
    train, valid, held_out = np.arange(0, 50), np.arange(50, 70), np.arange(70, 90)
    m = TransformerRegressor(TINY, ModelContext(seed=0, markers=_markers(48), device="cpu"))
    m.fit(X[train], Y[train], valid=(X[valid], Y[valid]))
    rows = {r.tobytes() for r in np.concatenate(seen).astype(np.int8)}
    allowed = {r.tobytes() for r in X[np.concatenate([train, valid])]}
    assert rows <= allowed
    assert not rows & {r.tobytes() for r in X[held_out]}
    np.testing.assert_allclose(m.net.embed.center.numpy(), X[train].mean(0), rtol=1e-6)

    # without a validation split, one is carved from the training rows alone
    seen.clear()
    m = TransformerRegressor(TINY, ModelContext(seed=0, markers=_markers(48), device="cpu"))
    m.fit(X[train], Y[train])
    rows = {r.tobytes() for r in np.concatenate(seen).astype(np.int8)}
    assert rows <= {r.tobytes() for r in X[train]}


def test_report_is_called_and_pruning_propagates():
    calls = []

    class Pruned(Exception):
        pass

    def report(step, value):
        calls.append((step, value))
        if step == 2:
            raise Pruned

    with pytest.raises(Pruned):
        _fit(report=report)
    assert [s for s, _ in calls] == [1, 2]
    assert torch.are_deterministic_algorithms_enabled() is False  # global state restored


def test_learns_a_simple_signal():
    m, X, Y, cut = _fit(options={"max_epochs": 40, "patience": 40}, n=160)
    assert pcc(Y[cut:], m.predict(X[cut:])) > 0.5


# --------------------------------------------------------------------------- paper profile


def test_paper_profile_forward_backward_tiny_on_cpu():
    m = TransformerRegressor({"profile": "paper", "embed_dim": 8, "n_heads": 2, "ff_dim": 16},
                             ModelContext(device="cpu"))
    assert m.o["batch_size"] == 8 and m.o["max_epochs"] == 1000 and m.o["patience"] == 35
    p = 40
    torch.manual_seed(0)
    net = GenomicTransformer(snp_index(p), 2, embed_dim=8, n_heads=2, ff_dim=16,
                             pool=m.o["pool"])
    assert net.n_tokens == p  # one token per SNP
    x = torch.randint(0, 2, (8, p)).float()
    out = net(x)
    assert out.shape == (8, 2)
    out.pow(2).mean().backward()
    assert all(torch.isfinite(q.grad).all() for q in net.parameters() if q.grad is not None)
    assert net.embed.weight.grad.abs().sum() > 0

    X, Y = _data(n=40, p=p)
    m = TransformerRegressor({"profile": "paper", "embed_dim": 8, "n_heads": 2, "ff_dim": 16,
                              "max_epochs": 2}, ModelContext(device="cpu"))
    m.fit(X[:30], Y[:30], valid=(X[30:], Y[30:]))
    assert m.fit_info["n_tokens"] == p and m.fit_info["profile"] == "paper"
    assert m.predict(X).shape == (40, 1)


# --------------------------------------------------------------------------- GPU

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="CUDA not available: the paper profile needs a GPU")


@pytest.mark.gpu
@needs_cuda
def test_paper_profile_full_size_bf16_on_gpu():
    p = 11_623
    dev = torch.device("cuda")
    m = TransformerRegressor({"profile": "auto"}, ModelContext(device="cuda"))
    assert m.o["profile"] == "paper"
    torch.manual_seed(0)
    net = GenomicTransformer(snp_index(p), 1, embed_dim=m.o["embed_dim"],
                             n_heads=m.o["n_heads"], ff_dim=m.o["ff_dim"],
                             dropout=m.o["dropout"], pool=m.o["pool"]).to(dev)
    x = torch.randint(0, 2, (8, p), device=dev).float()
    torch.cuda.reset_peak_memory_stats()
    with m._autocast(), m._attention_kernels():
        out = net(x)
    loss = out.float().pow(2).mean()
    loss.backward()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(f"paper profile, {p} tokens, batch 8, bf16: peak GPU memory {peak:.2f} GiB")
    assert out.shape == (8, 1) and torch.isfinite(loss)
    assert all(torch.isfinite(q.grad).all() for q in net.parameters() if q.grad is not None)


@pytest.mark.gpu
@needs_cuda
def test_short_training_run_on_gpu():
    X, Y = _data(n=120, p=2000, t=2)
    m = TransformerRegressor({"profile": "paper", "max_epochs": 3}, ModelContext(device="cuda"),
                             multi_trait=True)
    m.fit(X[:90], Y[:90], valid=(X[90:], Y[90:]))
    assert m.fit_info["device"].startswith("cuda") and m.fit_info["epochs_run"] == 3
    P = m.predict(X[90:])
    assert P.shape == (30, 2) and np.isfinite(P).all()
    print(f"GPU epoch time {m.fit_info['epoch_time_s']:.2f} s")


# --------------------------------------------------------------------------- ensemble, warm start


def test_ensemble_averages_members_and_calibrates_the_average():
    calls = []
    m, X, Y, cut = _fit(options={"n_models": 2, "calibrate": True},
                        report=lambda step, value: calls.append(step))
    assert len(m.nets) == 2 and m.net is m.nets[0]
    info = m.fit_info
    assert len(info["members"]) == 2 and "ensemble_valid_pcc" in info
    json.dumps(info)
    assert calls == list(range(1, info["epochs_run"] + 1))  # only the first member reports
    Xt = torch.from_numpy(X.astype(np.float32))
    raw = [m._predict_std(Xt, net)[:, 0] for net in m.nets]
    assert not np.allclose(raw[0], raw[1])  # members differ by seed
    expected = ((raw[0] + raw[1]) / 2 * m.cal_b[0] + m.cal_a[0]) * m.y_sd[0] + m.y_mean[0]
    np.testing.assert_allclose(m.predict(X)[:, 0], expected, rtol=1e-6)
    # calibration line fitted on the averaged validation predictions
    pv = (raw[0][cut:] + raw[1][cut:]) / 2
    ys = (Y[cut:, 0] - m.y_mean[0]) / m.y_sd[0]
    b = np.cov(pv, ys)[0, 1] / np.var(pv, ddof=1)
    assert m.cal_b[0] == pytest.approx(np.clip(b, 0, 10), rel=1e-5)


def test_ridge_coefficients_match_closed_form():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 50))
    Xc = X - X.mean(0)
    y = Xc[:, :3].sum(1) + rng.normal(size=30)
    Y = np.stack([y, np.where(np.arange(30) % 4 == 0, np.nan, y)], axis=1)
    B = ridge_coefficients(Xc, Y)
    assert B.shape == (50, 2) and np.isfinite(B).all()
    # a ridge solution: beta = Xc' alpha for some penalty; prediction correlates with y
    assert np.corrcoef(Xc @ B[:, 0], y)[0, 1] > 0.9
    lam_ok = []
    for lam in np.linalg.eigvalsh(Xc @ Xc.T).mean() * np.logspace(-3, 2, 25):
        ref = Xc.T @ np.linalg.solve(Xc @ Xc.T + lam * np.eye(30), y - y.mean())
        lam_ok.append(np.allclose(B[:, 0], ref, atol=1e-8))
    assert sum(lam_ok) == 1


@pytest.mark.parametrize("pool", ["mean", "flatten"])
def test_warm_start_puts_the_linear_model_on_the_residual_path(pool):
    torch.manual_seed(0)
    index = window_index(20, None, 5)
    net = GenomicTransformer(index, 2, embed_dim=8, n_heads=2, ff_dim=8, pool=pool)
    coef = np.random.default_rng(0).normal(size=(20, 2))
    x = torch.randn(6, 20)

    def linear_path(n):
        e = n.embed(x)
        h = e.mean(1) if pool == "mean" else e.flatten(1)
        return n.head(h)

    before = linear_path(net).detach()
    net.warm_start_linear(coef)
    gain = linear_path(net).detach() - before
    torch.testing.assert_close(gain, x @ torch.as_tensor(coef, dtype=torch.float32),
                               rtol=1e-4, atol=1e-4)


def test_ridge_init_trains():
    m, X, Y, cut = _fit(options={"init": "ridge", "lr": 3e-2, "max_epochs": 8,
                                 "patience": 8}, n=160)
    assert 1 <= m.fit_info["best_epoch"] <= m.fit_info["epochs_run"]
    assert pcc(Y[cut:], m.predict(X[cut:])) > 0.5
    with pytest.raises(ValueError):
        TransformerRegressor({"init": "bogus"}, ModelContext(device="cpu"))


@pytest.mark.parametrize("keep", [True, False])
def test_keep_initial_restores_the_initial_weights_when_no_epoch_beats_them(monkeypatch, keep):
    from gpbench_transformer import train

    def zero_the_weights(self, net, Xt, Yt, opt, avg, gen):  # every epoch: constant output,
        with torch.no_grad():                              # so its validation PCC is undefined
            for p in net.parameters():
                p.zero_()
        return torch.zeros_like(Yt)

    monkeypatch.setattr(train.TransformerRegressor, "_epoch", zero_the_weights)
    m, X, Y, cut = _fit(options={"keep_initial": keep, "max_epochs": 3, "patience": 3,
                                 "ema": 0.0, "calibrate": False, "n_models": 1})
    pred = np.asarray(m.predict(X[cut:])).ravel()
    if keep:  # epoch 0 (the initial weights) is the best: restored, not the zeroed net
        assert m.fit_info["best_epoch"] == 0 and np.ptp(pred) > 1e-3
    else:  # without it, the first epoch is kept whatever its score
        assert m.fit_info["best_epoch"] == 1 and np.ptp(pred) < 1e-9


def test_refit_trains_on_the_whole_training_fold_for_the_chosen_epochs(monkeypatch):
    from gpbench_transformer import train

    seen = []
    original = train.TransformerRegressor._train_epochs

    def spy(self, net, X, Ys, n_epochs, gen):
        seen.append((len(X), n_epochs))
        return original(self, net, X, Ys, n_epochs, gen)

    monkeypatch.setattr(train.TransformerRegressor, "_train_epochs", spy)
    plain, X, Y, cut = _fit()
    assert plain.fit_info["refit"] is False and seen == []
    assert plain.fit_info["n_fit"] == cut and plain.fit_info["n_valid"] == len(X) - cut
    m, X, Y, cut = _fit({"refit": True, "n_models": 2})
    assert seen == [(len(X), e) for e in m.fit_info["refit_epochs"]]
    assert m.fit_info["refit_epochs"] == [mb["best_epoch"] for mb in m.fit_info["members"]]
    assert m.fit_info["n_fit"] == len(X) and len(m.nets) == 2
    pred = m.predict(X)
    assert pred.shape == (len(X), 1) and np.all(np.isfinite(pred))
    assert not np.allclose(pred, plain.predict(X))


def test_refit_is_off_by_default():
    from gpbench_transformer.train import OPTIONS

    assert OPTIONS["refit"] is False
