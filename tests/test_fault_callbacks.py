"""The engine's fault callbacks (sk_ssl/_faults.py) next to the callbacks a user passes."""

import warnings

import numpy as np
from skorch.callbacks import EarlyStopping

from sk_ssl import ContrastiveEmbedder
from sk_ssl._faults import _EarlyStopping
from sk_ssl.exceptions import TrainingInterruptedWarning


def _X(n=160, seed=0):
    return np.random.RandomState(seed).normal(size=(n, 8)).astype(np.float32)


def _fit(**params):
    est = ContrastiveEmbedder(n_components=4, batch_size=32, random_state=0, device="cpu", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        return est.fit(_X())


def test_a_users_skorch_early_stopping_is_no_interrupt():
    # The user's EarlyStopping (patience 1) stops long before the estimator's (patience 50): no warning.
    user = EarlyStopping(monitor="valid_loss", patience=1, load_best=True, sink=lambda *a, **k: None)
    est = _fit(max_epochs=40, learning_rate=0.05, early_stopping=True, n_iter_no_change=50, callbacks=[user])
    assert est.n_iter_ < 40


def test_early_stopping_keeps_skorchs_rule():
    """early_stopping=True stops where skorch's own EarlyStopping(valid_loss, load_best) would, with its best weights."""
    ours = _fit(max_epochs=40, learning_rate=0.05, early_stopping=True, n_iter_no_change=2)
    losses = np.asarray(ours.history_[:, "valid_loss"])
    # skorch's rule: a loss improves when below the best so far times (1 - 1e-4); stop after 2 misses in a row.
    bound, misses, stop = np.inf, 0, None
    for epoch, loss in enumerate(losses, 1):
        misses = 0 if loss < bound else misses + 1
        bound = loss * (1 - 1e-4) if misses == 0 else bound
        if misses == 2:
            stop = epoch
            break
    assert stop == ours.n_iter_ < 40


class _SharedEarlyStopping(_EarlyStopping):
    def __deepcopy__(self, memo):
        return self  # estimators deep-copy their callbacks per fit; keep this one readable


def test_own_early_stopping_says_it_stopped_and_keeps_the_best_epoch():
    stopper = _SharedEarlyStopping(patience=1)
    est = _fit(max_epochs=40, learning_rate=0.05, early_stopping=True, n_iter_no_change=50, callbacks=[stopper])
    assert stopper.stopped_
    best = int(np.argmin(est.history_[:, "valid_loss"])) + 1
    assert stopper.best_[0] == best < est.n_iter_  # the loss got worse after the best epoch, then it stopped
