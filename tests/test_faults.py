"""Faults during fit and inference, on every public estimator.

Diverging training restores the last finite weights (or leaves the estimator
unfitted when none exist), an interrupt (Ctrl-C) keeps the best or last
completed epoch's weights with a warning, and inference never returns NaN.
Faults are injected with skorch callbacks passed as ``callbacks=[...]``.
"""

import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.exceptions import NotFittedError

from sk_ssl._testing import _tested_estimator
from sk_ssl.exceptions import TrainingDivergedError, TrainingInterruptedWarning


def _tabular(n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 8))
    X[:, :2] += 2.0 * (np.arange(n) % 2)[:, None]  # two clusters, so fine-tuning has something to learn
    return X, np.arange(n) % 2


def _bags(n=48, seed=0):
    rng = np.random.RandomState(seed)
    bags = [rng.normal(size=(rng.randint(2, 6), 4)) for _ in range(n)]
    y = np.arange(n) % 2
    for bag, label in zip(bags, y):
        bag[0, 0] += 4.0 * label
    return bags, y


def _contrastive(**kw):
    return _tested_estimator("ContrastiveEmbedder", **{**_KEEP["contrastive"], **kw})


# The instances come from the shared generator (sk_ssl._testing); _KEEP sets back what this file used before
# (widths, no early stopping for the fine-tuners, their default learning rates), so every assertion sees the same
# training runs: the interrupt test's "best epoch before the last" depends on the fine-tuner's trajectory.
_FINETUNE_KEEP = dict(early_stopping=False, learning_rate=1e-3, encoder_lr_factor=0.1)
_KEEP = {
    "contrastive": dict(n_components=4),
    "masked": dict(n_components=4),
    "multiview": dict(views=[("a", slice(0, 4)), ("b", slice(4, 8))], n_components=4, projection_dim=4),
    "mil": dict(n_components=4, hidden_dims=(8,), attention_dim=4),
    "finetune_classifier": _FINETUNE_KEEP,
    "finetune_regressor": _FINETUNE_KEEP,
}


def _from_generator(config, name):
    def make(**kw):
        if name.startswith("finetune"):  # the pretrainer this file always used: one epoch of SCARF
            kw = {"pretrainer": _contrastive(max_epochs=1), **kw}
        return _tested_estimator(config, **{**_KEEP[name], **kw})

    return make


# name -> (estimator factory, data factory -> fit args, inference on a fitted estimator)
ESTIMATORS = {
    "contrastive": (_contrastive, lambda: (_tabular()[0],), lambda est, X: est.transform(X)),
    "masked": (
        _from_generator("MaskedAutoencoder", "masked"),
        lambda: (_tabular()[0],),
        lambda est, X: est.transform(X),
    ),
    "multiview": (
        _from_generator("MultiViewEmbedder", "multiview"),
        lambda: (_tabular()[0],),
        lambda est, X: est.transform(X),
    ),
    "mil": (_from_generator("MILMultitaskClassifier", "mil"), lambda: _bags(), lambda est, X: est.predict_proba(X)),
    "finetune_classifier": (
        _from_generator("FineTuneClassifier", "finetune_classifier"),
        lambda: _tabular(),
        lambda est, X: est.predict_proba(X),
    ),
    "finetune_regressor": (
        _from_generator("FineTuneRegressor", "finetune_regressor"),
        lambda: (_tabular()[0], _tabular()[0][:, 0]),
        lambda est, X: est.predict(X),
    ),
}
NAMES = list(ESTIMATORS)


def _setup(name, **params):
    make, data, infer = ESTIMATORS[name]
    return make(**params), data(), infer


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class _Recorder(Callback):
    """Records the weights and validation loss at the end of every epoch (list it first)."""

    def __deepcopy__(self, memo):
        # Estimators deep-copy their callbacks per fit; keep this one shared to read it back.
        return self

    def on_train_begin(self, net, **kwargs):
        self.states, self.valid_losses = [], []

    def on_epoch_end(self, net, **kwargs):
        self.states.append(_state(net.module_))
        self.valid_losses.append(net.history[-1].get("valid_loss"))


class _Poison(Callback):
    """Fills every weight with NaN at the end of epoch ``epoch`` (0: before training)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def _poison(self, net):
        with torch.no_grad():
            for p in net.module_.parameters():
                p.fill_(float("nan"))

    def on_train_begin(self, net, **kwargs):
        if self.epoch == 0:
            self._poison(net)

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            self._poison(net)


class _Interrupt(Callback):
    """Raises KeyboardInterrupt (as Ctrl-C would) at the end of epoch ``epoch``, or in its
    second training batch with ``mid_epoch=True``."""

    def __init__(self, epoch, mid_epoch=False):
        self.epoch = epoch
        self.mid_epoch = mid_epoch

    def on_epoch_begin(self, net, **kwargs):
        self.batches_ = 0

    def on_batch_begin(self, net, training=False, **kwargs):
        if self.mid_epoch and training and len(net.history) == self.epoch:
            self.batches_ += 1
            if self.batches_ == 2:
                raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        if not self.mid_epoch and len(net.history) == self.epoch:
            raise KeyboardInterrupt


# -------------------------------------------------------------- divergence
@pytest.mark.parametrize("name", NAMES)
def test_divergence_restores_the_last_finite_epoch(name):
    recorder = _Recorder()
    est, args, infer = _setup(name, max_epochs=5, callbacks=[recorder, _Poison(2)])
    with pytest.raises(
        TrainingDivergedError, match=r"epoch 3: training diverged.*lower learning_rate.*scale.*epoch 2.*kept"
    ):
        est.fit(*args)
    assert est.n_iter_ == 2 and len(est.history_) == 2
    assert np.isfinite(est.history_[:, "train_loss"]).all()
    assert _same_state(_state(est.module_), recorder.states[1])  # the weights at the end of epoch 2
    assert np.isfinite(infer(est, args[0])).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (CI has none)")
def test_divergence_restores_the_last_finite_epoch_on_cuda():
    recorder = _Recorder()
    est = _contrastive(max_epochs=4, device="cuda", callbacks=[recorder, _Poison(2)])
    with pytest.raises(TrainingDivergedError, match="epoch 2, the last epoch with finite losses"):
        est.fit(_tabular()[0])
    assert next(est.module_.parameters()).is_cuda
    assert _same_state(_state(est.module_), recorder.states[1])
    assert np.isfinite(est.transform(_tabular()[0])).all()


def test_a_too_high_learning_rate_diverges_with_a_clear_error():
    X, _ = _tabular()
    est = _contrastive(max_epochs=3, learning_rate=1e30)
    with pytest.raises(TrainingDivergedError, match="lower learning_rate"):
        est.fit(X * 1e30)
    # Diverged at once: nothing finite to keep, so not fitted.
    assert not hasattr(est, "module_")


def test_weights_that_turn_non_finite_after_finite_losses_count_as_divergence():
    # The loss is computed before each step: poisoning at the very last batch of
    # epoch 2 leaves that epoch's losses finite but its weights NaN.
    class PoisonLastStep(_Poison):
        def on_epoch_end(self, net, **kwargs):
            pass

        def on_batch_end(self, net, training=False, **kwargs):
            batches = net.history[-1]["batches"]
            if training and len(net.history) == 2 and len(batches) == 5:  # 160 rows / 32
                self._poison(net)

    recorder = _Recorder()
    X, _ = _tabular()
    est = _contrastive(max_epochs=4, callbacks=[recorder, PoisonLastStep(2)])
    with pytest.raises(TrainingDivergedError, match="weights became NaN or infinite in epoch 2.*epoch 1"):
        est.fit(X)
    assert est.n_iter_ == 1 and _same_state(_state(est.module_), recorder.states[0])


@pytest.mark.parametrize("name", NAMES)
def test_divergence_in_the_first_epoch_leaves_the_estimator_unfitted(name):
    est, args, infer = _setup(name, max_epochs=3)
    est.fit(*args)  # a good fit first: a diverging refit must not keep it nor NaN weights
    est.set_params(callbacks=[_Poison(0)])
    with pytest.raises(TrainingDivergedError, match="first epoch.*not fitted"):
        est.fit(*args)
    assert not hasattr(est, "module_")
    with pytest.raises(NotFittedError):
        infer(est, args[0])


@pytest.mark.parametrize("name", ["contrastive", "finetune_classifier"])
def test_a_refit_that_diverges_keeps_its_own_last_finite_weights(name):
    est, args, infer = _setup(name, max_epochs=3)
    est.fit(*args)
    first = _state(est.module_)
    recorder = _Recorder()
    est.set_params(callbacks=[recorder, _Poison(1)], random_state=1)
    with pytest.raises(TrainingDivergedError, match="epoch 1, the last epoch with finite losses"):
        est.fit(*args)
    assert _same_state(_state(est.module_), recorder.states[0]) and not _same_state(_state(est.module_), first)
    assert all(torch.isfinite(v).all() for v in est.module_.state_dict().values() if v.is_floating_point())


@pytest.mark.parametrize("name", ["finetune_classifier", "finetune_regressor"])
def test_diverging_pretraining_leaves_the_fine_tuner_unfitted(name):
    est, args, infer = _setup(name, max_epochs=2)
    est.fit(*args)
    est.set_params(pretrainer=_contrastive(max_epochs=2, callbacks=[_Poison(0)]))
    with pytest.raises(TrainingDivergedError, match="Pretraining with pretrainer=ContrastiveEmbedder.*not fitted"):
        est.fit(*args)
    with pytest.raises(NotFittedError):
        infer(est, args[0])


# ---------------------------------------------------------------- interrupt
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mid_epoch", [False, True], ids=["after-epoch-3", "inside-epoch-4"])
def test_interrupt_keeps_the_last_completed_epoch(name, mid_epoch):
    recorder = _Recorder()
    est, args, infer = _setup(name, max_epochs=6, callbacks=[recorder, _Interrupt(4 if mid_epoch else 3, mid_epoch)])
    stopped = 4 if mid_epoch else 3
    message = rf"^{type(est).__name__}: training was interrupted in epoch {stopped} of 6.*epoch 3, the last"
    with pytest.warns(TrainingInterruptedWarning, match=message):
        est.fit(*args)
    assert est.n_iter_ == 3 and len(est.history_) == 3  # no half epoch in the history
    assert np.isfinite(est.history_[:, "train_loss"]).all()
    assert _same_state(_state(est.module_), recorder.states[2])
    assert np.isfinite(infer(est, args[0])).all()


@pytest.mark.parametrize("name", ["contrastive", "finetune_classifier"])
def test_interrupt_with_early_stopping_keeps_the_best_weights(name):
    recorder = _Recorder()
    # A high learning rate makes the validation loss go up and down, so the
    # best epoch is not simply the last one.
    est, args, infer = _setup(
        name,
        max_epochs=12,
        learning_rate=0.01,
        early_stopping=True,
        n_iter_no_change=20,
        callbacks=[recorder, _Interrupt(9, mid_epoch=True)],
    )
    with pytest.warns(TrainingInterruptedWarning, match="interrupted in epoch 9 of 12") as record:
        est.fit(*args)
    losses = np.array(recorder.valid_losses[:8])
    best = int(np.argmin(losses))
    assert best != 7, "the setup should have a best epoch before the last one"
    assert f"epoch {best + 1}, the best validation loss" in str(record[0].message)
    assert est.n_iter_ == 8
    assert _same_state(_state(est.module_), recorder.states[best])


def test_interrupt_in_the_first_epoch_propagates_and_leaves_nothing_fitted():
    est, args, infer = _setup("contrastive", max_epochs=3)
    est.fit(*args)
    est.set_params(callbacks=[_Interrupt(1, mid_epoch=True)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        with pytest.raises(KeyboardInterrupt):
            est.fit(*args)
    with pytest.raises(NotFittedError):
        infer(est, args[0])


def test_early_stopping_itself_is_not_reported_as_an_interrupt():
    X, _ = _tabular()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        est = _contrastive(max_epochs=50, learning_rate=0.05, early_stopping=True, n_iter_no_change=1).fit(X)
    assert est.n_iter_ < 50


# ---------------------------------------------------------------- inference
@pytest.mark.parametrize("name", NAMES)
def test_inference_never_returns_non_finite_values(name):
    est, args, infer = _setup(name, max_epochs=1)
    est.fit(*args)
    with torch.no_grad():  # a model that maps everything to inf, as huge inputs can
        for p in est.module_.parameters():
            p.fill_(float("inf"))
    with pytest.raises(ValueError, match="NaN or infinite outputs.*huge values"):
        infer(est, args[0])


def test_values_beyond_float32_are_rejected_with_the_fix():
    X, _ = _tabular()
    est = _contrastive(max_epochs=1)
    with pytest.raises(ValueError, match="beyond float32.*Scale X"):
        est.fit(X * 1e300)
    est.fit(X)
    with pytest.raises(ValueError, match="beyond float32"):
        est.transform(X * 1e300)


@pytest.mark.parametrize("name", ["contrastive", "mil"])
def test_a_continued_fit_that_diverges_at_once_keeps_the_model_it_started_from(name):
    # warm_start: the fitted model is the fallback of the continued fit, so a
    # fault in its first epoch loses nothing.
    est, args, infer = _setup(name, max_epochs=2, warm_start=True)
    est.fit(*args)
    before = _state(est.module_)
    est.set_params(callbacks=[_Poison(0)])
    with pytest.raises(TrainingDivergedError, match="epoch 2, the last epoch with finite losses"):
        est.fit(*args)
    assert est.n_iter_ == 2 and _same_state(_state(est.module_), before)
    assert np.isfinite(infer(est, args[0])).all()
