"""Generative adversarial network backend (WGAN-GP, trained for arbitrary conditioning).

The generator takes noise, a row with some cells observed and the observed
mask; it outputs every cell (numbers directly, categories as straight-through
Gumbel-softmax one-hots) and observed cells are then put back. The critic
judges ``(row, mask)`` pairs: real rows against rows completed by the
generator under the same mask. Training masks are empty (unconditional
generation) for half the rows and random subsets for the rest, so one model
serves both jobs:

* ``sample(n)``: empty masks, i.e. the unconditional generator;
* ``sample(n, given=...)``: the generator conditioned on the given cells.

The critic uses a gradient penalty (Gulrajani et al. 2017), as CTGAN does.
"""

from __future__ import annotations

import torch

from .base import BackendBase, Progress
from .nn import MLP, NeuralBackend, hidden_widths, random_masks
from .train import train_loop
from .vae import _epochs


class GANBackend(NeuralBackend, BackendBase):
    """Conditional Wasserstein GAN over the encoded table.

    Parameters
    ----------
    epochs : int or "auto", default "auto"
        Passes over the data; ``"auto"`` gives about ``steps`` generator steps
        (at most 500 epochs: every step on tables of 256 rows or more).
    steps : int, default 4000
    batch_size : int, default 500
        Rows per step at most: on tables under 4,000 rows a batch is an
        eighth of the rows (at least 32), so that an epoch has eight steps
        (:func:`tabsynth.backends.train.batch_rows`).
    lr : float, default 2e-4
        Adam learning rate (betas 0.5, 0.9) of both networks.
    weight_decay : float, default 1e-6
    hidden : tuple of int or "auto", default "auto"
        Hidden widths of the generator and the critic.
        ``"auto"``: two layers of 32 units per modelled column, from 128
        (tables of four columns or fewer) to 256 (eight or more; see
        :func:`tabsynth.backends.nn.hidden_widths`).
    noise_dim : int, default 64
    gp_weight : float, default 10.0
        Weight of the gradient penalty.
    tau : float, default 0.2
        Gumbel-softmax temperature for categorical outputs during training.
    """

    name = "gan"
    _nets = ("generator_", "critic_")
    _rules = {"epochs": "auto_or_pos_int", "steps": "pos_int", "batch_size": "pos_int", "lr": "pos_float",
              "weight_decay": "nonneg_float", "hidden": "widths", "noise_dim": "pos_int", "gp_weight": "nonneg_float",
              "tau": "pos_float"}

    def __init__(
        self,
        epochs: int | str = "auto",
        *,
        steps: int = 4000,
        batch_size: int = 500,
        lr: float = 2e-4,
        weight_decay: float = 1e-6,
        hidden: tuple[int, ...] | str = "auto",
        noise_dim: int = 64,
        gp_weight: float = 10.0,
        tau: float = 0.2,
    ):
        self.epochs = epochs
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.hidden = hidden
        self.noise_dim = noise_dim
        self.gp_weight = gp_weight
        self.tau = tau

    def _build(self) -> None:
        c = self.codec_
        hidden = hidden_widths(self.hidden, c.n_cols)
        self.generator_ = MLP(int(self.noise_dim) + c.width + c.n_cols, hidden, c.n_num + self.cat_head_.total, norm=True)
        self.critic_ = MLP(c.width + c.n_cols, hidden, 1, act="leaky_relu")

    def _raw(self, rows: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        wide = self.codec_.widen(mask)
        noise = torch.randn((rows.shape[0], int(self.noise_dim)), generator=gen)
        out = self.generator_(torch.cat([noise, rows * wide, mask], dim=1))
        return out[:, : self.codec_.n_num], out[:, self.codec_.n_num :]

    def _train(self, rows: torch.Tensor, codes: torch.Tensor, gen: torch.Generator, progress: Progress | None) -> list:
        n = rows.shape[0]
        epochs = _epochs(self.epochs, n, self.batch_size, self.steps)
        betas = (0.5, 0.9)
        opt_g = torch.optim.Adam(self.generator_.parameters(), lr=self.lr, betas=betas, weight_decay=self.weight_decay, foreach=True)
        opt_d = torch.optim.Adam(self.critic_.parameters(), lr=self.lr, betas=betas, weight_decay=self.weight_decay, foreach=True)
        codec = self.codec_

        def fake_rows(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            num, logits = self._raw(x, mask, gen)
            g = torch.cat([num, self.cat_head_.one_hot_st(logits, self.tau, gen)], dim=1)
            wide = codec.widen(mask)
            return wide * x + (1 - wide) * g

        def critic(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.critic_(torch.cat([x, mask], dim=1)).squeeze(1)

        def step(idx: torch.Tensor) -> dict[str, float]:
            x = rows[idx]
            mask = random_masks(len(idx), codec.n_cols, 0.5, 0.0, gen)
            # critic
            fake = fake_rows(x, mask).detach()
            eps = torch.rand((len(idx), 1), generator=gen)
            mix = (eps * x + (1 - eps) * fake).requires_grad_(True)
            grad = torch.autograd.grad(critic(mix, mask).sum(), mix, create_graph=True)[0]
            gp = ((grad.norm(2, dim=1) - 1) ** 2).mean()
            wdist = critic(x, mask).mean() - critic(fake, mask).mean()
            loss_d = -wdist + self.gp_weight * gp
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            # generator
            loss_g = -critic(fake_rows(x, mask), mask).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            return {"critic": loss_d.item(), "generator": loss_g.item(), "wasserstein": wdist.item()}

        return train_loop(step, n, epochs=epochs, batch_size=self.batch_size, gen=gen, progress=progress,
                          stage="gan: training")

    def _generate(self, rows: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, forbid: torch.Tensor | None):
        num, logits = self._raw(rows, mask, gen)
        return num, self.cat_head_.sample(logits, gen, forbid)
