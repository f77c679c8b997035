"""Training: standardised targets, masked MSE, Adam(W), early stopping on validation PCC.

The model only ever sees the rows passed to ``fit`` (training rows, plus the validation rows for
early stopping); marker centring and target standardisation use the training rows alone.
"""

from __future__ import annotations

import contextlib
import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gpbench import ModelContext, read_model_json, write_model_json

from .ema import WeightEma
from .model import GenomicTransformer
from .tokens import snp_index, window_index

# Defaults per profile; an option left at None takes its profile's value.
PROFILE_DEFAULTS: dict[str, dict[str, Any]] = {
    # the paper: one token per SNP, Adam, batch 8, 1000 epochs, patience 35
    "paper": {"window": 1, "embed_dim": 32, "n_heads": 4, "ff_dim": 64, "dropout": 0.1,
              "lr": 1e-4, "weight_decay": 0.0, "batch_size": 8, "max_epochs": 1000,
              "patience": 35, "pool": "flatten", "lr_decay": 1.0, "amp": True,
              "attn_dropout": None, "norm_first": False,
              "input_dropout": 0.0, "ema": 0.0, "calibrate": False, "init": "xavier",
              "n_models": 1, "keep_initial": False},
    # CPU profile: see docs/notes/transformer-defaults.md for how these were chosen
    # (n_models: members of a seed ensemble, each early-stopped on its own, predictions
    # averaged; init "ridge": linear warm start of the embedding, tried and not adopted)
    "fast": {"window": 256, "embed_dim": 32, "n_heads": 2, "ff_dim": 64, "dropout": 0.1,
             "lr": 3e-4, "weight_decay": 0.0, "batch_size": 32, "max_epochs": 100,
             "patience": 20, "pool": "mean", "lr_decay": 1.0, "amp": False,
             "attn_dropout": 0.0, "norm_first": True, "input_dropout": 0.5, "ema": 0.99,
             "calibrate": True, "init": "xavier", "n_models": 2, "keep_initial": False},
}


SAVE_FORMAT = 1  # version of what ``TransformerRegressor.save`` writes

# The options a spec accepts; None = the profile's default.
OPTIONS: dict[str, Any] = {
    "profile": "auto", "window": None, "embed_dim": None, "n_heads": None, "ff_dim": None,
    "n_layers": 2, "dropout": None, "lr": None, "weight_decay": None, "batch_size": None,
    "max_epochs": None, "patience": None, "pool": None, "lr_decay": None, "amp": None,
    "valid_fraction": 0.2, "eval_batch_size": 64, "attn_dropout": None,
    "norm_first": None, "input_dropout": None, "ema": None, "calibrate": None,
    "init": None, "n_models": None, "keep_initial": None, "refit": False,
}


def resolve_device(device: str) -> torch.device:
    device = (device or "auto").lower()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but CUDA is not available")
    return torch.device(device)


def resolve_options(options: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Fill ``None`` options from the profile (``auto`` = paper on CUDA, fast on CPU)."""
    profile = str(options.get("profile") or "auto").lower()
    if profile == "auto":
        profile = "paper" if device.type == "cuda" else "fast"
    if profile not in PROFILE_DEFAULTS:
        raise ValueError(f"profile must be auto, fast or paper, got {profile!r}")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown transformer option(s) {unknown}")
    out = {**OPTIONS, **options}
    out["profile"] = profile
    for key, default in PROFILE_DEFAULTS[profile].items():
        if out.get(key) is None:
            out[key] = default
    for key in ("window", "embed_dim", "n_heads", "ff_dim", "n_layers", "batch_size",
                "max_epochs", "patience", "eval_batch_size", "n_models"):
        out[key] = int(out[key])
    for key in ("dropout", "lr", "weight_decay", "lr_decay", "valid_fraction",
                "input_dropout", "ema"):
        out[key] = float(out[key])
    if out["attn_dropout"] is not None:
        out["attn_dropout"] = float(out["attn_dropout"])
    for key in ("amp", "norm_first", "calibrate", "keep_initial", "refit"):
        out[key] = str(out[key]).lower() in ("1", "true", "yes")
    out["init"] = str(out["init"]).lower()
    if out["init"] not in ("xavier", "ridge"):
        raise ValueError(f"init must be 'xavier' or 'ridge', got {out['init']!r}")
    if out["n_models"] < 1:
        raise ValueError(f"n_models must be >= 1, got {out['n_models']}")
    return out


def ridge_coefficients(Xc: np.ndarray, Ys: np.ndarray, n_grid: int = 25) -> np.ndarray:
    """Ridge coefficients ``(markers, traits)`` per trait, penalty by exact leave-one-out error.

    ``Xc`` are centred genotypes, ``Ys`` standardised targets (NaN = not observed: that trait's
    ridge uses its observed rows only). Kernel form: ``beta = Xc' (K + lam I)^-1 y``, with the
    eigen-decomposition of ``K = Xc Xc'`` making every penalty on the grid cheap.
    """
    Xc = np.asarray(Xc, dtype=np.float64)
    B = np.zeros((Xc.shape[1], Ys.shape[1]))
    for j in range(Ys.shape[1]):
        m = ~np.isnan(Ys[:, j])
        if m.sum() < 3:
            continue
        Xm, y = Xc[m], Ys[m, j] - Ys[m, j].mean()
        s, U = np.linalg.eigh(Xm @ Xm.T)
        s = np.clip(s, 0.0, None)
        eta = U.T @ y
        best, best_lam = np.inf, 1.0
        for lam in s.mean() * np.logspace(-3, 2, n_grid):
            shrink = s / (s + lam)
            resid = y - U @ (shrink * eta)
            h = np.einsum("ij,j,ij->i", U, shrink, U)
            loo = float(np.mean((resid / np.clip(1.0 - h, 1e-8, None)) ** 2))
            if loo < best:
                best, best_lam = loo, lam
        B[:, j] = Xm.T @ (U @ (eta / (s + best_lam)))
    return B


def pcc(y: np.ndarray, p: np.ndarray) -> float:
    """Mean Pearson correlation over traits, each on its non-NaN rows (NaN if undefined)."""
    vals = []
    for j in range(y.shape[1]):
        m = ~np.isnan(y[:, j])
        if m.sum() < 2:
            continue
        a, b = y[m, j] - y[m, j].mean(), p[m, j] - p[m, j].mean()
        den = np.sqrt((a * a).sum() * (b * b).sum())
        if den > 0:
            vals.append(float((a * b).sum() / den))
    return float(np.mean(vals)) if vals else float("nan")


def masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE over the observed (non-NaN) targets only; NaN targets contribute nothing."""
    mask = ~torch.isnan(target)
    diff = torch.where(mask, pred - torch.nan_to_num(target), torch.zeros_like(pred))
    return (diff * diff).sum() / mask.sum().clamp(min=1)


def _mse(y: np.ndarray, p: np.ndarray) -> float:
    m = ~np.isnan(y)
    return float(np.mean((y[m] - p[m]) ** 2)) if m.any() else float("nan")


@contextlib.contextmanager
def _deterministic():
    """Deterministic algorithms, without filling every new tensor with NaN first: that fill
    only shows reads of uninitialised memory, which nothing here does (the same weights to the
    bit), and cost ~250 fills per training step."""
    import torch.utils.deterministic as det

    prev = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_fill = det.fill_uninitialized_memory
    torch.use_deterministic_algorithms(True, warn_only=True)
    det.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev, warn_only=prev_warn)
        det.fill_uninitialized_memory = prev_fill


class TransformerRegressor:
    """The gpbench model: ``fit(X, Y, valid)`` / ``predict(X)`` in original trait units."""

    def __init__(self, options: dict[str, Any], context: ModelContext,
                 multi_trait: bool = False) -> None:
        self.ctx = context
        self.multi_trait = multi_trait
        self.device = resolve_device(context.device)
        self.o = resolve_options(options, self.device)
        self.fit_info: dict[str, Any] = {}
        self.net: GenomicTransformer | None = None
        self.nets: list[GenomicTransformer] = []

    # ------------------------------------------------------------------ helpers
    def _autocast(self):
        if self.o["amp"] and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _attention_kernels(self):
        """On CUDA, keep attention on the memory-efficient / flash SDPA kernels."""
        if self.device.type != "cuda":
            return contextlib.nullcontext()
        from torch.nn.attention import SDPBackend, sdpa_kernel
        return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION])

    def _index(self, n_markers: int) -> np.ndarray:
        if self.o["profile"] == "paper" or self.o["window"] == 1:
            return snp_index(n_markers)
        return window_index(n_markers, self.ctx.markers, self.o["window"])

    def _network(self, n_outputs: int) -> GenomicTransformer:
        o = self.o
        return GenomicTransformer(
            self.index, n_outputs, embed_dim=o["embed_dim"], n_heads=o["n_heads"],
            ff_dim=o["ff_dim"], n_layers=o["n_layers"], dropout=o["dropout"], pool=o["pool"],
            attn_dropout=o["attn_dropout"], norm_first=o["norm_first"],
            input_dropout=o["input_dropout"])

    def _carve_valid(self, X: np.ndarray, Y: np.ndarray):
        rng = np.random.default_rng(self.ctx.seed)
        n = len(X)
        n_valid = max(2, int(round(self.o["valid_fraction"] * n)))
        perm = rng.permutation(n)
        va, tr = np.sort(perm[:n_valid]), np.sort(perm[n_valid:])
        return X[tr], Y[tr], (X[va], Y[va])

    def _predict_std(self, Xt: torch.Tensor, net: torch.nn.Module | None = None) -> np.ndarray:
        net = self.net if net is None else net
        assert net is not None
        net.eval()
        out = []
        with torch.no_grad(), self._autocast(), self._attention_kernels():
            for i in range(0, len(Xt), self.o["eval_batch_size"]):
                xb = Xt[i: i + self.o["eval_batch_size"]].to(self.device, non_blocking=True)
                out.append(net(xb).float().cpu())
        return torch.cat(out).numpy().astype(np.float64)

    # ------------------------------------------------------------------ API
    def fit(self, X: np.ndarray, Y: np.ndarray,
            valid: tuple[np.ndarray, np.ndarray] | None = None) -> TransformerRegressor:
        o = self.o
        if self.ctx.n_threads and self.ctx.n_threads > 0:
            torch.set_num_threads(int(self.ctx.n_threads))
        X = np.asarray(X, dtype=np.float32)
        Y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)
        if valid is None:
            X, Y, valid = self._carve_valid(X, Y)
        Xv = np.asarray(valid[0], dtype=np.float32)
        Yv = np.asarray(valid[1], dtype=np.float64).reshape(len(Xv), -1)

        # target standardisation on the training rows only
        with np.errstate(all="ignore"):
            self.y_mean = np.nan_to_num(np.nanmean(Y, axis=0))
            sd = np.nanstd(Y, axis=0)
        self.y_sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
        Ys = (Y - self.y_mean) / self.y_sd
        Yvs = (Yv - self.y_mean) / self.y_sd

        coef = None
        if o["init"] == "ridge":  # linear warm start, fitted on the training rows only
            coef = ridge_coefficients(X - X.mean(axis=0), Ys)
        self.index = self._index(X.shape[1])
        self.nets, infos = [], []
        with _deterministic():
            for k in range(o["n_models"]):
                seed = self.ctx.seed + k  # ensemble members differ by seed only
                torch.manual_seed(seed)
                gen = torch.Generator().manual_seed(seed)
                net = self._new_net(X, Y.shape[1], coef)
                self.net = net
                infos.append(self._train(X, Ys, Xv, Yvs, gen, report=k == 0))
                self.nets.append(net)
        self.net = self.nets[0]
        self._calibrate(Xv, Yvs)
        self.fit_info = {**infos[0], "epoch_time_s": float(np.mean([i["epoch_time_s"]
                                                                  for i in infos])),
                         "calibration": {"intercept": self.cal_a.tolist(),
                                         "slope": self.cal_b.tolist()},
                         "n_fit": int(len(X)), "n_valid": int(len(Xv)), "refit": False}
        if len(infos) > 1:
            self.fit_info["members"] = [{k: i[k] for k in ("best_epoch", "epochs_run",
                                                            "best_valid_pcc")} for i in infos]
            self.fit_info["ensemble_valid_pcc"] = pcc(Yvs, self._predict_ens(Xv))
        if o["refit"]:
            self._refit(np.concatenate([X, Xv]), np.concatenate([Ys, Yvs]), coef,
                        [i["best_epoch"] for i in infos])
        return self

    def _new_net(self, X: np.ndarray, n_out: int, coef: np.ndarray | None) -> GenomicTransformer:
        net = self._network(n_out)  # on self.index, set by fit
        net.embed.center.copy_(torch.from_numpy(X.mean(axis=0)))
        if coef is not None:
            net.warm_start_linear(coef)
        return net.to(self.device)

    def _refit(self, Xa: np.ndarray, Ysa: np.ndarray, coef: np.ndarray | None,
               epochs: list[int]) -> None:
        """Retrain every member from scratch on the whole training fold (training + validation
        rows) for the number of epochs early stopping chose for it. The calibration line and
        the target standardisation stay those fitted before (the validation rows are no longer
        held out, so they cannot calibrate the refitted networks)."""
        refitted = []
        with _deterministic():
            for k, n_epochs in enumerate(epochs):
                seed = self.ctx.seed + k
                torch.manual_seed(seed)
                gen = torch.Generator().manual_seed(seed)
                net = self._new_net(Xa, Ysa.shape[1], coef)
                self.net = net
                refitted.append(self._train_epochs(net, Xa, Ysa, max(1, n_epochs), gen))
        self.nets = refitted
        self.net = self.nets[0]
        self.fit_info.update(refit=True, n_fit=int(len(Xa)), refit_epochs=list(epochs))

    def _predict_ens(self, X: np.ndarray) -> np.ndarray:
        """Mean standardised prediction of the ensemble members (uncalibrated)."""
        Xt = torch.from_numpy(np.asarray(X, dtype=np.float32))
        return np.mean([self._predict_std(Xt, net) for net in self.nets], axis=0)

    def _calibrate(self, Xv: np.ndarray, Yvs: np.ndarray) -> None:
        """Regress the validation targets on the (ensemble's) validation predictions, per trait
        on its observed rows, and apply that line at predict time."""
        n_out = Yvs.shape[1]
        self.cal_a, self.cal_b = np.zeros(n_out), np.ones(n_out)
        if not self.o["calibrate"]:
            return
        pv = self._predict_ens(Xv)
        for j in range(n_out):
            m = ~np.isnan(Yvs[:, j])
            if m.sum() >= 3 and np.var(pv[m, j]) > 0:
                b = np.cov(pv[m, j], Yvs[m, j])[0, 1] / np.var(pv[m, j], ddof=1)
                b = float(np.clip(b, 0.0, 10.0))
                self.cal_b[j] = b
                self.cal_a[j] = float(Yvs[m, j].mean() - b * pv[m, j].mean())

    def _optimizer(self, net: torch.nn.Module) -> tuple[Any, Any, WeightEma | None]:
        """Adam (AdamW with weight decay), its lr schedule, and the EMA of the weights."""
        o = self.o
        # foreach: the per-tensor loop's arithmetic (the same weights to the bit on the CPU),
        # in fewer dispatches; it is already the default on CUDA
        if o["weight_decay"] > 0:
            opt = torch.optim.AdamW(net.parameters(), lr=o["lr"], weight_decay=o["weight_decay"],
                                    foreach=True)
        else:
            opt = torch.optim.Adam(net.parameters(), lr=o["lr"], foreach=True)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=o["lr_decay"])
        avg = WeightEma(net, o["ema"]) if o["ema"] > 0 else None
        return opt, sched, avg

    def _train_epochs(self, net: GenomicTransformer, X: np.ndarray, Ys: np.ndarray,
                      n_epochs: int, gen: torch.Generator) -> GenomicTransformer:
        """Train ``net`` for exactly ``n_epochs`` (no validation); returns the network that
        predicts (the EMA of the weights when ``ema`` > 0)."""
        dev = self.device
        Xt = torch.from_numpy(np.asarray(X, dtype=np.float32))
        Yt = torch.from_numpy(Ys.astype(np.float32))
        if dev.type == "cuda":
            Xt, Yt = Xt.to(dev), Yt.to(dev)
        opt, sched, avg = self._optimizer(net)
        for _ in range(n_epochs):
            self._epoch(net, Xt, Yt, opt, avg, gen)
            sched.step()
        return net if avg is None else avg.module

    def _epoch(self, net: GenomicTransformer, Xt: torch.Tensor, Yt: torch.Tensor, opt: Any,
               avg: WeightEma | None, gen: torch.Generator) -> torch.Tensor:
        """One pass over the training rows in shuffled mini-batches; returns the (detached)
        training predictions, each row's from the step that used it."""
        net.train()
        n, bs = len(Xt), self.o["batch_size"]
        perm = torch.randperm(n, generator=gen)
        preds = torch.empty_like(Yt)
        for i in range(0, n, bs):
            idx = perm[i: i + bs].to(Xt.device)
            with self._autocast(), self._attention_kernels():
                out = net(Xt.index_select(0, idx)).float()  # the rows of Xt[idx], copied faster
            loss = masked_mse(out, Yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if avg is not None:
                avg.update()
            preds[idx] = out.detach()
        return preds

    def _train(self, X: np.ndarray, Ys: np.ndarray, Xv: np.ndarray, Yvs: np.ndarray,
               gen: torch.Generator, report: bool = True) -> dict[str, Any]:
        o, net, dev = self.o, self.net, self.device
        assert net is not None
        pin = dev.type == "cuda"
        Xt = torch.from_numpy(X)
        Yt = torch.from_numpy(Ys.astype(np.float32))
        Xvt = torch.from_numpy(Xv)
        if pin:  # small enough to live on the GPU
            Xt, Yt, Xvt = Xt.to(dev), Yt.to(dev), Xvt.to(dev)
        # optional exponential moving average of the weights: evaluated, kept and restored
        # instead of the raw weights (smooths the noisy small-sample optimisation)
        opt, sched, avg = self._optimizer(net)
        eval_net = net if avg is None else avg.module
        hist: dict[str, list] = {k: [] for k in
                                 ("epoch", "train_pcc", "valid_pcc", "train_mse", "valid_mse")}
        best, best_epoch, best_state, times = -np.inf, 0, None, []
        if o["keep_initial"]:  # the initial weights (e.g. the linear warm start) may win
            v0 = pcc(Yvs, self._predict_std(Xvt, eval_net))
            best = v0 if np.isfinite(v0) else -np.inf
            best_state = copy.deepcopy(eval_net.state_dict())
        for epoch in range(1, o["max_epochs"] + 1):
            t0 = time.perf_counter()
            preds = self._epoch(net, Xt, Yt, opt, avg, gen)
            sched.step()
            pv = self._predict_std(Xvt, eval_net)
            times.append(time.perf_counter() - t0)
            tr_p = preds.cpu().numpy().astype(np.float64)
            v_pcc = pcc(Yvs, pv)
            hist["epoch"].append(epoch)
            hist["train_pcc"].append(pcc(Ys, tr_p))
            hist["valid_pcc"].append(v_pcc)
            hist["train_mse"].append(_mse(Ys, tr_p))
            hist["valid_mse"].append(_mse(Yvs, pv))
            score = v_pcc if np.isfinite(v_pcc) else -np.inf
            if best_state is None or score > best:
                best, best_epoch = score, epoch
                best_state = copy.deepcopy(eval_net.state_dict())
            if report and self.ctx.report is not None:
                self.ctx.report(epoch, float(v_pcc) if np.isfinite(v_pcc) else -1.0)
            if epoch - best_epoch >= o["patience"]:
                break
        assert best_state is not None
        net.load_state_dict(best_state)
        # NaN is not valid JSON: store None for undefined correlations
        clean = {k: [None if isinstance(v, float) and not np.isfinite(v) else v for v in vs]
                 for k, vs in hist.items()}
        return {
            "history": clean, "best_epoch": best_epoch, "epochs_run": len(hist["epoch"]),
            "best_valid_pcc": None if not np.isfinite(best) else float(best),
            "epoch_time_s": float(np.mean(times)), "profile": o["profile"],
            "n_tokens": int(net.n_tokens), "device": str(dev),
            "n_parameters": int(sum(p.numel() for p in net.parameters())),
            "options": {k: v for k, v in o.items()},
        }

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.net is None:
            raise RuntimeError("predict called before fit")
        P = self._predict_ens(X) * self.cal_b + self.cal_a
        return P * self.y_sd + self.y_mean

    # ------------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        """Each member's state dict (``net<k>.pt``), the token index (.npy) and a JSON config
        with the resolved options, target scaling and calibration."""
        if self.net is None:
            raise RuntimeError("save called before fit")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "index.npy", np.asarray(self.index, dtype=np.int64))
        for k, net in enumerate(self.nets):
            torch.save({n: t.detach().cpu() for n, t in net.state_dict().items()},
                       directory / f"net{k}.pt")
        write_model_json(directory, "transformer", SAVE_FORMAT, {
            "multi_trait": self.multi_trait,
            "options": self.o, "n_outputs": int(self.net.head.out_features),
            "n_models": len(self.nets), "y_mean": np.asarray(self.y_mean).tolist(),
            "y_sd": np.asarray(self.y_sd).tolist(), "cal_a": self.cal_a.tolist(),
            "cal_b": self.cal_b.tolist()})

    @classmethod
    def load(cls, directory: Path, context: ModelContext) -> TransformerRegressor:
        """Rebuild a model written by ``save``; weights load with ``weights_only=True``."""
        directory = Path(directory)
        meta = read_model_json(directory, "transformer", SAVE_FORMAT)
        model = cls(meta["options"], context, multi_trait=bool(meta["multi_trait"]))
        model.index = np.load(directory / "index.npy", allow_pickle=False)
        model.nets = []
        for k in range(int(meta["n_models"])):
            net = model._network(int(meta["n_outputs"]))
            state = torch.load(directory / f"net{k}.pt", map_location="cpu", weights_only=True)
            net.load_state_dict(state)
            model.nets.append(net.to(model.device))
        model.net = model.nets[0]
        for key in ("y_mean", "y_sd", "cal_a", "cal_b"):
            setattr(model, key, np.asarray(meta[key], dtype=np.float64))
        return model
