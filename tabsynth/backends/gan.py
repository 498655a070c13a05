"""Generative adversarial network backend (WGAN-GP, packed critic, trained for arbitrary conditioning).

Numbers are seen by both networks as a *bin and an offset*: the encoder maps
a number to a normal score ``z``; ``p = Phi(z)`` is uniform over the rows, so
``bins`` equal-probability bins ``k = floor(bins * p)`` and the offset
``u = bins * p - k`` in [0, 1) describe it exactly. The bin is one more
categorical output (a straight-through Gumbel-softmax one-hot, like the
categories), the offset a sigmoid chosen by that bin. A generator that
outputs ``z`` directly matched adult's numbers poorly (age 0.71, fnlwgt 0.75
KS complement); classes are what a GAN matches well. This is CTGAN's
mode-specific normalisation without its per-column Gaussian mixtures: the
encoder's quantile transform already gives every number the same shape.

The generator takes noise, a row with some cells observed and the observed
mask; it outputs every cell and observed cells are then put back. The
critic judges ``(row, mask)`` pairs, ``pac`` rows at a time (PacGAN, as
CTGAN does: a critic that sees several rows at once notices when they lack
variety): real rows against rows completed by the generator under the same
mask. Training masks are empty (unconditional generation) for half the rows
and random subsets for the rest, so one model serves both jobs:

* ``sample(n)``: empty masks, i.e. the unconditional generator;
* ``sample(n, given=...)``: the generator conditioned on the given cells.

The critic uses a gradient penalty per pack (Gulrajani et al. 2017), as
CTGAN does.
"""

from __future__ import annotations

import numpy as np
import torch

from ..encoding import Encoded
from .base import BackendBase, Progress
from .nn import MLP, NeuralBackend, adam, autocast, hidden_widths, random_masks
from .train import epochs_for, rows_per_batch, train_loop


#: decay of the moving average of the generator's weights that the sampler uses
EMA_DECAY = 0.999
#: the critic sees at least this many packs per step (``pac`` shrinks on small batches): with 10
#: packs of 10 rows a step, a two-cluster table's GAN lost the clusters (x separation 3 instead of 10)
MIN_PACKS = 25


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
    lr : float, default 5e-4
        Adam learning rate (betas 0.5, 0.9) of both networks. CTGAN's 2e-4 left the
        4,000 steps undertrained: on adult, TSTR AUC logistic / boosting 0.874 / 0.873
        at 2e-4 against 0.887 / 0.893 at 5e-4 (benchmarks/README.md, issue 25 row 1).
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
    bins : int, default 10
        Equal-probability bins of each number (numbers with at most 32 distinct values
        are drawn as one of them; see :class:`~tabsynth.backends.nn.NumberView`).
    pac : int, default 10
        Rows the critic judges together; fewer on batches of under 250 rows, so that
        a step has at least 25 packs.
    critic_steps : int, default 1
        Critic updates per generator update.
    precision : {"auto", "float32", "bfloat16"}, default "auto"
        Arithmetic of the networks' matrix products: ``"auto"`` is bfloat16 on
        CPUs that compute it natively (AVX-512 BF16, AMX), float32 elsewhere
        (:func:`tabsynth.backends.nn.low_precision`).
    """

    name = "gan"
    _nets = ("generator_", "critic_")
    # a sigmoid offset seldom reaches the last thousandth of a bin: without narrower outer bins the
    # GAN's adult hours-per-week ended at 80 (real: 99), and SDMetrics' pair trends, which cut each
    # table over its own range, scored every pair with it 0.46
    _tail_bins = True
    _rules = {"epochs": "auto_or_pos_int", "steps": "pos_int", "batch_size": "pos_int", "lr": "pos_float",
              "weight_decay": "nonneg_float", "hidden": "widths", "noise_dim": "pos_int", "gp_weight": "nonneg_float",
              "tau": "pos_float", "bins": "pos_int", "pac": "pos_int", "critic_steps": "pos_int"}

    def __init__(
        self,
        epochs: int | str = "auto",
        *,
        steps: int = 4000,
        batch_size: int = 500,
        lr: float = 5e-4,
        weight_decay: float = 1e-6,
        hidden: tuple[int, ...] | str = "auto",
        noise_dim: int = 64,
        gp_weight: float = 10.0,
        tau: float = 0.2,
        bins: int = 10,
        pac: int = 1,
        critic_steps: int = 1,
        precision: str = "auto",
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
        self.bins = bins
        self.pac = pac
        self.critic_steps = critic_steps
        self.precision = precision

    # ------------------------------------------------------------ networks
    def _prepare(self, data: Encoded) -> None:
        self.pac_ = int(max(1, min(int(self.pac), rows_per_batch(data.n, self.batch_size) // MIN_PACKS)))
        # how often each category of each categorical column occurs (what unconditional sampling draws from)
        cards = data.layout.cardinalities
        counts = np.zeros((len(cards), max(cards, default=1)))
        for j, c in enumerate(cards):
            counts[j, :c] = np.bincount(data.x_cat[:, j], minlength=c)
        self.category_counts_ = counts

    def _extra_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"pac": self.pac_}, {"gan.category_counts": self.category_counts_}

    def _load_extra_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self.pac_ = int(meta["pac"])
        self.category_counts_ = np.asarray(arrays["gan.category_counts"], dtype=np.float64)

    def _one_category(self, category: torch.Tensor, column: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """View rows and column masks that give each row one category (``column`` of the categorical columns)."""
        n, lay = len(column), self.layout_
        rows = torch.zeros((n, self.view_codec_.width))
        first = torch.as_tensor(self.view_codec_.offsets[lay.n_num :])
        rows[torch.arange(n), first[column] + category] = 1.0
        mask = torch.zeros((n, self.codec_.n_cols))
        mask[torch.arange(n), lay.n_num + column] = 1.0
        return rows, mask

    def _build(self) -> None:
        view, numbers = self.view_codec_, self.numbers_
        width = view.width + view.n_cols
        hidden = hidden_widths(self.hidden, self.codec_.n_cols)
        # an offset for each class of each number (the drawn class picks one), then the classes' logits
        self.generator_ = MLP(int(self.noise_dim) + width, hidden, numbers.n_classes + self.view_head_.total, norm=True)
        self.critic_ = MLP(self.pac_ * width, hidden, 1, act="leaky_relu")

    def _raw(self, rows: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Offsets in (0, 1) of every class of every number, and the flat logits of all classes."""
        wide = self.view_codec_.widen(mask)
        noise = torch.randn((rows.shape[0], int(self.noise_dim)), generator=gen)
        with autocast(self.low_precision_):
            out = self.generator_(torch.cat([noise, rows * wide, mask], dim=1)).float()
        k = self.numbers_.n_classes
        return torch.sigmoid(out[:, :k]), out[:, k:]

    # ------------------------------------------------------------ training
    def _train(self, rows: torch.Tensor, codes: torch.Tensor, gen: torch.Generator, progress: Progress | None) -> list:
        epochs = epochs_for(self.epochs, rows.shape[0], self.batch_size, self.steps)
        training = _Training(self, rows, codes, gen, raw=self._raw, view_mask=self._view_mask,
                             blank_fillers=self._blank_fillers)
        try:
            history = train_loop(training.step, rows.shape[0], epochs=epochs, batch_size=self.batch_size, gen=gen,
                                 progress=progress, stage="gan: training")
        finally:
            training.critic_trainable(True)
        training.use_average()
        return history

    # ------------------------------------------------------------ sampling
    def _generate(self, rows: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, forbid: torch.Tensor | None):
        numbers, lay = self.numbers_, self.layout_
        free = torch.zeros(0, dtype=torch.long)
        if lay.n_cat:  # a row with nothing given gets one category, drawn by the categories' frequencies
            free = torch.nonzero(~mask.bool().any(1)).squeeze(1)
        if len(free):
            column = torch.randint(lay.n_cat, (len(free),), generator=gen)
            probs = torch.as_tensor(self.category_counts_)[column]
            if forbid is not None:
                missing = torch.zeros_like(probs, dtype=torch.bool)
                for j, (c, has) in enumerate(zip(lay.cardinalities, lay.has_missing_code)):
                    missing[column == j, c - 1] = bool(has)
                allowed = probs.masked_fill(missing & forbid[free, column][:, None], 0.0)
                probs = torch.where(allowed.sum(1, keepdim=True) > 0, allowed, probs)
            category = torch.multinomial(probs, 1, generator=gen).squeeze(1)
            one_rows, one_mask = self._one_category(category, column)
            rows, mask = rows.clone(), mask.clone()
            rows[free], mask[free] = one_rows, one_mask
        offsets, logits = self._raw(rows, self._view_mask(mask), gen)
        codes = self.view_head_.sample(logits, gen, self._view_forbid(forbid))
        classes = codes[:, : numbers.n_num]
        u = offsets.gather(1, classes + numbers.starts)
        x_cat = codes[:, numbers.n_num :]
        if len(free):
            x_cat[free, column] = category
        return numbers.decode(classes, u), x_cat


class _Training:
    """One GAN training run: the optimisers, the moving average of the generator, and :meth:`step`.

    Each step's batch is half rows with random cells observed and half rows picked as CTGAN's
    training by sampling does (a categorical column at random, a category by the log of its
    frequency, a row of that category; only that column observed); tables without categories
    use random masks, half of them empty. The critic takes ``critic_steps`` updates with a
    gradient penalty per pack, then the generator one, against the updated critic.
    """

    def __init__(self, gan: GANBackend, rows: torch.Tensor, codes: torch.Tensor, gen: torch.Generator, *,
                 raw, view_mask, blank_fillers):
        self.gan, self.rows, self.gen = gan, rows, gen
        # the backend's own steps: the generator's raw output, view masks, spikes' features blanked
        self.raw, self.view_mask, self.blank_fillers = raw, view_mask, blank_fillers
        betas = (0.5, 0.9)
        self.opt_g = adam(gan.generator_.parameters(), lr=gan.lr, betas=betas, weight_decay=gan.weight_decay)
        self.opt_d = adam(gan.critic_.parameters(), lr=gan.lr, betas=betas, weight_decay=gan.weight_decay)
        numbers = gan.numbers_
        self.pac, self.k, self.n_num = gan.pac_, numbers.n_classes, numbers.n_num
        # sums a number's class one-hots times offsets into its offset
        self.members = gan.view_head_.members[: self.k, : self.n_num]
        self.binned = numbers.binned.float()
        self.critic_params = list(gan.critic_.parameters())
        self.gen_params = list(gan.generator_.parameters())
        self.average = [p.detach().clone() for p in self.gen_params]
        self.done = 0
        self.n_cat, self.n_cols = gan.layout_.n_cat, gan.codec_.n_cols
        if self.n_cat:  # training by sampling: rows of each category, and the log-frequency rule that picks them
            self.order = torch.argsort(codes[:, self.n_num :], dim=0, stable=True).T.contiguous()
            self.counts = torch.as_tensor(gan.category_counts_)
            self.first = (torch.cumsum(self.counts, 1) - self.counts).long()
            self.log_freq = torch.log1p(self.counts)

    def sampled(self, m: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` rows picked by training by sampling, each with only its picked column observed."""
        gen = self.gen
        column = torch.randint(self.n_cat, (m,), generator=gen)
        category = torch.multinomial(self.log_freq[column], 1, generator=gen).squeeze(1)
        size = self.counts[column, category]
        pos = self.first[column, category] + (torch.rand(m, generator=gen, dtype=torch.float64) * size).long().clamp(
            max=(size - 1).long())
        mask = torch.zeros((m, self.n_cols))
        mask[torch.arange(m), self.n_num + column] = 1.0
        return self.rows[self.order[column, pos]], self.view_mask(mask)

    def completed(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Rows ``x`` with the cells ``mask`` does not observe drawn by the generator (differentiable)."""
        gan = self.gan
        offsets, logits = self.raw(x, mask, self.gen)
        hot = gan.view_head_.one_hot_st(logits, gan.tau, self.gen)
        u = self.binned * ((hot[:, : self.k] * offsets) @ self.members) + (1 - self.binned) * 0.5
        wide = gan.view_codec_.widen(mask)
        return wide * x + (1 - wide) * self.blank_fillers(torch.cat([u, hot], dim=1))

    def critic(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The critic's score of each pack of ``pac`` consecutive rows."""
        packed = torch.cat([x, mask], dim=1).reshape(x.shape[0] // self.pac, -1)
        with autocast(self.gan.low_precision_):
            return self.gan.critic_(packed).float().squeeze(1)

    def critic_update(self, x: torch.Tensor, mask: torch.Tensor, fake: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """One critic step: real and fake packs in one pass, gradient penalty on a mix of the two."""
        m, pac = x.shape[0], self.pac
        scores = self.critic(torch.cat([x, fake]), torch.cat([mask, mask]))
        wdist = scores[: m // pac].mean() - scores[m // pac :].mean()
        eps = torch.rand((m // pac, 1, 1), generator=self.gen).expand(-1, pac, 1).reshape(m, 1)
        mix = (eps * x + (1 - eps) * fake).requires_grad_(True)
        grad = torch.autograd.grad(self.critic(mix, mask).sum(), mix, create_graph=True)[0]
        gp = ((grad.reshape(m // pac, -1).norm(2, dim=1) - 1) ** 2).mean()
        loss_d = -wdist + self.gan.gp_weight * gp
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return loss_d, wdist

    def batch(self, idx: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The step's ``m`` rows and their view masks (see the class docstring)."""
        gan, pac = self.gan, self.pac
        if self.n_cat:
            half = (m // (2 * pac)) * pac
            picked, picked_mask = self.sampled(m - half)
            x = torch.cat([self.rows[idx[:half]], picked])
            mask = torch.cat([self.view_mask(random_masks(half, self.n_cols, 0.0, 0.0, self.gen)), picked_mask])
            return x, mask
        return self.rows[idx[:m]], self.view_mask(random_masks(m, self.n_cols, 0.5, 0.0, self.gen))

    def critic_trainable(self, on: bool) -> None:
        for p in self.critic_params:
            p.requires_grad_(on)

    def step(self, idx: torch.Tensor) -> dict[str, float]:
        """Critic updates, then a generator update, on the batch of rows ``idx``."""
        m = (len(idx) // self.pac) * self.pac
        if m < 2 * self.pac:  # too few rows left for two packs
            return {}
        x, mask = self.batch(idx, m)
        self.critic_trainable(True)
        for _ in range(int(self.gan.critic_steps) - 1):  # extra critic updates, on fresh fake rows
            with torch.no_grad():
                extra = self.completed(x, mask)
            self.critic_update(x, mask, extra)
        fake = self.completed(x, mask)
        loss_d, wdist = self.critic_update(x, mask, fake.detach())
        # generator: the same fake rows against the updated critic (whose weights need no gradient here)
        self.critic_trainable(False)
        loss_g = -self.critic(fake, mask).mean()
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        # the sampler uses an exponential moving average of the generator's weights
        self.done += 1
        with torch.no_grad():
            torch._foreach_lerp_(self.average, self.gen_params,
                                 1.0 - min(EMA_DECAY, (1.0 + self.done) / (10.0 + self.done)))
        return {"critic": loss_d.item(), "generator": loss_g.item(), "wasserstein": wdist.item()}

    def use_average(self) -> None:
        """The generator's weights set to their moving average (what the sampler uses)."""
        with torch.no_grad():
            for p, a in zip(self.gen_params, self.average):
                p.copy_(a)
