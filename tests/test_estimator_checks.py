"""scikit-learn's and imbalanced-learn's estimator checks on the estimators.

``GenerativeImputer`` runs scikit-learn's checks in ``test_impute.py``. Small settings keep them fast: the gmm
backend with two components and few EM iterations.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from tabsynth import GenerativeOverSampler, Synthesizer
from tabsynth.errors import InputError

FAST = {"n_components": 2, "max_iter": 20}


@parametrize_with_checks([Synthesizer("gmm", random_state=0, **FAST),
                          GenerativeOverSampler("gmm", random_state=0, backend_params=FAST)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_backend_parameters_stored_as_given():
    syn = Synthesizer("gmm", n_components=20)
    assert syn.get_params()["n_components"] == 20 and "n_components" not in vars(syn)  # no attribute set in init
    twin = clone(syn)
    assert twin.get_params() == syn.get_params()
    syn.set_params(n_components=3, random_state=1)
    assert syn.get_params()["n_components"] == 3 and syn.random_state == 1
    with pytest.raises(InputError, match="unknown parameter 'epochs'"):
        syn.set_params(epochs=3)
    assert Synthesizer(backend="nope", n_components=2).set_params(anything=1).get_params()["anything"] == 1
    with pytest.raises(InputError, match="backend: unknown backend 'nope'"):
        Synthesizer(backend="nope").fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))


def test_synthesizer_fits_arrays():
    import numpy as np

    X = np.random.default_rng(0).normal(size=(60, 2))
    out = Synthesizer("gmm", random_state=0, **FAST).fit(X).sample(5, seed=0)
    assert list(out.columns) == ["x0", "x1"] and len(out) == 5


# ------------------------------------------------------------------ imbalanced-learn's checks
imblearn_checks = pytest.importorskip("imblearn.utils.estimator_checks",
                                      reason="imbalanced-learn (dev extra) has the sampler checks")


class _ImblearnTagged(GenerativeOverSampler):
    """The over-sampler with imbalanced-learn's tags, which its checks read (scikit-learn's tags have no
    ``dataframe`` field): a sampler taking DataFrames, strings and missing values."""

    def __sklearn_tags__(self):
        from imblearn.utils._tags import InputTags, SamplerTags, Tags
        from sklearn_compat.utils._tags import TargetTags

        tags = Tags(estimator_type="sampler", target_tags=TargetTags(required=True), transformer_tags=None,
                    regressor_tags=None, classifier_tags=None, sampler_tags=SamplerTags())
        tags.input_tags = InputTags(dataframe=True, string=True, allow_nan=True, categorical=True)
        return tags


#: imbalanced-learn's checks that ask for what the over-sampler does not do
IMBLEARN_EXPECTED_FAILURES = {
    "check_samplers_pandas": "a one-column DataFrame y comes back as a Series named by its column (as it always has)",
    "check_samplers_pandas_sparse": "sparse pandas columns are not modelled",
}


@imblearn_checks.parametrize_with_checks([_ImblearnTagged("gmm", random_state=0, backend_params=FAST)],
                                         expected_failed_checks=lambda est: IMBLEARN_EXPECTED_FAILURES)
def test_imblearn_sampler_checks(estimator, check):
    check(estimator)
