import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.model_selection import GridSearchCV

from sk_ssl import ContrastiveEmbedder, FineTuneClassifier, FineTuneRegressor, MaskedAutoencoder

FAST_PRE = dict(max_epochs=1, n_components=16, batch_size=64, random_state=0, device="cpu")
FAST_FT = dict(max_epochs=3, batch_size=32, random_state=0, device="cpu")


class _TargetRecorder(Callback):
    """Records every target batch that reaches the supervised loss.

    The estimator deep-copies its callbacks, so batches go to a list shared
    through the class, not to the instance.
    """

    targets = []

    def __init__(self):
        type(self).targets.clear()

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        type(self).targets.append(batch[1].detach().cpu().numpy().copy())


def _semi(y, n_labelled, rng, marker=-1):
    y_semi = y.astype(float if marker is np.nan else y.dtype).copy()
    hidden = rng.permutation(len(y))[n_labelled:]
    y_semi[hidden] = marker
    return y_semi, hidden


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_finetuning_after_pretraining_beats_scratch():
    # A 3-dimensional latent drives 60 noisy features; the label depends on
    # the latent. 20 labelled rows cannot find the latent subspace, the 980
    # unlabelled ones can: masked pretraining learns it from them.
    rng = np.random.RandomState(0)
    z = rng.randn(1000, 3)
    X = np.tanh(z @ rng.randn(3, 60)) + 0.5 * rng.randn(1000, 60)
    y = (z[:, 0] > 0).astype(int) + 2 * (z[:, 1] > 0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y == k), 5, replace=False) for k in range(4)])
    y_semi = np.full_like(y, -1)
    y_semi[labelled] = y[labelled]
    test = np.setdiff1d(np.arange(len(y)), labelled)
    pretrainer = MaskedAutoencoder(max_epochs=10, n_components=64, random_state=0, device="cpu")
    common = dict(max_epochs=50, early_stopping=False, random_state=0, device="cpu")
    finetuned = FineTuneClassifier(pretrainer=pretrainer, **common).fit(X, y_semi)
    # The same network from scratch, every layer at the full learning rate (its best setting).
    scratch = FineTuneClassifier(pretrainer=pretrainer, pretrain=False, encoder_lr_factor=1.0, **common)
    scratch.fit(X, y_semi)
    assert [p.shape for p in finetuned.module_.parameters()] == [p.shape for p in scratch.module_.parameters()]
    acc_finetuned = finetuned.score(X[test], y[test])
    acc_scratch = scratch.score(X[test], y[test])
    assert acc_finetuned > acc_scratch + 0.02, (acc_finetuned, acc_scratch)


def test_unlabelled_rows_never_reach_the_supervised_loss(digits, rng):
    X, y = digits[0][:300], digits[1][:300]
    y_semi, hidden = _semi(y, 60, rng)
    recorder = _TargetRecorder()
    pretrainer = ContrastiveEmbedder(**{**FAST_PRE, "batch_size": 60})  # 300 rows: five whole batches
    # 54 training + 6 validation rows; whole batches of 27, so no row is dropped.
    clf = FineTuneClassifier(pretrainer=pretrainer, callbacks=[recorder], **{**FAST_FT, "batch_size": 27})
    clf.fit(X, y_semi)
    first_epoch = clf.history_[0]
    n_batches = first_epoch["train_batch_count"] + first_epoch["valid_batch_count"]
    seen = np.concatenate(_TargetRecorder.targets[:n_batches])
    # Every labelled row once per epoch (train + validation), no unlabelled one.
    assert len(seen) == 60
    assert set(np.unique(seen)) <= set(range(len(clf.classes_)))
    np.testing.assert_array_equal(np.sort(clf.classes_[seen.astype(int)]), np.sort(y_semi[y_semi != -1]))
    assert -1 not in clf.classes_
    # ... while pretraining saw all 300 rows.
    pre_epoch = clf.pretrainer_.history_[0]["batches"]
    assert sum(b["train_batch_size"] for b in pre_epoch) == 300


def test_regressor_nan_rows_unlabelled_and_original_units(rng):
    X = rng.randn(300, 5)
    y = 1000.0 * X[:, 0] + 5000.0
    y_semi, hidden = _semi(y, 120, rng, marker=np.nan)
    recorder = _TargetRecorder()
    reg = FineTuneRegressor(
        pretrainer=ContrastiveEmbedder(**FAST_PRE), callbacks=[recorder], learning_rate=3e-3, **{**FAST_FT, "max_epochs": 30, "batch_size": 27}
    )
    reg.fit(X, y_semi)
    first = reg.history_[0]
    seen = _TargetRecorder.targets[: first["train_batch_count"] + first["valid_batch_count"]]
    assert sum(len(t) for t in seen) == 120
    assert all(np.isfinite(t).all() for t in _TargetRecorder.targets)
    assert reg.y_mean_ == pytest.approx(np.nanmean(y_semi))
    pred = reg.predict(X[hidden])
    assert abs(pred.mean() - 5000.0) < 300.0  # original units, not standardized ones
    assert reg.score(X[hidden], y[hidden]) > 0.5


@pytest.mark.parametrize(
    "Estimator, marker", [(FineTuneClassifier, -1), (FineTuneRegressor, np.nan)], ids=["classifier", "regressor"]
)
def test_all_unlabelled_is_a_clear_error(Estimator, marker, rng):
    X = rng.randn(40, 4)
    y = np.full(40, marker, dtype=float if marker is np.nan else int)
    est = Estimator(pretrainer=ContrastiveEmbedder(**FAST_PRE), **FAST_FT)
    with pytest.raises(ValueError, match="no labelled rows"):
        est.fit(X, y)


def test_fitted_pretrainer_is_reused_and_never_modified(digits, rng):
    X, y = digits[0][:300], digits[1][:300]
    y_semi, _ = _semi(y, 100, rng)
    pretrainer = ContrastiveEmbedder(**FAST_PRE).fit(X)
    before = _state(pretrainer.module_)
    n_iter = pretrainer.n_iter_
    clf = FineTuneClassifier(pretrainer=pretrainer, encoder_lr_factor=1.0, **FAST_FT).fit(X, y_semi)
    assert clf.pretrainer_ is pretrainer and pretrainer.n_iter_ == n_iter  # no pretraining again
    for key, value in _state(pretrainer.module_).items():
        torch.testing.assert_close(value, before[key])
    # The fine-tuned copy started from the pretrained weights and moved away from them.
    tuned = clf.module_.backbone.encoder.state_dict()
    assert any(not torch.equal(tuned[k], before["encoder." + k]) for k in tuned)
    with pytest.raises(ValueError, match="features"):
        FineTuneClassifier(pretrainer=pretrainer, **FAST_FT).fit(X[:, :10], y_semi)


@pytest.mark.parametrize("options", [dict(freeze_encoder=True), dict(encoder_lr_factor=0.0)], ids=["frozen", "lr0"])
def test_frozen_encoder_or_zero_encoder_lr_keeps_pretrained_weights(options, digits, rng):
    X, y = digits[0][:300], digits[1][:300]
    y_semi, _ = _semi(y, 100, rng)
    pretrainer = ContrastiveEmbedder(**FAST_PRE).fit(X)
    clf = FineTuneClassifier(pretrainer=pretrainer, **options, **{**FAST_FT, "max_epochs": 30, "learning_rate": 1e-2})
    clf.fit(X, y_semi)
    pretrained = pretrainer.module_.encoder.state_dict()
    for key, value in clf.module_.backbone.encoder.state_dict().items():
        torch.testing.assert_close(value, pretrained[key])
    # The head did learn: above chance (0.1) on a weak (1 epoch, 16-d)
    # embedding, which scores 0.17-0.33 depending on the seed.
    assert clf.score(X, y) > 0.15


def test_pretraining_sees_only_the_rows_given_to_fit(digits, rng):
    X, y = digits[0][:200], digits[1][:200]
    pretrainer = ContrastiveEmbedder(**{**FAST_PRE, "batch_size": 60})  # 120 rows: two whole batches
    clf = FineTuneClassifier(pretrainer=pretrainer, **FAST_FT).fit(X[:120], y[:120])
    assert clf.pretrainer_.n_features_in_ == 64
    assert sum(b["train_batch_size"] for b in clf.pretrainer_.history_[0]["batches"]) == 120


def test_nested_parameters_tune_in_grid_search(digits):
    X, y = digits[0][:150], digits[1][:150]
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST_PRE), **{**FAST_FT, "max_epochs": 1})
    search = GridSearchCV(clf, {"pretrainer__corruption_rate": [0.3, 0.6]}, cv=2).fit(X, y)
    assert search.best_params_["pretrainer__corruption_rate"] in (0.3, 0.6)
    assert search.best_estimator_.pretrainer_.corruption_rate == search.best_params_["pretrainer__corruption_rate"]


def test_masked_pretrainer_accepts_nan_and_images(digits, rng):
    X, y = digits[0][:200].copy(), digits[1][:200]
    X[rng.rand(*X.shape) < 0.1] = np.nan
    pre = MaskedAutoencoder(**FAST_PRE)
    clf = FineTuneClassifier(pretrainer=pre, **FAST_FT).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    # A SCARF pretrainer takes NaN in tables (missing indicators), not in images.
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST_PRE), **FAST_FT).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    with pytest.raises(ValueError, match="NaN"):
        FineTuneClassifier(pretrainer=ContrastiveEmbedder(image_shape=(1, 8, 8), **FAST_PRE), **FAST_FT).fit(X, y)
    # 4-D images go through the pretrainer's image path (a CNN) and come back in predict.
    images = np.nan_to_num(X[:100]).reshape(-1, 1, 8, 8)
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST_PRE), **FAST_FT).fit(images, y[:100])
    assert clf.image_shape_ == (1, 8, 8)
    assert clf.predict(images).shape == (100,)
    proba = clf.predict_proba(images)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_pretrain_false_builds_the_same_network_untrained(digits):
    X, y = digits[0][:150], digits[1][:150]
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST_PRE), pretrain=False, **FAST_FT).fit(X, y)
    assert clf.pretrainer_ is None
    assert isinstance(clf.module_.backbone.encoder, torch.nn.Module)
    assert clf.module_.head.out_features == 10 and clf.module_.head.in_features == 16


def test_explicit_validation_rows_drive_early_stopping():
    # X_val / y_val (as in HistGradientBoostingClassifier.fit) replace the
    # hold-out: every labelled row trains, and the validation loss is
    # computed on exactly the given rows.
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    y = (X[:, 0] > 0).astype(int)
    _TargetRecorder()
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST_PRE), callbacks=[_TargetRecorder()], **FAST_FT)
    clf.fit(X[:100], y[:100], X_val=X[100:140], y_val=y[100:140])
    seen = np.concatenate(_TargetRecorder.targets)
    # 3 epochs x 96 training rows (the short last batch of 4 is dropped),
    # plus 3 x 40 validation rows.
    assert len(seen) == 3 * 96 + 3 * 40
    assert "valid_loss" in clf.history_[-1]
    reg = FineTuneRegressor(pretrainer=ContrastiveEmbedder(**FAST_PRE), **FAST_FT)
    reg.fit(X[:100], X[:100, 0], X_val=X[100:140], y_val=X[100:140, 0])
    assert np.isfinite(reg.history_[:, "valid_loss"]).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(X_val=np.zeros((5, 5))), "both X_val and y_val"),
        (dict(X_val=np.zeros((5, 5)), y_val=np.full(5, 7)), r"y_val has labels \[7\]"),
        (dict(X_val=np.zeros((5, 4)), y_val=np.zeros(5, int)), "features"),
    ],
)
def test_bad_validation_rows_are_clear_errors(kwargs, match):
    rng = np.random.RandomState(0)
    X, y = rng.randn(60, 5), rng.randint(2, size=60)
    with pytest.raises(ValueError, match=match):
        FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST_PRE), **FAST_FT).fit(X, y, **kwargs)


def test_early_stopping_hold_out_is_stratified():
    # 10 % of 100 labelled rows with a 90/10 class split: a random hold-out
    # often misses the rare class, the stratified one holds exactly one.
    y = np.array([0] * 90 + [1] * 10)
    est = FineTuneClassifier(validation_fraction=0.1)
    for seed in range(5):
        valid, train = est._validation_split(len(y), seed, stratify=y)
        assert np.bincount(y[valid.numpy()], minlength=2).tolist() == [9, 1]
        assert sorted(np.concatenate([valid.numpy(), train.numpy()]).tolist()) == list(range(100))


def test_string_labels_with_minus_one_for_unlabelled_rows():
    # sklearn.semi_supervised's convention for string targets: an object
    # array whose unlabelled rows hold the integer -1.
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = np.where(X[:, 0] > 0, "pos", "neg").astype(object)
    y[:20] = -1
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST_PRE), **FAST_FT).fit(X, y)
    assert clf.classes_.tolist() == ["neg", "pos"]
    assert set(clf.predict(X)) <= {"neg", "pos"}
