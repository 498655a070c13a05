"""Native thread pools (BLAS, OpenMP, torch) sized to the work, never oversubscribed.

tabsynth's models are small: a second thread gains little on an idle machine
(measured on 2 cores: GMM fit on adult 30.4 s with one thread, 28.9 s with
two; the VAE 6.7 s vs 5.4 s), while on a machine whose cores are busy with
other work, spinning OpenMP / BLAS threads cost 10-20x (a 400-row
``augment --report``: 8.6 s idle, 202 s with two other CPU-bound processes
and default threads, 12 s with one thread). So every public entry point runs
its native code with **one thread by default**; ask for more with
:func:`set_threads`, the ``TABSYNTH_THREADS`` environment variable or the CLI's
``--threads``. The setting applies to every thread pool threadpoolctl finds
(OpenBLAS / MKL / OpenMP in numpy, scipy and scikit-learn) and to torch.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

from .errors import InputError

ENV = "TABSYNTH_THREADS"
_setting: int | None = None
_active = False

F = TypeVar("F", bound=Callable[..., Any])


def _check(n: Any, what: str) -> int:
    try:
        value = int(n)
    except (TypeError, ValueError):
        value = 0
    if isinstance(n, bool) or value < 1 or (isinstance(n, float) and not float(n).is_integer()):
        raise InputError(f"{what} must be a positive whole number of threads, got {n!r}")
    return value


def set_threads(n: int | None) -> None:
    """Threads for tabsynth's native work (``None``: back to the default, ``TABSYNTH_THREADS`` or 1).

    Examples
    --------
    >>> import tabsynth
    >>> tabsynth.set_threads(2); tabsynth.get_threads()
    2
    >>> tabsynth.set_threads(None); tabsynth.get_threads()
    1
    """
    global _setting
    _setting = None if n is None else _check(n, "threads")


def get_threads() -> int:
    """The number of threads tabsynth's native work uses now."""
    if _setting is not None:
        return _setting
    env = os.environ.get(ENV)
    if env:
        return _check(env, ENV)
    return 1


@contextmanager
def limited() -> Iterator[int]:
    """Run a block with every native thread pool (and torch, if loaded) at :func:`get_threads`.

    Nested uses are free: only the outermost one changes the pools.
    """
    global _active
    if _active:
        yield get_threads()
        return
    n = get_threads()

    torch = sys.modules.get("torch")
    old = torch.get_num_threads() if torch is not None else None
    _active = True
    try:
        with threadpool_limits(limits=n):
            if torch is not None:
                torch.set_num_threads(n)
            yield n
    finally:
        _active = False
        if torch is not None and old is not None:
            torch.set_num_threads(old)


def torch_threads() -> None:
    """Give torch the current thread count (for code that imports torch inside a limited block)."""
    import torch

    if torch.get_num_threads() != get_threads():
        torch.set_num_threads(get_threads())


def limits_threads(func: F) -> F:
    """Decorator: run ``func`` inside :func:`limited`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with limited():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
