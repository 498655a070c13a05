"""Variational autoencoder backend (TVAE-style, trained for arbitrary conditioning).

The decoder maps ``z ~ N(0, I)`` to a Gaussian per numeric column (mean from
the network, one learned scale per column) and a categorical distribution
per categorical column. The encoder sees a row with a random subset of its
cells hidden, together with the mask (half the rows fully observed), so one
model serves both jobs:

* ``sample(n)``: ``z`` from the prior, decoded;
* ``sample(n, given=...)``: ``z`` from the encoder given the observed cells,
  decoded, then ``gibbs_steps`` pseudo-Gibbs sweeps (re-encode the completed
  row, redraw the unobserved cells; Rezende et al. 2014). Observed cells are
  never changed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .base import BackendBase, Progress
from .nn import MLP, NeuralBackend, hidden_widths, random_masks
from .train import auto_epochs, train_loop


class VAEBackend(NeuralBackend, BackendBase):
    """Variational autoencoder over the encoded table.

    Parameters
    ----------
    epochs : int or "auto", default "auto"
        Passes over the data; ``"auto"`` gives about ``steps`` optimiser steps
        (at most 500 epochs: every step on tables of 256 rows or more).
    steps : int, default 3000
        Target number of optimiser steps for ``epochs="auto"``.
    batch_size : int, default 500
        Rows per step at most: on tables under 4,000 rows a batch is an
        eighth of the rows (at least 32), so that an epoch has eight steps
        (:func:`tabsynth.backends.train.batch_rows`).
    lr : float, default 1e-3
        Adam learning rate.
    weight_decay : float, default 1e-5
    hidden : tuple of int or "auto", default "auto"
        Hidden widths of the encoder (the decoder mirrors them).
        ``"auto"``: two layers of 32 units per modelled column, from 128
        (tables of four columns or fewer) to 256 (eight or more; see
        :func:`tabsynth.backends.nn.hidden_widths`).
    latent_dim : int, default 64
    beta : float, default 0.5
        Weight of the KL term (TVAE's loss factor 2 corresponds to 0.5).
    gibbs_steps : int, default 5
        Pseudo-Gibbs sweeps for conditional sampling.
    """

    name = "vae"
    _nets = ("encoder_", "decoder_", "log_sigma_")
    _rules = {"epochs": "auto_or_pos_int", "steps": "pos_int", "batch_size": "pos_int", "lr": "pos_float",
              "weight_decay": "nonneg_float", "hidden": "widths", "latent_dim": "pos_int", "beta": "nonneg_float",
              "gibbs_steps": "nonneg_int"}

    def __init__(
        self,
        epochs: int | str = "auto",
        *,
        steps: int = 3000,
        batch_size: int = 500,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        hidden: tuple[int, ...] | str = "auto",
        latent_dim: int = 64,
        beta: float = 0.5,
        gibbs_steps: int = 5,
    ):
        self.epochs = epochs
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.beta = beta
        self.gibbs_steps = gibbs_steps

    # ------------------------------------------------------------ networks
    def _build(self) -> None:
        c = self.codec_
        hidden = hidden_widths(self.hidden, c.n_cols)
        self.encoder_ = MLP(c.width + c.n_cols, hidden, 2 * int(self.latent_dim))
        self.decoder_ = MLP(int(self.latent_dim), hidden[::-1], c.n_num + self.cat_head_.total)
        self.log_sigma_ = _Scale(c.n_num)

    def _encode(self, rows: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder_(torch.cat([rows * self.codec_.widen(mask), mask], dim=1))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 10.0)

    def _decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.decoder_(z)
        return out[:, : self.codec_.n_num], out[:, self.codec_.n_num :]

    # ------------------------------------------------------------ training
    def _train(self, rows: torch.Tensor, codes: torch.Tensor, gen: torch.Generator, progress: Progress | None) -> list:
        n = rows.shape[0]
        epochs = _epochs(self.epochs, n, self.batch_size, self.steps)
        params = [p for name in self._nets for p in getattr(self, name).parameters()]
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay, foreach=True)
        n_num = self.codec_.n_num

        def step(idx: torch.Tensor) -> dict[str, float]:
            x, c = rows[idx], codes[idx]
            mask = random_masks(len(idx), self.codec_.n_cols, 0.5, 1.0, gen)
            mu, logvar = self._encode(x, mask)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
            num_mean, logits = self._decode(z)
            log_sigma = self.log_sigma_.value()
            rec_num = (0.5 * ((x[:, :n_num] - num_mean) / log_sigma.exp()) ** 2 + log_sigma).sum(1)
            rec_cat = self.cat_head_.nll(logits, c)
            kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)
            loss = (rec_num + rec_cat + self.beta * kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item(), "numeric": rec_num.mean().item(), "categorical": rec_cat.mean().item(),
                    "kl": kl.mean().item()}

        return train_loop(step, n, epochs=epochs, batch_size=self.batch_size, gen=gen, progress=progress,
                          stage="vae: training")

    # ------------------------------------------------------------ sampling
    def _draw(self, z: torch.Tensor, gen: torch.Generator, forbid: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        num_mean, logits = self._decode(z)
        num = num_mean + self.log_sigma_.value().exp() * torch.randn(num_mean.shape, generator=gen)
        return num, self.cat_head_.sample(logits, gen, forbid)

    def _generate(self, rows: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, forbid: torch.Tensor | None):
        k = rows.shape[0]
        if not bool(mask.any()):
            z = torch.randn((k, int(self.latent_dim)), generator=gen)
            return self._draw(z, gen, forbid)
        codec = self.codec_
        wide = codec.widen(mask)
        mu, logvar = self._encode(rows, mask)
        for sweep in range(int(self.gibbs_steps) + 1):
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
            num, codes = self._draw(z, gen, forbid)
            if sweep == int(self.gibbs_steps):
                break
            filled = _rows_from(num, codes, codec)
            rows_now = wide * rows + (1 - wide) * filled
            mu, logvar = self._encode(rows_now, torch.ones_like(mask))
        return num, codes


class _Scale(nn.Module):
    """One learned log-scale per numeric column, kept within [log 0.01, log 1]."""

    def __init__(self, d: int):
        super().__init__()
        self.raw = nn.Parameter(torch.full((d,), -1.0))

    def value(self) -> torch.Tensor:
        return self.raw.clamp(float(np.log(0.01)), 0.0)


def _rows_from(num: torch.Tensor, codes: torch.Tensor, codec) -> torch.Tensor:
    out = torch.zeros((num.shape[0], codec.width))
    out[:, : codec.n_num] = num
    if codes.shape[1]:
        out.scatter_(1, codes + torch.as_tensor(codec.offsets)[None, :], 1.0)
    return out


def _epochs(epochs: int | str, n: int, batch_size: int, steps: int) -> int:
    """``epochs`` as a number (validated by ``check_params`` before)."""
    return auto_epochs(n, batch_size, steps) if epochs == "auto" else int(epochs)
