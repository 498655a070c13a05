"""Independent jobs spread over the idle cores: this process and helper processes.

:func:`spread` runs a list of jobs (a module-level function and its
arguments each) and returns their results in the jobs' order. This process
takes jobs from the front of the list while helper processes (joblib's loky
workers: fresh interpreters that never re-run the caller's script, so a
script needs no ``if __name__ == "__main__"`` guard) take the next ones; so
the work of several scikit-learn fits, whose Python parts hold the GIL,
runs on several cores at once.

How many at once: with a thread count set (:func:`tabsynth.set_threads`,
``TABSYNTH_THREADS``, ``--threads``) that many; otherwise the cores other
processes leave idle (:class:`tabsynth._threads.CoreMeter`), so a busy
machine runs the jobs one after the other in this process, as before. Each
job's native code gets ``max(1, threads // width)`` threads, so the machine is
never oversubscribed. Jobs are seeded and computed alike in any process, so
the results never depend on the count (tested).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from joblib.externals.loky import get_reusable_executor
from threadpoolctl import threadpool_limits

from ._threads import CoreMeter, auto_threads, get_threads, is_set, local_threads, set_threads, usable_cpus

#: a helper process left idle this many seconds exits (the next run starts a new one)
IDLE_SECONDS = 60
#: the idle cores are measured over at least this many seconds before the jobs start
WINDOW = 0.1
#: a job whose arguments hold more bytes than this is not sent to a helper (the copy would cost more than
#: the core gains): it runs in this process, beside the others
HELPER_MAX_BYTES = 256 * 2**20

Job = tuple[Callable[..., Any], tuple]


def _in_helper(threads: int, func: Callable[..., Any], args: tuple) -> tuple[bool, Any]:
    """Run one job in a helper process with ``threads`` native threads: ``(True, result)`` or ``(False, error)``."""
    set_threads(threads)
    with threadpool_limits(limits=threads):
        try:
            return True, func(*args)
        except Exception as exc:  # the job's own error: raised again by the caller, as if run here
            return False, exc


def _width(n_jobs: int, meter: CoreMeter | None = None) -> int:
    """How many of ``n_jobs`` jobs run at once: the set thread count, or the idle cores (at least 1)."""
    if n_jobs <= 1:  # nothing to measure
        return 1
    if is_set():
        cap = get_threads()
    else:
        meter = meter or CoreMeter()
        time.sleep(max(0.0, WINDOW - meter.age()))
        cap = min(usable_cpus(), auto_threads(meter.free()))
    return max(1, min(cap, n_jobs))


def payload_bytes(obj: Any) -> int:
    """Bytes of the arrays, sparse matrices and frames in ``obj`` (tuples, lists and dicts looked into).

    Examples
    --------
    >>> import numpy as np
    >>> payload_bytes((np.zeros(10), [np.zeros((2, 3), dtype="float32")], "text"))
    104
    """
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, (tuple, list)):
        return sum(payload_bytes(v) for v in obj)
    if isinstance(obj, dict):
        return sum(payload_bytes(v) for v in obj.values())
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return int(obj.memory_usage(index=False, deep=False).sum()) if isinstance(obj, pd.DataFrame) \
            else int(obj.memory_usage(index=False, deep=False))
    if all(hasattr(obj, a) for a in ("data", "indices", "indptr")):  # scipy CSR / CSC
        return payload_bytes((obj.data, obj.indices, obj.indptr))
    return 0


def _load(modules: tuple[str, ...]) -> None:
    for name in modules:
        importlib.import_module(name)


def start(modules: Sequence[str] = (), meter: CoreMeter | None = None, most: int | None = None) -> int:
    """Decide now how many jobs run at once (:func:`_width`) and start the helper processes in the background.

    Each helper imports ``modules`` while the caller prepares its jobs, so they take jobs at once
    when :func:`spread` (given the returned ``width``) hands them out.
    """
    k = _width(most or usable_cpus(), meter)
    if k > 1:
        executor = _executor(k - 1)
        if executor is None:
            return 1
        try:  # (loky starts its processes here)
            for _ in range(k - 1):
                executor.submit(_load, tuple(modules))
        except Exception:
            return 1
    return k


def _executor(workers: int) -> Any:
    """The helper processes (reused from an earlier run while they live), or None if none can start here."""
    try:
        return get_reusable_executor(max_workers=workers, timeout=IDLE_SECONDS)
    except Exception:  # a platform or sandbox without subprocesses: every job runs in this process
        return None


def spread(jobs: Sequence[Job], *, width: int | None = None, meter: CoreMeter | None = None,
           done: Callable[[int], None] | None = None, costs: Sequence[float] | None = None) -> list[Any]:
    """``func(*args)`` for every job ``(func, args)``, results in the jobs' order, several at once on idle cores.

    Parameters
    ----------
    jobs : sequence of (callable, tuple)
        Module-level functions and their (picklable) arguments; each must
        give the same result in any process (seeded). Taken in order, or by
        ``costs``.
    width : int or None
        Jobs at once, as :func:`start` returned (default: the idle cores, measured now).
    meter : CoreMeter or None
        Without ``width``: a meter started earlier (its first reading then
        spans that work); default: a new one, read after :data:`WINDOW` seconds.
    done : callable or None
        Called with the number of finished jobs after each one (from
        several threads, one at a time).
    costs : sequence of float or None
        Each job's expected cost: the dearest are handed out first (the
        results still come in the jobs' order).

    Returns
    -------
    list
        The jobs' results. A job's error is raised here, after the running
        jobs finish; a helper process that dies (killed, out of memory) has
        its job run again in this process.

    Examples
    --------
    >>> import math
    >>> spread([(math.sqrt, (4.0,)), (math.pow, (2.0, 3))])
    [2.0, 8.0]
    """
    n = len(jobs)
    k = 1 if n <= 1 else min(n, width) if width is not None else _width(n, meter)
    order = list(range(n)) if costs is None else sorted(range(n), key=lambda i: -costs[i])
    # the pool keeps the size :func:`start` gave it (resizing waits for its warm-up jobs); k - 1 of it is used
    outcomes = _Run([jobs[i] for i in order], k, done, pool=max(k, width or k) - 1).run()
    results: list[Any] = [None] * n
    for i, out in zip(order, outcomes):
        results[i] = out
    return results


class _Run:
    """One :func:`spread`: a queue of jobs taken in order by this process and ``k - 1`` helpers."""

    def __init__(self, jobs: Sequence[Job], k: int, done: Callable[[int], None] | None, pool: int) -> None:
        self.jobs, self.k, self.done, self.pool = jobs, k, done, pool
        self.inner = max(1, get_threads() // k)  # native threads of each job
        self.results: list[Any] = [None] * len(jobs)
        self.errors: list[BaseException | None] = [None] * len(jobs)
        self.lock = threading.Lock()
        self.next = self.finished = 0
        self.stop = False

    def take(self) -> int | None:
        with self.lock:
            if self.stop or self.next >= len(self.jobs):
                return None
            self.next += 1
            return self.next - 1

    def finish(self, i: int, ok: bool, value: Any) -> None:
        with self.lock:
            if ok:
                self.results[i] = value
            else:
                self.errors[i] = value
                self.stop = True  # a failed job: the others already running finish, no new one starts
            self.finished += 1
            if self.done is not None:
                self.done(self.finished)

    def run_here(self, i: int) -> None:
        func, args = self.jobs[i]
        try:
            value = func(*args)
        except Exception as exc:
            self.finish(i, False, exc)
        else:
            self.finish(i, True, value)

    def helper(self, executor: Any) -> None:
        """Hand jobs to one helper process, one at a time, until none is left (or the run stops)."""
        with local_threads(self.inner):  # a job run in this thread (below) keeps its share of the threads
            while (i := self.take()) is not None:
                func, args = self.jobs[i]
                if payload_bytes(args) > HELPER_MAX_BYTES:  # too big to copy: run here, in this thread
                    self.run_here(i)
                    continue
                try:
                    ok, value = executor.submit(_in_helper, self.inner, func, args).result()
                except Exception as exc:  # the helper process itself failed: run the job here, unless stopping
                    if self.stop:
                        self.finish(i, False, exc)
                    else:
                        self.run_here(i)
                except BaseException as exc:  # (an interrupt or exit raised in the helper) never lost
                    self.finish(i, False, exc)
                else:
                    self.finish(i, ok, value)

    def run(self) -> list[Any]:
        threads = []
        executor = _executor(self.pool) if self.k > 1 else None
        if executor is not None:
            threads = [threading.Thread(target=self.helper, args=(executor,), daemon=True,
                                        name=f"tabsynth-spread-{j}") for j in range(self.k - 1)]
        with local_threads(self.inner), threadpool_limits(limits=self.inner):
            for t in threads:
                t.start()
            try:
                while (i := self.take()) is not None:
                    self.run_here(i)
            finally:
                with self.lock:
                    self.stop = True
                for t in threads:
                    t.join()
        for e in self.errors:
            if e is not None:
                raise e
        return self.results
