"""One exception family for everything a user can get wrong.

Every message names the column, file or option at fault and says what to do.
The CLI prints ``error: <message>`` on one line and exits with code 2.
"""

from __future__ import annotations

import re
from collections.abc import Callable


class TabsynthError(Exception):
    """Base class of all errors raised by tabsynth for bad input or state."""


class InputError(TabsynthError, ValueError):
    """The data given (table, column, option value) cannot be used as is."""


class FileFormatError(TabsynthError, ValueError):
    """A file is missing, unreadable, of an unknown format, or corrupt."""


class NotFittedError(TabsynthError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ParameterError(InputError):
    """A parameter of a public function or estimator has a bad value, or two parameters do not go together.

    ``template`` names parameters as ``{name}`` (the name) or ``{name=}`` (the name and its value);
    ``values`` maps each named parameter to its value. ``str(error)`` spells them as Python does
    (``rows=-1``); :meth:`render` spells them otherwise, e.g. as command-line options (``--rows -1``).

    >>> e = ParameterError("{rows=}: give an integer >= 0", {"rows": -1})
    >>> str(e), e.render(lambda name: "--" + name)
    ('rows=-1: give an integer >= 0', '--rows -1: give an integer >= 0')
    """

    def __init__(self, template: str, values: dict):
        self.template = template
        self.values = dict(values)
        super().__init__(self.render())

    def render(self, spell: Callable[[str], str] | None = None) -> str:
        """The message with each parameter named by ``spell(name)`` (default: the Python name)."""

        def one(m: re.Match) -> str:
            name, with_value = m.group(1), m.group(2)
            if name not in self.values:
                return m.group(0)
            if spell is None:
                return f"{name}={self.values[name]!r}" if with_value else name
            value = self.values[name]
            return f"{spell(name)} {value if isinstance(value, str) else repr(value)}" if with_value else spell(name)

        return re.sub(r"\{(\w+)(=?)\}", one, self.template)


def value_error(name: str, text: str, value: object = None) -> InputError:
    """The error ``"<name>: <text>"`` about parameter ``name``.

    A Python parameter name (``"target"``) gives a :class:`ParameterError`, which the command line prints with
    its option (``--target``); a name that is already an option (``"--columns"``) or a phrase gives a plain
    :class:`InputError`.

    >>> type(value_error("target", "unknown column 'x'")).__name__, str(value_error("--columns", "none given"))
    ('ParameterError', '--columns: none given')
    """
    if name.isidentifier():
        return ParameterError("{" + name + "}: " + text, {name: value})
    return InputError(f"{name}: {text}")
