"""warm_start, partial_fit and bounded-memory inference (issue 8)."""

import pickle
import tracemalloc

import numpy as np
import pytest
import torch

from sk_ssl import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
)

from sk_ssl._testing import _fit_args, _tested_estimators

FAST = dict(max_epochs=3, batch_size=64, random_state=0, device="cpu")


def _low_rank(n=400, d=10, seed=0):
    """Rows near a 3-D subspace: a reconstruction objective learns it in a few epochs."""
    rng = np.random.RandomState(seed)
    return (rng.randn(n, 3) @ rng.randn(3, d) + 0.1 * rng.randn(n, d)).astype(np.float32)


def _losses(est):
    return np.asarray(est.history_[:, "train_loss"])


def _bags(n_bags=30, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n_bags)
    bags = [rng.randn(rng.randint(2, 5), 6) + y[i] for i in range(n_bags)]
    return bags, y


def _every_estimator():
    """Every configuration of sk_ssl/_testing.py, with this file's epochs and batch size."""
    X = _low_rank(200, 8)
    cases = []
    for _, est in _tested_estimators():
        est.set_params(early_stopping=False, **FAST)
        if isinstance(est, MILMultitaskClassifier):
            est.set_params(batch_size=8)
        cases.append((est, _fit_args(est, X)))
    return cases


# ------------------------------------------------------------------ warm_start
@pytest.mark.parametrize("est, args", _every_estimator(), ids=lambda v: type(v).__name__ if hasattr(v, "fit") else "")
def test_warm_start_continues_every_estimator(est, args):
    est.set_params(warm_start=True).fit(*args)
    first = _losses(est).copy()
    module = est.module_
    est.fit(*args)
    assert est.n_iter_ == 6 and len(est.history_) == 6
    assert est.module_ is module  # trained further, not rebuilt
    np.testing.assert_array_equal(_losses(est)[:3], first)  # earlier epochs are kept, not overwritten


def test_warm_start_loss_continues_where_it_was():
    X = _low_rank()
    warm = MaskedAutoencoder(n_components=8, warm_start=True, **FAST).fit(X)
    warm.fit(X)
    losses = _losses(warm)
    fresh = _losses(MaskedAutoencoder(n_components=8, **FAST).fit(X))
    # Epoch 4 starts from the trained model: below the first epoch of a fresh
    # model and close to where epoch 3 ended.
    assert losses[3] < fresh[0]
    assert abs(losses[3] - losses[2]) < abs(fresh[0] - losses[2])


def test_warm_start_false_restarts():
    X = _low_rank()
    est = MaskedAutoencoder(n_components=8, **FAST).fit(X)
    est.fit(X)
    assert est.n_iter_ == 3 and len(est.history_) == 3
    fresh = MaskedAutoencoder(n_components=8, **FAST).fit(X)
    np.testing.assert_array_equal(est.transform(X), fresh.transform(X))
    assert est._optimizer_state is None  # not kept: a default fit pickles as small as before


def test_warm_start_keeps_standardization_and_survives_pickle():
    X = _low_rank()
    est = ContrastiveEmbedder(n_components=8, warm_start=True, **FAST).fit(X)
    mean = est.module_.mean.clone()
    restored = pickle.loads(pickle.dumps(est))
    assert restored._optimizer_state is not None
    restored.fit(3 * X + 5)  # other statistics; the first fit's are kept
    torch.testing.assert_close(restored.module_.mean, mean)
    assert restored.n_iter_ == 6


def test_warm_start_uses_new_learning_rate():
    X = _low_rank()
    est = ContrastiveEmbedder(n_components=8, warm_start=True, **FAST).fit(X)
    before = {k: v.clone() for k, v in est.module_.state_dict().items()}
    est.set_params(learning_rate=1e-12, max_epochs=1).fit(X)
    after = est.module_.state_dict()
    # The restored AdamW state must not bring the old learning rate back.
    assert max(float((after[k] - before[k]).abs().max()) for k in before) < 1e-6


def test_warm_start_wrong_features_is_a_clear_error():
    X = _low_rank()
    est = ContrastiveEmbedder(n_components=8, warm_start=True, **FAST).fit(X)
    with pytest.raises(ValueError, match="warm_start=False"):
        est.fit(X[:, :5])


def test_warm_start_wrong_image_shape_is_a_clear_error():
    rng = np.random.RandomState(0)
    est = ContrastiveEmbedder(n_components=8, warm_start=True, **FAST).fit(rng.rand(64, 1, 8, 8))
    with pytest.raises(ValueError, match="warm_start=False"):
        est.fit(rng.rand(64, 4, 4, 4))


def test_warm_start_new_class_is_a_clear_error():
    bags, y = _bags()
    mil = MILMultitaskClassifier(n_components=8, hidden_dims=(16,), warm_start=True, **{**FAST, "batch_size": 8})
    mil.fit(bags, y)
    with pytest.raises(ValueError, match="does not know"):
        mil.fit(bags, np.where(y == 1, 7, y))
    X = _low_rank(200, 8)
    y = (X[:, 0] > 0).astype(int)
    ft = FineTuneClassifier(
        pretrainer=ContrastiveEmbedder(n_components=8, max_epochs=1), early_stopping=False, warm_start=True, **FAST
    ).fit(X, y)
    with pytest.raises(ValueError, match="does not know"):
        ft.fit(X, y + 1)
    # Fewer classes than before are fine: codes index the fitted classes.
    ft.fit(X[y == 1], y[y == 1])
    assert list(ft.classes_) == [0, 1] and ft.n_iter_ == 6


def test_warm_start_mil_subset_of_classes_keeps_codes():
    bags, y = _bags()
    mil = MILMultitaskClassifier(n_components=8, hidden_dims=(16,), warm_start=True, **{**FAST, "batch_size": 8})
    mil.fit(bags, y + 1)  # classes 1, 2
    keep = np.flatnonzero(y == 1)
    codes = mil._check_targets(y[keep] + 1, len(keep), reset=False)
    np.testing.assert_array_equal(codes[:, 0], 1.0)  # class 2 is code 1 of the fitted classes


# ------------------------------------------------------------------ partial_fit
def _chunks(X, n_chunks):
    return np.array_split(X, n_chunks)


def test_partial_fit_trains_over_chunks():
    X = _low_rank(1200, 10)
    X_train, X_test = X[:1000], X[1000:]
    est = MaskedAutoencoder(n_components=8, mask_ratio=0.2, batch_size=50, random_state=0, device="cpu")
    chunks = _chunks(X_train, 5)

    def error():
        return float(np.mean((est.inverse_transform(est.transform(X_test)) - X_test) ** 2))

    est.partial_fit(chunks[0])
    initial = error()
    for _ in range(4):  # four passes over the stream
        for chunk in chunks:
            est.partial_fit(chunk)
    assert est.n_iter_ == 21  # one epoch per call
    assert error() < 0.5 * initial
    losses = _losses(est)
    assert losses[-5:].mean() < losses[:5].mean()


def test_partial_fit_is_repeatable():
    X = _low_rank(600, 10)
    chunks = _chunks(X, 3)
    runs = []
    for _ in range(2):
        est = ContrastiveEmbedder(n_components=8, batch_size=64, random_state=3, device="cpu")
        for chunk in chunks:
            est.partial_fit(chunk)
        runs.append(est.transform(X))
    np.testing.assert_array_equal(*runs)
    # Calls differ from one another (not the same shuffle/augmentation replayed).
    other = ContrastiveEmbedder(n_components=8, batch_size=64, random_state=4, device="cpu")
    for chunk in chunks:
        other.partial_fit(chunk)
    assert not np.allclose(runs[0], other.transform(X))


@pytest.mark.parametrize("image", [False, True])
def test_partial_fit_standardization_is_the_running_mean_and_variance(image):
    rng = np.random.RandomState(0)
    if image:
        X = (rng.rand(300, 2, 4, 4) * np.array([1.0, 5.0])[:, None, None] + np.array([0.0, 3.0])[:, None, None])
        X = X.astype(np.float32)
    else:
        X = (rng.randn(300, 5) * [1, 2, 3, 4, 5] + [0, 10, 20, 30, 40]).astype(np.float32)
    est = ContrastiveEmbedder(n_components=4, batch_size=32, random_state=0, device="cpu")
    for chunk in (X[:40], X[40:200], X[200:]):  # unequal chunks, the first one small
        est.partial_fit(chunk)
    axes = (0, 2, 3) if image else 0
    mean, std = X.astype(np.float64).mean(axis=axes), X.astype(np.float64).std(axis=axes)
    got_mean = est.module_.mean.flatten(2).mean(-1)[0] if image else est.module_.mean[0]
    got_scale = est.module_.scale.flatten(2).mean(-1)[0] if image else est.module_.scale[0]
    np.testing.assert_allclose(got_mean.numpy(), mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_scale.numpy(), std, rtol=1e-4)


def test_partial_fit_standardization_ignores_missing_cells():
    X = _low_rank(300, 6) * 3 + 1
    X[::5, 2] = np.nan
    est = MaskedAutoencoder(n_components=4, batch_size=32, random_state=0, device="cpu")
    for chunk in _chunks(X, 3):
        est.partial_fit(chunk)
    np.testing.assert_allclose(est.module_.mean[0].numpy(), np.nanmean(X.astype(np.float64), 0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(est.module_.scale[0].numpy(), np.nanstd(X.astype(np.float64), 0), rtol=1e-4)


def test_multiview_partial_fit_standardizes_each_view():
    X = _low_rank(300, 8) * np.arange(1, 9) + np.arange(8)
    est = MultiViewEmbedder(views=[("a", [0, 1, 2]), ("b", [3, 4, 5, 6, 7])], n_components=4, batch_size=32,
                            random_state=0, device="cpu")
    for chunk in _chunks(X, 3):
        est.partial_fit(chunk)
    for model, cols in zip(est.module_.views, ([0, 1, 2], [3, 4, 5, 6, 7])):
        np.testing.assert_allclose(model.mean[0].numpy(), X[:, cols].astype(np.float64).mean(0), rtol=1e-4)
    assert est.transform(X).shape == (300, 8)


def test_partial_fit_after_fit_continues():
    X = _low_rank()
    est = ContrastiveEmbedder(n_components=8, early_stopping=True, **FAST).fit(X)
    n = est.n_iter_
    est.partial_fit(X[:200])
    assert est.n_iter_ == n + 1  # one epoch, early stopping does not apply


def test_partial_fit_wrong_features_is_a_clear_error():
    X = _low_rank()
    est = MaskedAutoencoder(n_components=8, **FAST).partial_fit(X)
    with pytest.raises(ValueError, match="layout of the first fit"):
        est.partial_fit(X[:, :4])


# ------------------------------------------------------------------- inference
@pytest.mark.parametrize("include_input", [False, True])
def test_transform_in_batches_equals_one_batch(include_input):
    X = _low_rank(300, 10)
    est = ContrastiveEmbedder(n_components=8, include_input=include_input, **FAST).fit(X)
    est._inference_batch_size = 7  # batches that do not divide len(X)
    batched = est.transform(X)
    with torch.inference_mode():
        x = torch.as_tensor(X)
        whole = est.module_.encode(x)
        if include_input:
            whole = torch.cat([whole, est.module_.standardize(x)], dim=1)
    np.testing.assert_allclose(batched, whole.numpy(), rtol=1e-5, atol=1e-6)
    assert batched.dtype == np.float32
    batched64 = est.transform(X.astype(np.float64))
    assert batched64.dtype == np.float64
    np.testing.assert_allclose(batched64, batched, rtol=1e-6)


def test_float32_input_is_not_copied():
    X = _low_rank(300, 10)
    est = ContrastiveEmbedder(n_components=4, **FAST).fit(X)
    assert np.shares_memory(est._validate_X(X, reset=False), X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_memory_is_output_plus_a_batch(dtype):
    X = _low_rank(20000, 32).astype(dtype)
    est = ContrastiveEmbedder(n_components=4, **FAST).fit(X[:200])
    est.transform(X[:10])  # warm-up (lazy imports, first-call caches)
    tracemalloc.start()
    Z = est.transform(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # A float32 copy of X (or a second output) would add >= 0.5 * X.nbytes.
    assert peak < Z.nbytes + 0.25 * X.nbytes, (peak, Z.nbytes, X.nbytes)


def test_pickle_grows_only_by_the_optimizer_moments():
    X = _low_rank()
    cold = ContrastiveEmbedder(n_components=8, **FAST).fit(X)
    warm = ContrastiveEmbedder(n_components=8, warm_start=True, **FAST).fit(X)
    streamed = ContrastiveEmbedder(n_components=8, **FAST).partial_fit(X)
    param_bytes = sum(p.numel() * p.element_size() for p in cold.module_.parameters())
    for est in (warm, streamed):
        extra = len(pickle.dumps(est)) - len(pickle.dumps(cold))
        # AdamW keeps two moments per parameter; no skorch net, data or history copy rides along.
        assert 1.5 * param_bytes < extra < 2 * param_bytes + 50_000, (extra, param_bytes)


def test_warm_start_and_partial_fit_after_safe_load(tmp_path):
    import sk_ssl

    X = _low_rank()
    est = MaskedAutoencoder(n_components=8, warm_start=True, **FAST).fit(X)
    est.save(tmp_path / "model.skssl")
    loaded = sk_ssl.load(tmp_path / "model.skssl")
    loaded.fit(X)  # the criterion is rebuilt, the AdamW moments start fresh
    assert loaded.n_iter_ == 6 and _losses(loaded)[3] < _losses(loaded)[0]
    mean = loaded.module_.mean.clone()
    loaded.partial_fit(3 * X)  # no running counts in the file: statistics stay
    torch.testing.assert_close(loaded.module_.mean, mean)
    assert loaded.n_iter_ == 7


def test_warm_start_with_a_cpu_accelerator_equals_plain():
    accelerate = pytest.importorskip("accelerate", reason="needs the 'multigpu' extra (accelerate)")
    from accelerate.state import AcceleratorState, GradientState

    X = _low_rank()
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    try:
        params = dict(n_components=8, warm_start=True, **{**FAST, "device": "auto"})
        accelerated = ContrastiveEmbedder(accelerator=accelerate.Accelerator(cpu=True), **params).fit(X).fit(X)
    finally:
        AcceleratorState._reset_state(True)
        GradientState._reset_state()
    plain = ContrastiveEmbedder(**{**params, "device": "cpu"}).fit(X).fit(X)
    assert accelerated.n_iter_ == 6
    np.testing.assert_allclose(_losses(accelerated), _losses(plain), rtol=1e-5)
    assert all(t.device.type == "cpu" for s in accelerated._optimizer_state["state"].values() for t in s.values())


def test_image_statistics_never_copy_the_whole_set_to_float64():
    # Wide rows (images) are read in blocks of at most 2**23 values: the float64
    # copy of the whole set (about 470 MiB here) is never made. Before the cap,
    # one 65,536-row block copied it whole, several times (peak about 1.4 GiB).
    from sk_ssl._base import _moments

    X = np.random.RandomState(0).rand(20000, 3 * 32 * 32).astype(np.float32)
    whole_float64 = X.size * 8
    tracemalloc.start()
    try:
        count, mean, _ = _moments(X, (3, 32, 32))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < whole_float64 / 2, peak
    expected = X.reshape(len(X), 3, -1).astype(np.float64).mean(axis=(0, 2))
    np.testing.assert_allclose(mean, expected, rtol=1e-10)
    assert np.all(count == X.size // 3)
