"""A continued fit (warm_start=True, partial_fit) on every estimator: it checks new data against the first fit.

The continue-a-fit state is a plain boolean (``_continues_fit``); these tests
hold the behaviour it must keep on every registered estimator, from the
instance generator of sk_ssl/_testing.py.
"""

import numpy as np
import pytest

from sk_ssl import MILMultitaskClassifier
from sk_ssl._testing import _fit_args, _tested_estimators

CASES = dict(_tested_estimators())
HINT = "continues training the fitted model here"


def _rows(n=48, d=6, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d)).astype(np.float32)


def _fresh(name):
    return dict(_tested_estimators())[name].set_params(max_epochs=1)


@pytest.mark.parametrize("name", list(CASES))
def test_warm_start_keeps_validating_against_the_first_fit(name):
    est = _fresh(name).set_params(warm_start=True)
    est.fit(*_fit_args(est, _rows()))
    module, n_iter = est.module_, est.n_iter_
    with pytest.raises(ValueError, match=HINT) as info:
        est.fit(*_fit_args(est, _rows(d=8)))
    assert "warm_start=False" in str(info.value)
    assert est.module_ is module and est.n_iter_ == n_iter and est.n_features_in_ == 6  # nothing lost
    est.fit(*_fit_args(est, _rows(seed=1)))  # the first fit's layout continues
    assert est.module_ is module and est.n_iter_ == n_iter + 1


@pytest.mark.parametrize("name", [name for name, est in CASES.items() if hasattr(est, "partial_fit")])
def test_partial_fit_keeps_validating_against_the_first_chunk(name):
    est = _fresh(name).partial_fit(_rows())
    with pytest.raises(ValueError, match=HINT):
        est.partial_fit(_rows(d=8))
    assert est.n_iter_ == 1 and est.n_features_in_ == 6
    est.partial_fit(_rows(seed=1))
    assert est.n_iter_ == 2


@pytest.mark.parametrize("name", list(CASES))
def test_a_fit_from_scratch_takes_a_new_layout(name):
    est = _fresh(name)
    est.fit(*_fit_args(est, _rows()))
    est.fit(*_fit_args(est, _rows(d=8)))  # warm_start=False: a new model, no hint, no error
    assert est.n_features_in_ == 8 and est.n_iter_ == 1


def test_mil_continued_fit_on_one_bag_checks_the_first_fit_features():
    est = _fresh("MILMultitaskClassifier").set_params(warm_start=True)
    assert isinstance(est, MILMultitaskClassifier)
    est.fit(*_fit_args(est, _rows()))
    bags, y = _fit_args(est, _rows(n=4, d=8))  # one bag of the wrong width
    assert len(bags) == 1
    with pytest.raises(ValueError, match=HINT):
        est.fit(bags, y)
    bags, y = _fit_args(est, _rows(n=4, seed=1))  # one bag of the first fit's width: a continued fit takes it
    est.fit(bags, y)
    assert est.n_iter_ == 2 and est.n_features_in_ == 6
