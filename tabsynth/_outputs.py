"""Plan, stage and commit a command's outputs, so that no user data is ever lost.

Every command that writes files goes through one :class:`OutputPlan`:

1. **plan** (before any reading or fitting): each output path is resolved
   (symlinks too) and checked against every input and every other output, its
   directory must exist and be writable, and it must not be a directory. A
   clash is one :class:`~tabsynth.errors.InputError` naming both options.
2. **stage**: each output is written to a hidden temporary file beside its
   target (``.<name>.<random>.tmp``), registered so that it is removed
   whatever happens (an exception, Ctrl-C, ``SIGTERM``, ``SIGHUP``).
3. **commit**: only when every output was staged are they renamed into place.
   A failure before that leaves nothing behind: no partial file, no output at
   all, and no temporary file.

:func:`install_signal_handlers` (called by the CLI) turns ``SIGTERM`` and
``SIGHUP`` into a :class:`Terminated` exception, so the clean-up above runs
on ``kill`` too, not only on Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

_TEMPS: set[str] = set()


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM or SIGHUP."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def register_temp(path: str | os.PathLike) -> None:
    """Remember a temporary file, to be removed if the process ends before it is renamed."""
    _TEMPS.add(os.fspath(path))


def unregister_temp(path: str | os.PathLike) -> None:
    _TEMPS.discard(os.fspath(path))


def cleanup_temps() -> None:
    """Remove every registered temporary file or directory (renamed ones are no longer registered)."""
    for p in list(_TEMPS):
        with contextlib.suppress(OSError):
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        _TEMPS.discard(p)


atexit.register(cleanup_temps)


def _raise_terminated(signum: int, _frame) -> None:
    raise Terminated(signum)


def install_signal_handlers() -> None:
    """Make SIGTERM / SIGHUP raise :class:`Terminated` (main thread only; a no-op elsewhere)."""
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread / not supported
            signal.signal(sig, _raise_terminated)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (after resolving symlinks; hard links too)."""
    pa, pb = Path(a).resolve(), Path(b).resolve()
    if pa == pb:
        return True
    try:
        return os.path.samefile(pa, pb)
    except OSError:
        return False


@dataclass
class _Output:
    path: Path
    option: str
    check: Callable[[Path], None] | None = None
    staged: Path | None = None


class OutputPlan:
    """The outputs of one command: checked up front, written together or not at all.

    Parameters
    ----------
    inputs : dict of str to path
        Every file the command reads, keyed by the option that names it
        (``"INPUT"``, ``"--model"``, ...). ``None`` values are skipped.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from tabsynth._outputs import OutputPlan
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "in.csv").write_text("a\\n1\\n")
    4
    >>> plan = OutputPlan({"INPUT": d / "in.csv"})
    >>> plan.add(d / "in.csv", "-o")
    Traceback (most recent call last):
    tabsynth.errors.InputError: -o '...in.csv' is the same file as INPUT; choose another path
    >>> out = plan.add(d / "out.txt", "-o")
    >>> with plan.writing():
    ...     _ = plan.stage(out).write_text("hello")
    >>> out.read_text()
    'hello'
    """

    def __init__(self, inputs: dict[str, str | os.PathLike | None] | None = None):
        self.inputs = {k: Path(v) for k, v in (inputs or {}).items() if v is not None}
        self.outputs: list[_Output] = []

    def add(self, path: str | os.PathLike | None, option: str,
            check: Callable[[Path], None] | None = None) -> Path | None:
        """Plan one output; raise :class:`InputError` if it would overwrite an input or another output.

        ``check(path)`` may validate more (e.g. the table format of the extension).
        """
        if path is None:
            return None
        p = Path(path)
        if check is not None:
            check(p)
        for opt, src in self.inputs.items():
            if same_file(p, src):
                raise InputError(f"{option} '{p}' is the same file as {opt}; choose another path")
        for other in self.outputs:
            if same_file(p, other.path):
                raise InputError(f"{option} '{p}' is the same file as {other.option}; give each output its own path")
        if p.is_dir():
            raise InputError(f"{option} '{p}' is a directory; give a file path")
        directory = p.parent if str(p.parent) else Path(".")
        if not directory.is_dir():
            raise InputError(f"{option}: the directory '{directory}' of '{p}' does not exist; create it first")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise InputError(f"{option}: the directory '{directory}' is not writable; choose another path")
        if p.exists() and not os.access(p, os.W_OK):
            raise InputError(f"{option} '{p}' exists and is read-only; choose another path")
        self.outputs.append(_Output(p, option, check))
        return p

    def _get(self, path: str | os.PathLike) -> _Output:
        for o in self.outputs:
            if o.path == Path(path):
                return o
        raise KeyError(path)  # a programming error: every output must be planned

    def stage(self, path: str | os.PathLike) -> Path:
        """A temporary file beside the planned ``path`` to write it to (inside :meth:`writing`)."""
        o = self._get(path)
        directory = o.path.parent if str(o.path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{o.path.name}.", suffix=".tmp", dir=directory)
        os.close(fd)
        register_temp(tmp)
        o.staged = Path(tmp)
        return o.staged

    @contextlib.contextmanager
    def writing(self) -> Iterator[OutputPlan]:
        """Stage outputs in the block; on success rename them all into place, on any failure remove them."""
        try:
            yield self
            umask = os.umask(0)
            os.umask(umask)
            for o in self.outputs:
                if o.staged is not None:
                    os.chmod(o.staged, 0o666 & ~umask)  # mkstemp makes 0600; give what open() would
            for o in self.outputs:
                if o.staged is not None:
                    os.replace(o.staged, o.path)
                    unregister_temp(o.staged)
                    o.staged = None
        finally:
            for o in self.outputs:
                if o.staged is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(o.staged)
                    unregister_temp(o.staged)
                    o.staged = None
