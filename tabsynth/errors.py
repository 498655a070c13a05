"""One exception family for everything a user can get wrong.

Every message names the column, file or option at fault and says what to do.
The CLI prints ``error: <message>`` on one line and exits with code 2.
"""

from __future__ import annotations


class TabsynthError(Exception):
    """Base class of all errors raised by tabsynth for bad input or state."""


class InputError(TabsynthError, ValueError):
    """The data given (table, column, option value) cannot be used as is."""


class FileFormatError(TabsynthError, ValueError):
    """A file is missing, unreadable, of an unknown format, or corrupt."""


class NotFittedError(TabsynthError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""
