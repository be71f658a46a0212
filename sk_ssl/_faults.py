"""Fault handling of the training engine, as two skorch callbacks.

:class:`_FaultGuard` is a default callback of the engine's net
(:class:`sk_ssl._engine._SSLNet`): it keeps the last epoch with finite
weights (a continued fit starts from the model it had), turns non-finite
weights into :class:`~sk_ssl.exceptions.TrainingDivergedError` and, after an
interrupt (Ctrl-C, or a callback raising ``KeyboardInterrupt``), restores
early stopping's best or the last completed epoch's weights.
:class:`_EarlyStopping` is the estimators' ``early_stopping=True``: skorch's
rule, keeping its best weights and saying whether it stopped the training,
so that its own stop is not taken for an interrupt.

Both keep their own state. The one contact with skorch's ``EarlyStopping``
is :func:`_stopper_state`, for an ``EarlyStopping`` a user passes in
``callbacks``: its stop is not an interrupt either, and its best weights are
kept after one.
"""

import copy

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

from .exceptions import TrainingDivergedError

_DIVERGED_FIX = (
    "training diverged. The usual causes are a learning_rate too high for this data or features with huge "
    "values: lower learning_rate (e.g. by 10x), scale the features (e.g. StandardScaler) and check X for huge "
    "values."
)


class _EarlyStopping(Callback):
    """Stop when ``valid_loss`` has not improved for ``patience`` epochs; keep the best weights.

    skorch's ``EarlyStopping(monitor="valid_loss", load_best=True)`` rule: an
    epoch improves when its loss is below the best so far by more than
    ``threshold`` (relative); training stops (``KeyboardInterrupt``, as
    skorch's) after ``patience`` epochs without one, and the best epoch's
    weights are loaded at the end of training.
    """

    def __init__(self, patience, threshold=1e-4):
        self.patience = patience
        self.threshold = threshold

    def on_train_begin(self, net, **kwargs):
        self.misses_ = 0
        self.bound_ = np.inf  # a loss must fall below this to count as an improvement
        self.best_ = None  # (epoch, module state_dict) of the best validation loss
        self.stopped_ = False  # whether this callback stopped the training

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "valid_loss"]
        if loss < self.bound_:
            self.misses_ = 0
            self.bound_ = loss - self.threshold * loss
            self.best_ = (net.history[-1, "epoch"], copy.deepcopy(net.module_.state_dict()))
        else:
            self.misses_ += 1
        if self.misses_ == self.patience:
            if net.verbose:
                print(f"Stopping since valid_loss has not improved in the last {self.patience} epochs.")
            self.stopped_ = True
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if self.best_ is not None and self.best_[0] != net.history[-1, "epoch"]:
            net.module_.load_state_dict(self.best_[1])
            if net.verbose:
                print(f"Restoring best model from epoch {self.best_[0]}.")


class _FaultGuard(Callback):
    """Divergence and interrupt handling of one fit (docs/engine.md, "Faults").

    The first default callback of the engine's net, so it sees each epoch
    before any other callback records it, stops training or touches weights.
    The net calls :meth:`diverged` when a loss is not finite, :meth:`interrupted`
    when a ``KeyboardInterrupt`` ends its loop, and :meth:`keep_after_interrupt`
    once every callback has ended the training.
    """

    def __init__(self):
        self.start_ = None
        self.last_finite_ = self.interrupted_in_ = self.interrupt_message_ = None

    def keep_start_state(self, net):
        """Make the current weights the fallback of a continued fit.

        A fault in the continued fit's first epoch then restores the model the
        estimator had, instead of leaving it unfitted.
        """
        self.start_ = (len(net.history), _snapshot(net))

    def on_train_begin(self, net, **kwargs):
        # (epoch, {component: state_dict}) of the last epoch with finite weights.
        self.last_finite_ = self.start_
        self.interrupted_in_ = None  # epoch of an interrupt that was not early stopping's own stop
        self.interrupt_message_ = None  # what was kept after it, for the estimator's warning

    def on_epoch_end(self, net, **kwargs):
        # A finite loss is computed before the step, so the epoch's last step
        # can still leave inf/NaN weights: check them before keeping them.
        snapshot = _snapshot(net)
        floats = [t for state in snapshot.values() for t in state.values() if t.is_floating_point()]
        if floats and not bool(torch.stack([torch.isfinite(t).all() for t in floats]).all()):
            raise self.diverged(net, f"The weights became NaN or infinite in epoch {len(net.history)}")
        self.last_finite_ = (len(net.history), snapshot)

    def diverged(self, net, what):
        """Restore the last finite weights; return the error to raise."""
        _drop_unfinished_epoch(net)
        if self.last_finite_ is None:
            kept = "This was the first epoch, so there are no finite weights to keep: the estimator is not fitted."
        else:
            epoch, states = self.last_finite_
            _restore(net, states)
            kept = f"The weights of epoch {epoch}, the last epoch with finite losses, were kept."
        # The objective's own advice, if its criterion has any (e.g. the temperature of contrastive losses).
        hint = getattr(net.criterion_, "divergence_hint", None)
        return TrainingDivergedError(f"{what}: {_DIVERGED_FIX}{' ' + hint if hint else ''} {kept}")

    def interrupted(self, net):
        """Note a ``KeyboardInterrupt`` that ended the loop, unless early stopping raised it."""
        if not any(_stopper_state(cb)[0] for _, cb in net.callbacks_):
            self.interrupted_in_ = len(net.history)

    def keep_after_interrupt(self, net):
        """After an interrupt, load the weights to keep and say which; re-raise when there are none."""
        if self.interrupted_in_ is None:
            return
        _drop_unfinished_epoch(net)
        best = next((found for _, cb in net.callbacks_ if (found := _stopper_state(cb)[1]) is not None), None)
        if best is not None:
            epoch, state = best
            net.module_.load_state_dict(state)
            kept = f"the weights of epoch {epoch}, the best validation loss so far, were kept"
        elif self.last_finite_ is not None:
            epoch, states = self.last_finite_
            _restore(net, states)
            kept = f"the weights of epoch {epoch}, the last completed epoch, were kept"
        else:
            # Not one epoch finished: nothing worth keeping, so let the interrupt through.
            raise KeyboardInterrupt
        # The estimator warns (naming itself); the guard only says what happened.
        self.interrupt_message_ = (
            f"training was interrupted in epoch {self.interrupted_in_} of {net.max_epochs}; {kept} and the "
            "estimator is fitted with them."
        )


def _stopper_state(cb):
    """``(stopped, best)`` of an early-stopping callback: whether it stopped training, and ``(epoch, weights)``.

    ``(False, None)`` for any other callback. A skorch ``EarlyStopping`` (a
    user's, from ``callbacks``) is read through its fitted attributes, here
    only, so that the engine treats it as before: its stop is no interrupt and,
    with ``load_best=True``, its best weights are kept after one.
    """
    if isinstance(cb, _EarlyStopping):
        return cb.stopped_, cb.best_
    if isinstance(cb, EarlyStopping):
        weights = getattr(cb, "best_model_weights_", None)
        best = (cb.best_epoch_, weights) if cb.load_best and weights is not None else None
        return getattr(cb, "misses_", 0) >= cb.patience, best
    return False, None


def _components(net):
    """The net's model and criterion (when it holds state), by skorch's attribute names."""
    return [name for name in ("module", "criterion") if isinstance(getattr(net, name + "_", None), torch.nn.Module)]


def _snapshot(net):
    """A copy of every component's state on the weights' own device (no host transfer, ~one model of memory)."""
    states = {name: getattr(net, name + "_").state_dict() for name in _components(net)}
    return {name: {k: v.detach().clone() for k, v in state.items()} for name, state in states.items()}


def _restore(net, states):
    for name, state in states.items():
        getattr(net, name + "_").load_state_dict(state)


def _drop_unfinished_epoch(net):
    # skorch records ``train_loss`` at the end of an epoch; a row without it
    # is an epoch that a fault cut short, and would break
    # ``history_[:, "train_loss"]``.
    if len(net.history) and "train_loss" not in net.history[-1]:
        net.history.pop()
