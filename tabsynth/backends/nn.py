"""torch building blocks shared by the neural backends (VAE, GAN).

Everything here is built from a :class:`~tabsynth.encoding.Layout` alone:

* :class:`RowCodec` turns an :class:`Encoded` table into one float matrix
  (the numeric block followed by one-hot codes) and its per-column observed
  mask, and back;
* :class:`MLP` is the one trunk every network uses;
* :class:`CatHead` handles all categorical outputs at once: the flat logits
  are gathered into a padded ``(n, n_cat, max_card)`` tensor so cross-entropy
  and sampling are single vectorised calls, never a loop over columns.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..encoding import Encoded, Layout


class RowCodec:
    """Encoded table <-> ``(n, width)`` float tensor of numbers and one-hots.

    Parameters
    ----------
    layout : Layout
        The encoded table's layout.
    """

    def __init__(self, layout: Layout):
        self.layout = layout
        self.n_num = layout.n_num
        self.cards = list(layout.cardinalities)
        self.n_cols = self.n_num + len(self.cards)
        self.width = self.n_num + int(sum(self.cards))
        self.offsets = np.concatenate([[0], np.cumsum(self.cards)]).astype(np.int64)[:-1] + self.n_num
        # which column each of the `width` features belongs to
        col_of = list(range(self.n_num))
        for j, c in enumerate(self.cards):
            col_of += [self.n_num + j] * c
        self.col_of = torch.as_tensor(col_of, dtype=torch.long)

    def rows(self, enc: Encoded) -> torch.Tensor:
        """The ``(n, width)`` float32 tensor of ``enc``."""
        n = enc.n
        out = np.zeros((n, self.width), dtype=np.float32)
        out[:, : self.n_num] = enc.x_num
        if self.cards:
            flat = enc.x_cat + self.offsets[None, :]
            np.put_along_axis(out, flat, 1.0, axis=1)
        return torch.from_numpy(out)

    def column_mask(self, enc: Encoded) -> torch.Tensor:
        """``(n, n_cols)`` float tensor: 1 where a cell is observed."""
        n = enc.n
        m_num = np.ones((n, self.n_num), bool) if enc.mask_num is None else enc.mask_num
        m_cat = np.ones((n, len(self.cards)), bool) if enc.mask_cat is None else enc.mask_cat
        return torch.from_numpy(np.concatenate([m_num, m_cat], axis=1).astype(np.float32))

    def widen(self, mask: torch.Tensor) -> torch.Tensor:
        """Per-column mask ``(n, n_cols)`` -> per-feature mask ``(n, width)``."""
        return mask[:, self.col_of]


class MLP(nn.Sequential):
    """Linear -> SiLU blocks (optionally with layer norm), then a linear output.

    Parameters
    ----------
    d_in, d_out : int
    hidden : tuple of int
    norm : bool
        Layer normalisation after each hidden linear layer.
    act : str
        ``"silu"`` or ``"leaky_relu"``.
    """

    def __init__(self, d_in: int, hidden: tuple[int, ...], d_out: int, *, norm: bool = False, act: str = "silu"):
        layers: list[nn.Module] = []
        d = d_in
        for h in hidden:
            layers.append(nn.Linear(d, h))
            if norm:
                layers.append(nn.LayerNorm(h))
            layers.append(nn.SiLU() if act == "silu" else nn.LeakyReLU(0.2))
            d = h
        layers.append(nn.Linear(d, d_out))
        super().__init__(*layers)


#: ``hidden="auto"``: two layers of this many units per modelled column, within [AUTO_MIN, AUTO_MAX]
AUTO_PER_COLUMN = 32
AUTO_MIN, AUTO_MAX = 128, 256


def hidden_widths(hidden: tuple[int, ...] | list[int] | str, n_cols: int) -> tuple[int, ...]:
    """The hidden widths of a network over ``n_cols`` modelled columns.

    ``"auto"`` gives two layers of ``32 * n_cols`` units, at least 128 and at most 256:
    256 from eight modelled columns on (adult has 19), 128 for tables of four or fewer.
    The cost of a step is mostly the 256 x 256 middle layer, whatever the number of
    columns, so a fixed width made a 3-column table cost 4x adult's time per cell
    (benchmarks/zoo.py) for a distribution with a fraction of the dependencies.
    """
    if isinstance(hidden, str):
        h = int(min(AUTO_MAX, max(AUTO_MIN, AUTO_PER_COLUMN * int(n_cols))))
        return (h, h)
    return tuple(int(h) for h in hidden)


class CatHead:
    """Vectorised cross-entropy and sampling for all categorical columns.

    Flat logits (``n, sum(cards)``) are gathered into ``(n, n_cat, max_card)``
    with ``-inf`` where a column has fewer codes.
    """

    def __init__(self, layout: Layout):
        self.cards = list(layout.cardinalities)
        self.n_cat = len(self.cards)
        self.total = int(sum(self.cards))
        max_card = max(self.cards) if self.cards else 1
        idx = np.full((self.n_cat, max_card), self.total, dtype=np.int64)  # points at a -inf pad
        start = 0
        for j, c in enumerate(self.cards):
            idx[j, :c] = np.arange(start, start + c)
            start += c
        self.index = torch.as_tensor(idx.reshape(-1))
        self.max_card = max_card
        miss = np.zeros((self.n_cat, max_card), bool)
        for j, (c, has) in enumerate(zip(self.cards, layout.has_missing_code)):
            if has:
                miss[j, c - 1] = True
        self.missing_code = torch.as_tensor(miss)

    def padded(self, logits: torch.Tensor) -> torch.Tensor:
        """``(n, sum(cards))`` -> ``(n, n_cat, max_card)`` with ``-inf`` padding."""
        pad = torch.full((logits.shape[0], 1), float("-inf"), dtype=logits.dtype)
        return torch.cat([logits, pad], dim=1)[:, self.index].view(-1, self.n_cat, self.max_card)

    def nll(self, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Per-row summed cross-entropy ``(n,)``."""
        if self.n_cat == 0:
            return logits.new_zeros(logits.shape[0])
        p = self.padded(logits)
        ce = F.cross_entropy(p.reshape(-1, self.max_card), codes.reshape(-1), reduction="none")
        return ce.view(-1, self.n_cat).sum(1)

    def sample(self, logits: torch.Tensor, gen: torch.Generator, forbid_missing: torch.Tensor | None = None) -> torch.Tensor:
        """Draw codes ``(n, n_cat)`` (Gumbel-max); ``forbid_missing`` ``(n, n_cat)`` bool rules out missing codes."""
        if self.n_cat == 0:
            return torch.zeros((logits.shape[0], 0), dtype=torch.long)
        p = self.padded(logits)
        if forbid_missing is not None:
            p = p.masked_fill(forbid_missing[:, :, None] & self.missing_code[None], float("-inf"))
        u = torch.rand(p.shape, generator=gen).clamp_(1e-12, 1 - 1e-12)
        return torch.argmax(p - torch.log(-torch.log(u)), dim=2)

    def one_hot_st(self, logits: torch.Tensor, tau: float, gen: torch.Generator) -> torch.Tensor:
        """Straight-through Gumbel-softmax one-hots ``(n, sum(cards))``: hard forward, soft gradient."""
        if self.n_cat == 0:
            return logits[:, :0]
        p = self.padded(logits)
        u = torch.rand(p.shape, generator=gen).clamp_(1e-12, 1 - 1e-12)
        soft = torch.softmax((p - torch.log(-torch.log(u))) / tau, dim=2)
        hard = F.one_hot(soft.argmax(2), self.max_card).to(soft.dtype)
        st = (hard - soft).detach() + soft
        flat = st.reshape(st.shape[0], -1)
        keep = self.index < self.total  # drop the padding positions
        out = torch.zeros((st.shape[0], self.total), dtype=st.dtype)
        return out.index_copy(1, self.index[keep], flat[:, keep])


def state_to_arrays(module: nn.Module, prefix: str) -> dict[str, np.ndarray]:
    """A module's state dict as float32 numpy arrays (saved in ``.npz``, never pickled)."""
    return {f"{prefix}.{k}": v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_arrays(module: nn.Module, prefix: str, arrays: dict[str, np.ndarray]) -> None:
    """Load arrays written by :func:`state_to_arrays` (shapes must match)."""
    own = module.state_dict()
    state = {}
    for k, v in own.items():
        a = arrays[f"{prefix}.{k}"]
        if tuple(a.shape) != tuple(v.shape):
            raise ValueError(f"array {prefix}.{k} has shape {a.shape}, expected {tuple(v.shape)}")
        state[k] = torch.from_numpy(np.asarray(a)).to(v.dtype)
    module.load_state_dict(state)


def random_masks(n: int, n_cols: int, p_special: float, special: float, gen: torch.Generator) -> torch.Tensor:
    """Random observed-masks ``(n, n_cols)`` for training on arbitrary conditioning.

    A share ``p_special`` of rows get every column set to ``special`` (1.0: fully
    observed; 0.0: nothing observed, i.e. unconditional generation); in the other rows
    each column is observed with a per-row probability drawn uniformly from [0, 1].
    """
    rate = torch.rand((n, 1), generator=gen)
    m = (torch.rand((n, n_cols), generator=gen) < rate).float()
    chosen = torch.rand((n, 1), generator=gen) < p_special
    return torch.where(chosen, torch.full_like(m, special), m)


class NeuralBackend:
    """Lifecycle shared by the torch backends: fit, chunked sampling with ``given``, state.

    Subclasses (which also derive from :class:`~tabsynth.backends.base.BackendBase`)
    implement ``_build()`` (create the networks from ``self.layout_``),
    ``_train(rows, codes, gen, progress)``, ``_generate(rows, mask, gen, forbid)``
    returning ``(x_num, codes)`` tensors, and list their networks in ``_nets``.
    """

    _nets: tuple[str, ...] = ()
    _rules: dict[str, str] = {}
    sample_chunk = 32768

    def fit(self, data: Encoded, *, rng: np.random.Generator, progress=None):
        from .base import check_params
        from .train import seeded

        check_params(self, self._rules)
        if not data.fully_observed():
            raise ValueError("fit needs a fully observed encoded table")
        self.layout_ = data.layout
        self.codec_ = RowCodec(data.layout)
        self.cat_head_ = CatHead(data.layout)
        with seeded(rng) as gen:
            self._build_quietly()
            rows = self.codec_.rows(data)
            codes = torch.from_numpy(np.ascontiguousarray(data.x_cat, dtype=np.int64))
            for name in self._nets:
                getattr(self, name).train()
            self.history_ = self._train(rows, codes, gen, progress)
            for name in self._nets:
                getattr(self, name).eval()
        return self

    def _build_quietly(self) -> None:
        # a table whose columns are all unmodelled (constant, id, text) gives zero-width
        # layers; torch warns that initialising them is a no-op, which is expected here
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            self._build()

    def sample(self, n: int, *, given: Encoded | None = None, rng: np.random.Generator) -> Encoded:
        from .base import check_given
        from .train import seeded

        check_given(given, n)
        lay = self.layout_
        x_num = np.empty((n, lay.n_num), dtype=np.float32)
        x_cat = np.empty((n, lay.n_cat), dtype=np.int64)
        with seeded(rng) as gen, torch.no_grad():
            for start in range(0, n, self.sample_chunk):
                stop = min(n, start + self.sample_chunk)
                k = stop - start
                if given is None:
                    rows = torch.zeros((k, self.codec_.width))
                    mask = torch.zeros((k, self.codec_.n_cols))
                    forbid = None
                else:
                    part = given.take(np.arange(start, stop))
                    rows = self.codec_.rows(part)
                    mask = self.codec_.column_mask(part)
                    forbid = (mask[:, lay.n_num:] == 0) if given.exclude_missing else None
                num, codes = self._generate(rows, mask, gen, forbid)
                x_num[start:stop] = num.numpy()
                x_cat[start:stop] = codes.numpy()
        if given is None:
            return Encoded(x_num, x_cat, lay)
        if given.mask_num is not None:
            x_num = np.where(given.mask_num, given.x_num, x_num)
        else:
            x_num = given.x_num.copy()
        if given.mask_cat is not None:
            x_cat = np.where(given.mask_cat, given.x_cat, x_cat)
        else:
            x_cat = given.x_cat.copy()
        return Encoded(x_num.astype(np.float32), x_cat, lay, given.mask_num, given.mask_cat, given.exclude_missing)

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {}
        for name in self._nets:
            arrays.update(state_to_arrays(getattr(self, name), name))
        meta = {"layout": self.layout_.to_dict(), "history": self.history_}
        return meta, arrays

    @classmethod
    def from_state(cls, params: dict, meta: dict, arrays: dict[str, np.ndarray]):
        params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
        self = cls(**params)
        self.layout_ = Layout.from_dict(meta["layout"])
        self.codec_ = RowCodec(self.layout_)
        self.cat_head_ = CatHead(self.layout_)
        self.history_ = meta.get("history", [])
        with torch.random.fork_rng(devices=[]):  # initial weights are overwritten; keep global RNG as it was
            self._build_quietly()
        for name in self._nets:
            net = getattr(self, name)
            load_arrays(net, name, arrays)
            net.eval()
        return self
