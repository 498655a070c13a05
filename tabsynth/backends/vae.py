"""Variational autoencoder backend (TVAE-style, trained for arbitrary conditioning).

The decoder maps ``z ~ N(0, I)`` to a categorical distribution per
categorical column and, per number, a distribution over its classes (one of
``bins`` equal-probability bins, or its exact value when it has few; see
:class:`~tabsynth.backends.nn.NumberView`) and a Gaussian offset within the
class (mean from the network, one learned scale per number). The encoder sees a row with a random subset of its
cells hidden, together with the mask (half the rows fully observed), so one
model serves both jobs:

* ``sample(n)``: ``z`` from the prior, decoded;
* ``sample(n, given=...)``: ``z`` from the encoder given the observed cells,
  decoded, then ``gibbs_steps`` pseudo-Gibbs sweeps if asked (re-encode the
  completed row, redraw the unobserved cells; Rezende et al. 2014). Observed
  cells are never changed.

Given ``z`` the decoder draws the numbers jointly: their residuals follow the
correlations measured in the training rows after training (a Gaussian copula,
:meth:`VAEBackend._fit_residuals`).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import ndtri
from torch import nn

from .base import BackendBase, Progress
from .nn import MLP, NeuralBackend, adam, autocast, hidden_widths, random_masks
from .train import epochs_for, train_loop


#: the scale of a number's offset lies in [0.01, 1]
LOG_SIGMA_MIN = float(np.log(0.01))
#: offsets are clipped to [OFFSET_CLIP, 1 - OFFSET_CLIP] before their normal scores are taken
OFFSET_CLIP = 1e-3
#: a correlation between two numbers' residuals needs this many rows where both are regular
MIN_PAIR_ROWS = 30


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
    gibbs_steps : int, default 0
        Pseudo-Gibbs sweeps for conditional sampling (re-encode the completed row, redraw
        the cells not given). They made conditional draws worse where measured: on a
        two-cluster table, cells filled on the right side of the gap 86% / 94% of the
        time without sweeps, 66% / 74% with five.
    bins : int, default 1
        Equal-probability bins of each number: the decoder draws a number's bin like a
        category and its offset within the bin from a Gaussian (numbers with at most 32
        distinct values are drawn as one of them; :class:`~tabsynth.backends.nn.NumberView`).
        With one bin a number is a Gaussian in its normal score: a credit table's monthly
        bills, correlated at 0.98, came out correlated at 0.95 with one bin and 0.70 with
        ten (an offset within a bin is a sawtooth of the value, which the decoder cannot
        pin down; pair trends of strong pairs 0.944 against 0.912); ten bins gave slightly
        better column shapes (adult 0.985 against 0.980).
    fitted_prior : bool, default True
        Draw ``z`` for unconditional rows from a Gaussian fitted after training to the
        training rows' posterior draws (their mean and full covariance) instead of
        ``N(0, I)``; see :meth:`_fit_prior`. Conditional sampling (``given``) uses the
        encoder's posterior either way.
    precision : {"auto", "float32", "bfloat16"}, default "auto"
        Arithmetic of the networks' matrix products: ``"auto"`` is bfloat16 on
        CPUs that compute it natively (AVX-512 BF16, AMX), float32 elsewhere
        (:func:`tabsynth.backends.nn.low_precision`).
    """

    name = "vae"
    _nets = ("encoder_", "decoder_", "log_sigma_")
    _rules = {"epochs": "auto_or_pos_int", "steps": "pos_int", "batch_size": "pos_int", "lr": "pos_float",
              "weight_decay": "nonneg_float", "hidden": "widths", "latent_dim": "pos_int", "beta": "nonneg_float",
              "gibbs_steps": "nonneg_int", "bins": "pos_int",
              "fitted_prior": "bool"}

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
        gibbs_steps: int = 0,
        bins: int = 1,
        fitted_prior: bool = True,
        precision: str = "auto",
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
        self.bins = bins
        self.fitted_prior = fitted_prior
        self.precision = precision

    def _extra_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        if self.z_chol_ is None:
            return {}, {}
        return {}, {"vae.z_mean": self.z_mean_.numpy().copy(), "vae.z_chol": self.z_chol_.numpy().copy()}

    def _load_extra_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        # models saved before the fitted prior (or fitted without it) draw z from N(0, I)
        self.z_mean_ = self.z_chol_ = None
        if "vae.z_chol" in arrays:
            self.z_mean_ = torch.as_tensor(np.asarray(arrays["vae.z_mean"], dtype=np.float32))
            self.z_chol_ = torch.as_tensor(np.asarray(arrays["vae.z_chol"], dtype=np.float32))

    # ------------------------------------------------------------ networks
    def _offsets(self, u: np.ndarray) -> np.ndarray:
        # offsets as normal scores: uniform within a bin, so standard normal, what a Gaussian fits
        return ndtri(np.clip(u, OFFSET_CLIP, 1 - OFFSET_CLIP))

    def _build(self) -> None:
        view, numbers = self.view_codec_, self.numbers_
        hidden = hidden_widths(self.hidden, self.codec_.n_cols)
        self.encoder_ = MLP(view.width + view.n_cols, hidden, 2 * int(self.latent_dim))
        # an offset mean for each class of each number (the drawn class picks one), then the classes' logits
        self.decoder_ = MLP(int(self.latent_dim), hidden[::-1], numbers.n_classes + self.view_head_.total)
        self.log_sigma_ = _Scale(numbers.n_num)

    def _encode(self, rows: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance given view rows and the view's column mask."""
        with autocast(self.low_precision_):
            h = self.encoder_(torch.cat([rows * self.view_codec_.widen(mask), mask], dim=1)).float()
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 10.0)

    def _decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Offset means of every class of every number, and the flat logits of all classes."""
        with autocast(self.low_precision_):
            out = self.decoder_(z).float()
        k = self.numbers_.n_classes
        return out[:, :k], out[:, k:]

    def _offset_means(self, means: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """The offset mean of each number's class in ``codes`` ``(n, n_num)``."""
        return means.gather(1, codes[:, : self.numbers_.n_num] + self.numbers_.starts)

    # ------------------------------------------------------------ training
    def _train(self, rows: torch.Tensor, codes: torch.Tensor, gen: torch.Generator, progress: Progress | None) -> list:
        n = rows.shape[0]
        epochs = epochs_for(self.epochs, n, self.batch_size, self.steps)
        params = [p for name in self._nets for p in getattr(self, name).parameters()]
        opt = adam(params, lr=self.lr, weight_decay=self.weight_decay)
        n_num = self.numbers_.n_num
        binned = self.numbers_.binned.float()  # offsets of numbers modelled by their values carry nothing
        ones = torch.ones((rows.shape[0], self.layout_.n_cat))

        def step(idx: torch.Tensor) -> dict[str, float]:
            x, c = rows[idx], codes[idx]
            mask = self._view_mask(random_masks(len(idx), self.codec_.n_cols, 0.5, 1.0, gen))
            mu, logvar = self._encode(x, mask)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
            means, logits = self._decode(z)
            log_sigma = self.log_sigma_.value()
            regular = self._regular(x)  # a spike's or a missing number's class and offset are filler noise
            r = (x[:, :n_num] - self._offset_means(means, c)) / log_sigma.exp()
            rec_num = ((0.5 * r * r + log_sigma) * binned * regular).sum(1)
            rec_cat = self.view_head_.nll(logits, c, torch.cat([regular, ones[: len(idx)]], dim=1))
            kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)
            loss = (rec_num + rec_cat + self.beta * kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item(), "numeric": rec_num.mean().item(), "categorical": rec_cat.mean().item(),
                    "kl": kl.mean().item()}

        history = train_loop(step, n, epochs=epochs, batch_size=self.batch_size, gen=gen, progress=progress,
                             stage="vae: training")
        self._fit_residuals(rows, codes, gen)
        self.z_mean_ = self.z_chol_ = None
        if self.fitted_prior:
            self._fit_prior(rows, gen)
        return history

    def _fit_prior(self, rows: torch.Tensor, gen: torch.Generator) -> None:
        """Fit the Gaussian that unconditional sampling draws ``z`` from: mean and covariance of posterior draws.

        The decoder learnt from the encoder's posteriors, whose mixture over the training rows
        (the aggregate posterior) is not the ``N(0, I)`` prior the KL term pulls it towards:
        prior draws land where no row's posterior is, and decode to blurred rows. Drawing ``z``
        from a Gaussian with the aggregate posterior's mean and covariance (one posterior draw
        per training row) keeps the sampler where the decoder was trained (Ghosh et al. 2020
        fit a density to the latent codes after training for the same reason): on the
        generated credit table, strong-pair trends 0.942 -> 0.951, column shapes 0.972 -> 0.980.
        """
        d = int(self.latent_dim)
        s1 = torch.zeros(d, dtype=torch.float64)
        s2 = torch.zeros((d, d), dtype=torch.float64)
        with torch.no_grad():
            full = torch.ones((1, self.view_codec_.n_cols))
            for start in range(0, rows.shape[0], self.sample_chunk):
                x = rows[start : start + self.sample_chunk]
                mu, logvar = self._encode(x, full.expand(x.shape[0], -1))
                z = (mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)).double()
                s1 += z.sum(0)
                s2 += z.T @ z
        n = rows.shape[0]
        mean = s1 / n
        cov = s2 / n - mean[:, None] * mean[None, :]
        vals, vecs = torch.linalg.eigh(cov)
        cov = (vecs * vals.clamp(min=1e-6)) @ vecs.T
        self.z_mean_ = mean.float()
        self.z_chol_ = torch.linalg.cholesky(cov).float()

    def _fit_residuals(self, rows: torch.Tensor, codes: torch.Tensor, gen: torch.Generator) -> None:
        """Measure how the numbers' residuals correlate in the training rows (the decoder draws them independently).

        Given ``z``, the decoder draws each number independently, so whatever ``z`` does
        not capture of two strongly related numbers (monthly bills that correlate at 0.99)
        comes out independent: a credit table's bills correlated at 0.70 instead of 0.99
        in the generated rows. Each regular cell of a binned number (spikes and missing
        numbers hold filler values) is placed within the decoder's predictive
        distribution, given a posterior draw of ``z`` for its row: ``v = P(bin < k) +
        P(bin = k) * Phi((offset - mean_k) / sigma)``, uniform if the decoder is right.
        The correlation matrix of the normal scores of ``v`` across numbers is what the
        sampler then draws ``v`` with (:meth:`_draw`; a Gaussian copula of the residuals).
        """
        numbers, d = self.numbers_, self.numbers_.n_num
        binned = numbers.binned
        if int(binned.sum()) < 2:
            return
        regular = torch.ones((rows.shape[0], d), dtype=torch.bool)
        for k, j in self.layout_.state_pairs():
            regular[:, j] = codes[:, d + k] == 0
        s2 = torch.zeros((d, d), dtype=torch.float64)
        cnt = torch.zeros((d, d), dtype=torch.float64)
        with torch.no_grad():
            full = torch.ones((1, self.view_codec_.n_cols))
            sigma = self.log_sigma_.value().exp()
            for start in range(0, rows.shape[0], self.sample_chunk):
                x, c = rows[start : start + self.sample_chunk], codes[start : start + self.sample_chunk]
                mu, logvar = self._encode(x, full.expand(x.shape[0], -1))
                z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
                means, logits = self._decode(z)
                cdf, probs = self._bin_cdf(logits)
                k = c[:, :d].clamp(max=cdf.shape[2] - 1)  # (numbers drawn as values: unused)
                below = torch.where(k > 0, cdf.gather(2, (k - 1).clamp(min=0)[:, :, None]).squeeze(2), 0.0)
                within = torch.special.ndtr((x[:, :d] - self._offset_means(means, c)) / sigma)
                v = below + probs.gather(2, k[:, :, None]).squeeze(2) * within
                e = torch.special.ndtri(v.double().clamp(1e-6, 1 - 1e-6))
                ok = (regular[start : start + self.sample_chunk] & binned).double()
                e = e * ok
                s2 += e.T @ e
                cnt += ok.T @ ok
        cov = s2 / cnt.clamp(min=1.0)
        sd = cov.diagonal().clamp(min=1e-12).sqrt()
        corr = cov / (sd[:, None] * sd[None, :])
        keep = (binned[:, None] & binned[None, :]) & (cnt >= MIN_PAIR_ROWS)
        corr = torch.where(keep, corr, torch.zeros_like(corr)).clamp(-1.0, 1.0)
        corr.fill_diagonal_(1.0)
        vals, vecs = torch.linalg.eigh(corr)  # nearest valid correlation: eigenvalues floored, unit diagonal
        fixed = (vecs * vals.clamp(min=1e-3)) @ vecs.T
        dd = fixed.diagonal().sqrt()
        fixed = fixed / (dd[:, None] * dd[None, :])
        self.log_sigma_.chol.copy_(torch.linalg.cholesky(fixed).float())

    def _bin_cdf(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cumulative and plain probabilities ``(n, n_num, n_bins)`` of each number's bins (padding: 0 probability).

        Numbers drawn as one of their values get the first ``n_bins`` of their classes' logits; their rows are unused.
        """
        numbers = self.numbers_
        width = numbers.n_bins
        pos = numbers.starts[:, None] + torch.arange(width)[None, :]
        valid = torch.arange(width)[None, :] < torch.as_tensor(numbers.cards)[:, None]
        pos = torch.where(valid, pos, 0)
        part = logits[:, : numbers.n_classes][:, pos].masked_fill(~valid, float("-inf"))
        probs = torch.softmax(part.float(), dim=2)
        return torch.cumsum(probs, dim=2), probs

    # ------------------------------------------------------------ sampling
    def _draw(self, z: torch.Tensor, gen: torch.Generator, forbid: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """View offsets and view codes decoded from ``z``."""
        means, logits = self._decode(z)
        codes = self.view_head_.sample(logits, gen, forbid)
        numbers = self.numbers_
        binned = numbers.binned
        if not bool(binned.any()):
            return self._offset_means(means, codes), codes
        # binned numbers by inverse CDF of the decoder's bins-and-offset mixture, at correlated uniforms
        v = torch.special.ndtr(self.log_sigma_.correlated(codes.shape[0], gen).double()).float()
        cdf, probs = self._bin_cdf(logits)
        k = (cdf < v[:, :, None]).sum(2).clamp(max=numbers.n_bins - 1)
        below = torch.where(k > 0, cdf.gather(2, (k - 1).clamp(min=0)[:, :, None]).squeeze(2), 0.0)
        within = ((v - below) / probs.gather(2, k[:, :, None]).squeeze(2).clamp(min=1e-12)).clamp(1e-6, 1 - 1e-6)
        codes = codes.clone()
        codes[:, :numbers.n_num] = torch.where(binned, k, codes[:, :numbers.n_num])
        mean = self._offset_means(means, codes)
        offset = mean + self.log_sigma_.value().exp() * torch.special.ndtri(within.double()).float()
        return torch.where(binned, offset, mean), codes

    def _encoded(self, offsets: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """View offsets and codes -> the encoded table's numbers and categories."""
        n_num = self.numbers_.n_num
        x_num = self.numbers_.decode(codes[:, :n_num], torch.special.ndtr(offsets))
        return x_num, codes[:, n_num:]

    def _generate(self, rows: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, forbid: torch.Tensor | None):
        k = rows.shape[0]
        forbid = self._view_forbid(forbid)
        if not bool(mask.any()):
            z = torch.randn((k, int(self.latent_dim)), generator=gen)
            if self.z_chol_ is not None:
                z = self.z_mean_ + z @ self.z_chol_.T
            return self._encoded(*self._draw(z, gen, forbid))
        view = self.view_codec_
        mask = self._view_mask(mask)
        wide = view.widen(mask)
        mu, logvar = self._encode(rows, mask)
        for sweep in range(int(self.gibbs_steps) + 1):
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
            offsets, codes = self._draw(z, gen, forbid)
            if sweep == int(self.gibbs_steps):
                break
            filled = self._blank_fillers(_rows_from(offsets, codes, view))
            rows_now = wide * rows + (1 - wide) * filled
            mu, logvar = self._encode(rows_now, torch.ones_like(mask))
        return self._encoded(offsets, codes)


class _Scale(nn.Module):
    """The offsets' noise: one learned log-scale per number, kept within [log 0.01, log 1], and their correlations.

    ``chol`` is the Cholesky factor of the correlation of the numbers' residuals in the
    training rows, measured after training (:meth:`VAEBackend._fit_residuals`); identity
    until then.
    """

    def __init__(self, d: int):
        super().__init__()
        self.raw = nn.Parameter(torch.full((d,), -1.0))
        self.register_buffer("chol", torch.eye(d))

    def value(self) -> torch.Tensor:
        return self.raw.clamp(LOG_SIGMA_MIN, 0.0)

    def correlated(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """Standard normal draws ``(n, d)`` with the residuals' correlations."""
        return torch.randn((n, self.raw.shape[0]), generator=gen) @ self.chol.T


def _rows_from(num: torch.Tensor, codes: torch.Tensor, codec) -> torch.Tensor:
    out = torch.zeros((num.shape[0], codec.width))
    out[:, : codec.n_num] = num
    if codes.shape[1]:
        out.scatter_(1, codes + torch.as_tensor(codec.offsets)[None, :], 1.0)
    return out
