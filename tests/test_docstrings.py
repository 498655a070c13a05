"""The public API's numpydoc docstrings, validated by numpydoc (as imbalanced-learn's and skrub's tests do).

Public: the names in ``tabsynth.__all__`` and ``tabsynth.evaluate.__all__``, and the public methods their
classes define. Every check of :func:`numpydoc.validate.validate` applies except :data:`IGNORED`.
"""

from __future__ import annotations

import inspect
import sys

import pytest

import tabsynth
import tabsynth.evaluate

validate = pytest.importorskip("numpydoc.validate", reason="numpydoc (dev extra) validates the docstrings").validate

#: numpydoc checks not required of every public object (sections we keep for where they help)
IGNORED = {
    "ES01",  # extended summary: many one-line summaries say it all
    "EX01",  # examples: the entry points have them; small accessors need none
    "SA01",  # See Also sections
    "PR07",  # a parameter without a description (e.g. ``y : ignored``)
    "RT01",  # Returns section: generators have Yields, ``fit`` returns self as sklearn's do
    "RT03",  # description of a return value whose type says it
}


def _public() -> list[str]:
    names = []
    for module in (tabsynth, tabsynth.evaluate):
        for n in module.__all__:
            obj = getattr(module, n)
            if n.startswith("__") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            names.append(f"{obj.__module__}.{obj.__qualname__}")
            if inspect.isclass(obj):
                names += [f"{obj.__module__}.{obj.__qualname__}.{m}" for m, f in vars(obj).items()
                          if not m.startswith("_") and (inspect.isfunction(f) or isinstance(f, (classmethod,
                                                                                               staticmethod)))]
    return sorted(set(names))


PUBLIC = _public()


def test_public_api_is_found():
    assert "tabsynth.synthesizer.Synthesizer.sample" in PUBLIC and "tabsynth.augmentation.augment" in PUBLIC
    assert "tabsynth.evaluate._core.evaluate" in PUBLIC and len(PUBLIC) > 40


@pytest.mark.parametrize("name", PUBLIC)
def test_numpydoc_docstring(name):
    errors = [f"{code}: {msg}" for code, msg in validate(name)["errors"] if code not in IGNORED]
    assert not errors, f"{name}:\n" + "\n".join(errors)


def test_validation_can_fail():
    def undocumented(a, b):
        """Add a and b.

        Parameters
        ----------
        a : int
            One.
        """
        return a + b

    module = sys.modules[__name__]
    module.undocumented = undocumented
    try:
        codes = {code for code, _ in validate(f"{__name__}.undocumented")["errors"]}
    finally:
        del module.undocumented
    assert "PR01" in codes
