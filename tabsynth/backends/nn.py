"""torch building blocks shared by the neural backends (VAE, GAN).

Everything here is built from a :class:`~tabsynth.encoding.Layout` alone:

* :class:`NumberView` shows the networks each number as a class (one of a
  few equal-probability bins, or its exact value when it has few) and an
  offset within the class;
* :class:`RowCodec` turns an :class:`Encoded` table into one float matrix
  (the numeric block followed by one-hot codes) and its per-column observed
  mask, and back;
* :class:`MLP` is the one trunk every network uses;
* :class:`CatHead` handles all categorical outputs at once: the flat logits
  are gathered into a padded ``(n, n_cat, max_card)`` tensor so sampling is
  one vectorised call, and cross-entropy is a per-column log-sum-exp on the
  flat logits; never a loop over columns;
* :func:`low_precision` / :func:`autocast` decide and apply bfloat16 matrix
  products (the bulk of a step's time) on CPUs that compute them natively.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext

import numpy as np
import torch
from scipy.special import ndtr
from torch import nn
from torch.nn import functional as F

from ..encoding import Encoded, Layout
from ..errors import InputError
from .base import check_given, check_params
from .train import seeded


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


#: a number with at most this many distinct regular values is modelled as one class per value
MAX_VALUES = 32
#: ``tails=True``: the outer bins are cut further at these shares (and one minus them)
TAIL_EDGES = (0.001, 0.01)


class NumberView:
    """The numeric block as the networks see it: a class and an offset per number.

    The encoder gives every number a normal score ``z`` (a quantile transform), so
    ``p = Phi(z)`` is uniform over the rows. A number is shown to the networks as

    * its exact value, one class per value, when its regular (non-spike, non-missing)
      cells hold at most :data:`MAX_VALUES` distinct values (``education-num``, a
      repayment status, a small count); the offset is unused (0.5). A number drawn as a
      score plus noise lands between such values, and rounding then breaks rules tying
      it to a category (education-num to education: a VAE's rows broke it often enough
      for the rules' redraws to drop most rare educations);
    * otherwise one of ``bins`` equal-probability bins, ``k = floor(bins * p)``, and the
      offset ``u = bins * p - k`` in [0, 1). Classes are what both networks match best;
      the offset only places the number within its bin. This plays the part of CTGAN's
      and TVAE's mode-specific normalisation, with bins instead of per-column mixtures.

    Parameters
    ----------
    layout : Layout
        The encoded table's layout.
    bins : int
    values : list of (ndarray or None)
        Per number: its sorted distinct regular scores, or ``None`` for a binned number.
    """

    def __init__(self, layout: Layout, bins: int, values: list, tails: bool = False):
        self.layout = layout
        self.bins = int(bins)
        self.values = values
        self.tails = bool(tails)
        inner = [k / self.bins for k in range(1, self.bins)]
        if self.tails:  # narrower bins in the tails: [0, 0.001), [0.001, 0.01), ..., [0.99, 0.999), [0.999, 1)
            inner = sorted({*inner, *[t for t in TAIL_EDGES if t < 1 / self.bins],
                            *[1 - t for t in TAIL_EDGES if t < 1 / self.bins]})
        self.edges = np.array([0.0, *inner, 1.0])
        self._lo = torch.as_tensor(self.edges[:-1])
        self._width = torch.as_tensor(np.diff(self.edges))
        self.n_bins = len(self.edges) - 1
        self.n_num = layout.n_num
        self.cards = [self.n_bins if v is None else len(v) for v in values]
        self.binned = torch.tensor([v is None for v in values], dtype=torch.bool)
        width = max([1] + [len(v) for v in values if v is not None])
        table = np.zeros((self.n_num, width), dtype=np.float32)
        for j, v in enumerate(values):
            if v is not None:
                table[j, : len(v)] = v
        self.table = torch.from_numpy(table)
        #: the layout the networks see: offsets, then the numbers' classes, then the categories
        self.layout_view = Layout(self.n_num, self.cards + list(layout.cardinalities),
                                  [False] * self.n_num + list(layout.has_missing_code))
        #: for each column of the view, the encoded table's column it comes from
        self.column = torch.as_tensor(list(range(self.n_num)) + list(range(self.n_num + layout.n_cat)), dtype=torch.long)
        #: first position of each number's classes among the flat class codes
        self.starts = torch.as_tensor(np.concatenate([[0], np.cumsum(self.cards)[:-1]]).astype(np.int64))
        self.n_classes = int(sum(self.cards))

    @classmethod
    def fit(cls, enc: Encoded, bins: int, tails: bool = False) -> "NumberView":
        """Find the numbers with few distinct regular values in a fully observed table."""
        lay = enc.layout
        regular = np.ones((enc.n, lay.n_num), dtype=bool)
        for k, j in lay.state_pairs():
            regular[:, j] = enc.x_cat[:, k] == 0
        values = []
        for j in range(lay.n_num):
            v = np.unique(enc.x_num[regular[:, j], j])
            values.append(v.astype(np.float32) if 1 <= len(v) <= MAX_VALUES else None)
        return cls(lay, bins, values, tails)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        counts = np.array([0 if v is None else len(v) for v in self.values], dtype=np.int64)
        return {f"{prefix}.table": self.table.numpy().copy(), f"{prefix}.counts": counts}

    @classmethod
    def from_arrays(cls, layout: Layout, bins: int, arrays: dict[str, np.ndarray], prefix: str,
                    tails: bool = False) -> "NumberView":
        table, counts = np.asarray(arrays[f"{prefix}.table"]), np.asarray(arrays[f"{prefix}.counts"])
        return cls(layout, bins, [None if c == 0 else table[j, :c].astype(np.float32) for j, c in enumerate(counts)],
                   tails)

    def encode(self, x_num: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classes ``(n, n_num)`` int64 and offsets ``(n, n_num)`` float32 of normal scores."""
        p = ndtr(np.asarray(x_num, dtype=np.float64))
        k = np.clip(np.searchsorted(self.edges, p, side="right") - 1, 0, self.n_bins - 1)
        u = np.clip((p - self.edges[k]) / np.diff(self.edges)[k], 0.0, 1.0 - 1e-7)
        for j, v in enumerate(self.values):
            if v is not None:  # the nearest value (filler cells of spikes and missing numbers fall anywhere)
                k[:, j] = np.searchsorted((v[1:] + v[:-1]) / 2, x_num[:, j]) if len(v) > 1 else 0
                u[:, j] = 0.5
        return k, u.astype(np.float32)

    def decode(self, classes: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Normal scores ``(n, n_num)`` of classes and offsets."""
        if self.n_num == 0:
            return offsets
        at_bin = classes.clamp(max=self.n_bins - 1)
        p = (self._lo[at_bin] + offsets.double() * self._width[at_bin]).clamp(1e-7, 1 - 1e-7)
        z = torch.special.ndtri(p).float()
        at = classes.clamp(max=self.table.shape[1] - 1)[:, :, None]
        exact = self.table.expand(classes.shape[0], -1, -1).gather(2, at).squeeze(2)
        return torch.where(self.binned, z, exact)


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except Exception:  # private helpers: absent in some torch builds
        return False


def low_precision(precision: str) -> bool:
    """Whether a network with ``precision`` (``"auto"``, ``"float32"``, ``"bfloat16"``) runs its products in bfloat16.

    ``"auto"``: bfloat16 where the CPU computes it natively (measured on AVX-512 BF16: a
    500 x 256 x 256 product 0.69 -> 0.17 ms, a training step of the VAE on adult
    13 -> 6 ms), float32 elsewhere (emulated bfloat16 is slower than float32). Weights,
    optimiser state, losses and sampling arithmetic stay float32 either way.
    """
    return precision == "bfloat16" or (precision == "auto" and native_bfloat16())


PRECISIONS = ("auto", "float32", "bfloat16")


def check_precision(backend) -> str:
    """``backend.precision``, or a one-line :class:`~tabsynth.errors.InputError` naming the choices."""
    value = getattr(backend, "precision", "float32")
    if not (isinstance(value, str) and value in PRECISIONS):
        raise InputError(f"backend {backend.name!r}: parameter precision={value!r} should be one of "
                         f"{', '.join(PRECISIONS)} (--param precision=...)")
    return value


def autocast(enabled: bool):
    """Context: linear layers in bfloat16 (torch's CPU autocast) when ``enabled``."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else nullcontext()


class RowNorm(nn.Module):
    """Layer normalisation written out, so that its result does not depend on the thread count.

    ``torch.nn.LayerNorm``'s CPU backward sums the weight gradient over rows in per-thread
    chunks, so one and two threads gave different GAN weights for the same seed; here the
    sums are ordinary reductions, which torch computes identically on any thread count.
    Same parameters (``weight``, ``bias``) as ``nn.LayerNorm``.
    """

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        mean = x.mean(1, keepdim=True)
        centred = x - mean
        var = (centred * centred).mean(1, keepdim=True)
        return centred * torch.rsqrt(var + self.eps) * self.weight + self.bias


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
                layers.append(RowNorm(h))
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
        # which categorical column each flat logit belongs to, the (total, n_cat) 0/1 matrix that
        # sums each column's exponentials, and each column's first flat position
        col = np.repeat(np.arange(self.n_cat), self.cards).astype(np.int64)
        self.column = torch.as_tensor(col)
        self.members = torch.zeros((self.total, self.n_cat)).index_put_((torch.arange(self.total), self.column),
                                                                         torch.tensor(1.0))
        self.starts = torch.as_tensor(np.concatenate([[0], np.cumsum(self.cards)[:-1]]).astype(np.int64))
        miss = np.zeros((self.n_cat, max_card), bool)
        for j, (c, has) in enumerate(zip(self.cards, layout.has_missing_code)):
            if has:
                miss[j, c - 1] = True
        self.missing_code = torch.as_tensor(miss)

    def padded(self, logits: torch.Tensor) -> torch.Tensor:
        """``(n, sum(cards))`` -> ``(n, n_cat, max_card)`` with ``-inf`` padding."""
        pad = torch.full((logits.shape[0], 1), float("-inf"), dtype=logits.dtype)
        return torch.cat([logits, pad], dim=1)[:, self.index].view(-1, self.n_cat, self.max_card)

    def nll(self, logits: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Per-row summed cross-entropy ``(n,)`` (each column's term times ``weights`` ``(n, n_cat)`` if given).

        Each column's log-sum-exp is taken on the flat logits (shifted by the column's
        maximum, then one product with :attr:`members`), which avoids the padded
        ``(n, n_cat, max_card)`` tensor: on adult (12 columns, up to 42 codes) that tensor
        is four times the logits and its gather and scatter took 1.6 ms of a 13 ms step.
        """
        if self.n_cat == 0:
            return logits.new_zeros(logits.shape[0])
        logits = logits.float()
        n = logits.shape[0]
        with torch.no_grad():
            top = logits.new_full((n, self.n_cat), float("-inf"))
            top = top.scatter_reduce(1, self.column.expand(n, -1), logits, "amax")
        shifted = torch.exp(logits - top[:, self.column])
        lse = torch.log(shifted @ self.members) + top
        picked = logits.gather(1, codes + self.starts)
        terms = lse - picked
        return (terms if weights is None else terms * weights).sum(1)

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
        """Straight-through Gumbel-softmax one-hots ``(n, sum(cards))``: hard forward, soft gradient.

        Computed on the flat logits (per-column maxima and sums, as in :meth:`nll`).
        """
        if self.n_cat == 0:
            return logits[:, :0]
        n = logits.shape[0]
        u = torch.rand(logits.shape, generator=gen).clamp_(1e-12, 1 - 1e-7)
        y = (logits.float() - torch.log(-torch.log(u))) / tau
        with torch.no_grad():
            top = y.new_full((n, self.n_cat), float("-inf"))
            top = top.scatter_reduce(1, self.column.expand(n, -1), y, "amax")[:, self.column]
            hard = (y == top).to(y.dtype)
        e = torch.exp(y - top)
        soft = e / (e @ self.members)[:, self.column]
        return (hard - soft).detach() + soft


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


def adam(params, **options) -> torch.optim.Adam:
    """Adam over ``params`` with its fused CPU kernel where torch has one (2.4 and later), else ``foreach``.

    The fused kernel updates every parameter in one pass: on the generated credit table's
    VAE (about 330,000 weights) a step of the optimiser took 0.34 ms against 1.23 ms,
    about 7% of a training step. Its updates are elementwise, so they are the same on
    any thread count.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # an older torch: no fused kernel for CPU tensors
        return torch.optim.Adam(params, foreach=True, **options)


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

    The networks see rows through :class:`NumberView` (``numbers_``): ``view_codec_``
    and ``view_head_`` are the :class:`RowCodec` and :class:`CatHead` of its layout.
    Subclasses (which also derive from :class:`~tabsynth.backends.base.BackendBase` and
    have a ``bins`` parameter) implement ``_build()`` (create the networks),
    ``_train(rows, codes, gen, progress)`` (view rows and view codes),
    ``_generate(rows, mask, gen, forbid)`` (view rows, the encoded table's column mask
    and forbidden missing codes) returning ``(x_num, x_cat)`` tensors of the encoded
    table, and list their networks in ``_nets``.
    """

    _nets: tuple[str, ...] = ()
    _rules: dict[str, str] = {}
    #: :class:`NumberView` cuts its outer bins further (``tails``)
    _tail_bins = False
    sample_chunk = 32768

    def fit(self, data: Encoded, *, rng: np.random.Generator, progress=None):

        check_params(self, self._rules)
        self.low_precision_ = low_precision(check_precision(self))
        if not data.fully_observed():
            raise ValueError("fit needs a fully observed encoded table")
        self.layout_ = data.layout
        self.codec_ = RowCodec(data.layout)
        self.numbers_ = NumberView.fit(data, int(self.bins), self._tail_bins)
        self._view_setup()
        self._prepare(data)
        with seeded(rng) as gen:
            self._build_quietly()
            rows, codes = self._view(data)
            for name in self._nets:
                getattr(self, name).train()
            self.history_ = self._train(rows, codes, gen, progress)
            for name in self._nets:
                getattr(self, name).eval()
        return self

    def _view_setup(self) -> None:
        numbers = self.numbers_
        view = self.view_codec_ = RowCodec(numbers.layout_view)
        self.view_head_ = CatHead(numbers.layout_view)
        # which number each feature of a view row belongs to (its offset and its classes; n_num: none) ...
        owner = np.full(view.width, numbers.n_num, dtype=np.int64)
        owner[: numbers.n_num] = np.arange(numbers.n_num)
        for j, c in enumerate(numbers.cards):
            owner[view.offsets[j] : view.offsets[j] + c] = j
        self.feature_number_ = torch.as_tensor(owner)
        # ... and where the "regular value" code of each number's state sits (numbers without a state: none)
        self.state_pairs_ = [(j, int(view.offsets[numbers.n_num + k])) for k, j in self.layout_.state_pairs()]

    def _regular(self, rows: torch.Tensor) -> torch.Tensor:
        """``(n, n_num)``: 1 where a number holds a regular value, read off the (one-hot) state codes of ``rows``."""
        out = torch.ones((rows.shape[0], self.numbers_.n_num), dtype=rows.dtype)
        if self.state_pairs_:
            cols = [j for j, _ in self.state_pairs_]
            out = out.index_copy(1, torch.as_tensor(cols), rows[:, [pos for _, pos in self.state_pairs_]])
        return out

    def _blank_fillers(self, rows: torch.Tensor) -> torch.Tensor:
        """``rows`` with the features of numbers that are a spike or missing set to zero.

        Such a cell holds a filler value drawn at random (the state says what it is);
        shown to the networks it is noise that hides how the regular values relate to
        the rest of the row: adult's capital gains above 7,000 (98.6% high incomes) came
        out of the GAN with 49% high incomes. Differentiable in the state codes.
        """
        if not self.state_pairs_:
            return rows
        keep = torch.cat([self._regular(rows), rows.new_ones((rows.shape[0], 1))], dim=1)
        return rows * keep[:, self.feature_number_]

    def _prepare(self, data: Encoded) -> None:
        """Settings that depend on the training table, decided before the networks are built."""

    def _extra_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What :meth:`_prepare` decided, saved with the model (JSON metadata, arrays)."""
        return {}, {}

    def _load_extra_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_extra_state` saved."""

    def _offsets(self, u: np.ndarray) -> np.ndarray:
        """How the networks see offsets in [0, 1) (default: as they are)."""
        return u

    def _view(self, enc: Encoded) -> tuple[torch.Tensor, torch.Tensor]:
        """The networks' ``(n, width)`` rows of an encoded table and their ``(n, n_view_cat)`` class codes."""
        classes, u = self.numbers_.encode(np.nan_to_num(enc.x_num))
        codes = np.concatenate([classes, np.asarray(enc.x_cat, dtype=np.int64)], axis=1)
        view = Encoded(self._offsets(u).astype(np.float32), codes, self.numbers_.layout_view)
        return self._blank_fillers(self.view_codec_.rows(view)), torch.from_numpy(np.ascontiguousarray(codes))

    def _view_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """The encoded table's column mask ``(n, n_cols)`` -> the view's ``(n, n_view_cols)``."""
        return mask[:, self.numbers_.column]

    def _view_forbid(self, forbid: torch.Tensor | None) -> torch.Tensor | None:
        """Forbidden missing codes of the categories -> of the view's classes (numbers' classes never are)."""
        if forbid is None:
            return None
        return torch.cat([torch.zeros((forbid.shape[0], self.numbers_.n_num), dtype=torch.bool), forbid], dim=1)

    def _build_quietly(self) -> None:
        # a table whose columns are all unmodelled (constant, id, text) gives zero-width
        # layers; torch warns that initialising them is a no-op, which is expected here
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            self._build()

    def sample(self, n: int, *, given: Encoded | None = None, rng: np.random.Generator) -> Encoded:

        check_given(given, n)
        lay = self.layout_
        x_num = np.empty((n, lay.n_num), dtype=np.float32)
        x_cat = np.empty((n, lay.n_cat), dtype=np.int64)
        with seeded(rng) as gen, torch.no_grad():
            for start in range(0, n, self.sample_chunk):
                stop = min(n, start + self.sample_chunk)
                k = stop - start
                if given is None:
                    rows = torch.zeros((k, self.view_codec_.width))
                    mask = torch.zeros((k, self.codec_.n_cols))
                    forbid = None
                else:
                    part = given.take(np.arange(start, stop))
                    rows, _ = self._view(part)
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
        extra_meta, extra_arrays = self._extra_state()
        arrays: dict[str, np.ndarray] = {**self.numbers_.to_arrays("numbers"), **extra_arrays}
        for name in self._nets:
            arrays.update(state_to_arrays(getattr(self, name), name))
        meta = {"layout": self.layout_.to_dict(), "history": self.history_, **extra_meta}
        return meta, arrays

    @classmethod
    def from_state(cls, params: dict, meta: dict, arrays: dict[str, np.ndarray]):
        params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
        self = cls(**params)
        self.layout_ = Layout.from_dict(meta["layout"])
        self.codec_ = RowCodec(self.layout_)
        self.numbers_ = NumberView.from_arrays(self.layout_, int(self.bins), arrays, "numbers", self._tail_bins)
        self._view_setup()
        self.history_ = meta.get("history", [])
        self.low_precision_ = low_precision(check_precision(self))
        self._load_extra_state(meta, arrays)
        with torch.random.fork_rng(devices=[]):  # initial weights are overwritten; keep global RNG as it was
            self._build_quietly()
        for name in self._nets:
            net = getattr(self, name)
            load_arrays(net, name, arrays)
            net.eval()
        return self
