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

The neural backends' training is the exception: unless a count is set, it
uses the cores that other processes leave idle (:class:`CoreMeter`, at most
:data:`AUTO_MAX`), measured when training starts and again about every half
second, so a fit takes the idle cores of a big machine and gives them back
within half a second when other work arrives. It does so only where torch's
results cannot depend on the count (:func:`torch_invariant`: MKL in its strict
reproducible mode, which ``import tabsynth`` asks for before torch's first
product); elsewhere training keeps :func:`get_threads`. So the same seed gives
the same model on one thread or four (tested). Sampling is the other: blocks of rows are drawn on
the idle cores at once (:func:`ordered_map`; each block seeded by its
position, so the same rows whatever the count), each block's native code
still on :func:`get_threads` threads. ``evaluate`` is the third: its fits
and sections are jobs spread over the idle cores in helper processes
(:mod:`tabsynth._spread`), each job's native code on one thread.
"""

from __future__ import annotations

import collections
import concurrent.futures
import ctypes
import functools
import glob
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

from .errors import InputError

ENV = "TABSYNTH_THREADS"
_setting: int | None = None
_lock = threading.Lock()
_depth = 0  # limited() blocks open, in every thread
_restore: Callable[[], None] | None = None
_local = threading.local()  # a count for one thread's work (local_threads), over the setting

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
R = TypeVar("R")
_END = object()


def _check(n: Any, what: str) -> int:
    try:
        value = int(n)
    except (TypeError, ValueError):
        value = 0
    if isinstance(n, bool) or value < 1 or (isinstance(n, float) and not float(n).is_integer()):
        raise InputError(f"{what} must be a positive whole number of threads, got {n!r}")
    return value


def set_threads(n: int | None) -> None:
    """Set the threads of tabsynth's native work (``None``: back to the default, ``TABSYNTH_THREADS`` or 1).

    Parameters
    ----------
    n : int or None
        Threads (at least 1), or None for the default.

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


def is_set() -> bool:
    """Whether a thread count was asked for (:func:`set_threads` or ``TABSYNTH_THREADS``)."""
    return _setting is not None or bool(os.environ.get(ENV))


def get_threads() -> int:
    """The number of threads tabsynth's native work uses now (in this thread)."""
    local = getattr(_local, "n", None)
    if local is not None:
        return local
    if _setting is not None:
        return _setting
    env = os.environ.get(ENV)
    if env:
        return _check(env, ENV)
    return 1


@contextmanager
def local_threads(n: int) -> Iterator[int]:
    """Within the block, :func:`get_threads` is ``n`` in the calling thread only (other threads keep theirs).

    Examples
    --------
    >>> with local_threads(3):
    ...     get_threads()
    3
    """
    old = getattr(_local, "n", None)
    _local.n = _check(n, "threads")
    try:
        yield _local.n
    finally:
        _local.n = old


@contextmanager
def limited() -> Iterator[int]:
    """Run a block with every native thread pool (and torch, if loaded) at :func:`get_threads`.

    Nested uses are free, in one thread or several (the sampler's worker threads): the first to enter
    changes the pools, the last to leave restores them.
    """
    global _depth, _restore
    with _lock:
        _depth += 1
        if _depth == 1:
            n = get_threads()
            torch = sys.modules.get("torch")
            old = torch.get_num_threads() if torch is not None else None
            limiter = threadpool_limits(limits=n)
            if torch is not None:
                torch.set_num_threads(n)

            def restore(limiter=limiter, torch=torch, old=old) -> None:
                limiter.restore_original_limits()
                if torch is not None and old is not None:
                    torch.set_num_threads(old)

            _restore = restore
    try:
        yield get_threads()
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore is not None:
                _restore()
                _restore = None


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


#: the neural backends' automatic thread count is at most this (their matrices are small: 500 x 256)
AUTO_MAX = 4
#: seconds between two measurements of the idle cores while training
AUTO_INTERVAL = 0.5


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity, within a cgroup CPU quota if there is one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def _busy_seconds() -> float | None:
    """CPU seconds spent by every process on the machine (Linux ``/proc/stat``), or ``None``."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 8:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
    steal = int(fields[8]) if len(fields) > 8 else 0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system


class CoreMeter:
    """Cores that other processes leave idle, measured between two readings.

    The machine's CPU time (``/proc/stat``) minus this process's own (``os.times``)
    over the wall time between readings is the other processes' load in cores; the
    usable CPUs (:func:`usable_cpus`) minus that load are free for us. On systems
    without ``/proc/stat`` every reading is ``None`` (callers then keep one thread).

    Examples
    --------
    >>> meter = CoreMeter()
    >>> free = meter.free()  # None or a number of cores between 0 and usable_cpus()
    """

    def __init__(self) -> None:
        self.cpus = usable_cpus()
        self._last = self._reading()

    @staticmethod
    def _reading() -> tuple[float, float, float] | None:
        busy = _busy_seconds()
        return None if busy is None else (time.monotonic(), busy, _own_seconds())

    def age(self) -> float:
        """Seconds since the previous reading."""
        return time.monotonic() - self._last[0] if self._last is not None else 0.0

    def free(self) -> float | None:
        """Cores left idle by other processes since the previous reading (``None``: unknown)."""
        now = self._reading()
        last, self._last = self._last, now
        if now is None or last is None or now[0] - last[0] <= 0:
            return None
        others = ((now[1] - last[1]) - (now[2] - last[2])) / (now[0] - last[0])
        return float(min(self.cpus, max(0.0, self.cpus - others)))


def auto_threads(free: float | None) -> int:
    """Threads for ``free`` idle cores: as many whole ones as are free (at least 1, at most :data:`AUTO_MAX`)."""
    if free is None:
        return 1
    return int(max(1, min(AUTO_MAX, math.floor(free + 0.25))))


#: MKL's ``MKL_CBWR_STRICT`` flag (mkl_service.h): results independent of the thread count
_MKL_STRICT = 0x10000


@functools.lru_cache(maxsize=1)
def torch_invariant() -> bool:
    """Whether torch's products give the same bits on any thread count here.

    True when torch's MKL runs in its strict reproducible mode (``MKL_CBWR=AUTO,STRICT``, set by
    ``import tabsynth`` unless the variable was set before, and only effective if torch had not
    multiplied matrices yet). Without MKL, or in another mode, a product's sums may split across
    threads (a VAE trained on one thread and on two then differs in the last bits), so training
    keeps the fixed count of :func:`get_threads`.
    """
    import torch

    if not torch.backends.mkl.is_available():
        return False
    for path in glob.glob(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.*")):
        try:
            get = ctypes.CDLL(path).mkl_serv_cbwr_get
        except (OSError, AttributeError):
            continue
        get.restype = ctypes.c_int
        return bool(get(ctypes.c_int(-1)) & _MKL_STRICT)  # -1: MKL_CBWR_ALL, the branch and the flags
    return False


class AdaptiveThreads:
    """Torch's thread count for a training run: the set count, or the idle cores, re-measured as it runs.

    ``start()`` measures over ``window`` seconds and sets torch's threads; ``check()``
    (called between steps) re-measures at most every :data:`AUTO_INTERVAL` seconds and
    changes the count when the idle cores changed. With a count set by the user both
    are that count, and so where torch's results could depend on the count (:func:`torch_invariant`).
    ``counts`` records every count used (for benchmarks).
    """

    def __init__(self, window: float = 0.1) -> None:
        self.window = window
        self.fixed = get_threads() if is_set() or not torch_invariant() else None
        self.meter: CoreMeter | None = None
        self.counts: list[int] = []
        self._next = 0.0

    def _set(self, n: int) -> None:
        import torch

        if not self.counts or self.counts[-1] != n:
            self.counts.append(n)
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)

    def start(self) -> int:
        if self.fixed is not None:
            self._set(self.fixed)
            return self.fixed
        self.meter = CoreMeter()
        time.sleep(self.window)
        n = auto_threads(self.meter.free())
        self._set(n)
        self._next = time.monotonic() + AUTO_INTERVAL
        return n

    def check(self) -> None:
        if self.meter is None or time.monotonic() < self._next:
            return
        self._set(auto_threads(self.meter.free()))
        self._next = time.monotonic() + AUTO_INTERVAL


def ordered_map(func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``func(item)`` for each item, yielded in the items' order, several computed at once on idle cores.

    With a thread count set (:func:`set_threads`, ``TABSYNTH_THREADS``, ``--threads``) that many items run
    at once; otherwise as many as other processes leave cores idle (:class:`CoreMeter`, measured while the
    first item runs in the calling thread, then again about every :data:`AUTO_INTERVAL` seconds; at most
    :func:`usable_cpus` and :data:`AUTO_MAX`). ``func`` must give the same result in any thread (the
    sampler's blocks are each seeded by their index), so the results never depend on the count. At most
    that many results are computed ahead of the consumer, so memory stays that of a few items.

    Examples
    --------
    >>> list(ordered_map(lambda x: x * x, range(5)))
    [0, 1, 4, 9, 16]
    """
    todo = iter(items)
    fixed = get_threads() if is_set() else None
    cap = fixed if fixed is not None else min(usable_cpus(), AUTO_MAX)
    meter = CoreMeter() if fixed is None else None
    if cap <= 1:
        yield from map(func, todo)
        return
    if meter is not None:  # the first item in this thread, while the meter measures the other processes' load
        first = next(todo, _END)
        if first is _END:
            return
        yield func(first)  # type: ignore[arg-type]
    pending: collections.deque = collections.deque()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=cap, thread_name_prefix="tabsynth")
    width, next_check = (cap, math.inf) if meter is None else (auto_threads(meter.free()), 0.0)
    try:
        while True:
            if meter is not None and time.monotonic() >= next_check:
                width, next_check = min(cap, auto_threads(meter.free())), time.monotonic() + AUTO_INTERVAL
            while len(pending) < width:
                item = next(todo, _END)
                if item is _END:
                    break
                pending.append(pool.submit(func, item))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
