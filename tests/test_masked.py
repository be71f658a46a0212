"""MaskedAutoencoder: embedding, decoding, imputation, learning, and bad input."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sk_ssl import MaskedAutoencoder

FAST = dict(max_epochs=2, batch_size=64, n_components=16, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


def _with_holes(X, rate=0.2, seed=0):
    rng = np.random.RandomState(seed)
    holes = rng.rand(*X.shape) < rate
    X_holes = X.copy()
    X_holes[holes] = np.nan
    return X_holes, holes


def test_transform_inverse_transform_shapes_and_dtypes(small_digits):
    X, _ = small_digits
    mae = MaskedAutoencoder(**FAST).fit(X)
    Z = mae.transform(X.astype(np.float32))
    assert Z.shape == (300, 16) and Z.dtype == np.float32
    back = mae.inverse_transform(Z)
    assert back.shape == (300, 64) and back.dtype == np.float32
    assert mae.inverse_transform(mae.transform(X)).dtype == np.float64
    assert mae.n_iter_ == 2 and all(np.isfinite(row["train_loss"]) for row in mae.history_)
    # Decoded in input units: close to the data's scale, not standardized units.
    assert abs(back.mean() - X.mean()) < 2.0


def test_statistics_are_training_statistics_of_the_observed_cells(small_digits):
    X, _ = small_digits
    X_holes, _ = _with_holes(X)
    mae = MaskedAutoencoder(**FAST).fit(X_holes)
    np.testing.assert_allclose(mae.module_.mean.view(-1).numpy(), np.nanmean(X_holes, axis=0), rtol=1e-5)
    scale = np.nanstd(X_holes, axis=0)
    np.testing.assert_allclose(mae.module_.scale.view(-1).numpy(), np.where(scale < 1e-8, 1, scale), rtol=1e-5)
    # Not per batch: one row embeds the same alone as within the whole set.
    np.testing.assert_allclose(mae.transform(X_holes[:1]), mae.transform(X_holes)[:1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("image_shape", [None, (1, 8, 8)], ids=["tabular", "image"])
def test_nan_input_trains_and_pipes_into_a_classifier(small_digits, image_shape):
    X, y = small_digits
    X_holes, _ = _with_holes(X, rate=0.3)
    mae = MaskedAutoencoder(image_shape=image_shape, **{**FAST, "max_epochs": 5})
    pipe = make_pipeline(mae, LogisticRegression(max_iter=500))
    pipe.fit(X_holes, y)
    assert np.isfinite(pipe[0].transform(X_holes)).all()
    assert pipe.score(X_holes, y) > 0.3


@pytest.mark.parametrize("image_shape", [None, (1, 8, 8)], ids=["tabular", "image"])
def test_reconstruct_fills_only_the_holes(small_digits, image_shape):
    X, _ = small_digits
    X_holes, holes = _with_holes(X)
    mae = MaskedAutoencoder(image_shape=image_shape, **FAST).fit(X_holes)
    filled = mae.reconstruct(X_holes)
    assert filled.shape == X.shape and np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~holes], X_holes[~holes])  # bit-identical
    assert not np.array_equal(filled[holes], np.zeros(holes.sum()))
    # float32 and 4-D inputs keep their form.
    filled32 = mae.reconstruct(X_holes.astype(np.float32))
    assert filled32.dtype == np.float32
    np.testing.assert_array_equal(filled32[~holes], X_holes.astype(np.float32)[~holes])
    if image_shape is not None:
        filled4d = mae.reconstruct(X_holes.reshape(-1, 1, 8, 8))
        assert filled4d.shape == (300, 1, 8, 8)
        np.testing.assert_allclose(filled4d.reshape(300, -1), filled, rtol=1e-6)
    # Complete rows come back unchanged.
    np.testing.assert_array_equal(mae.reconstruct(X), X)


def test_include_input_and_pickle(small_digits):
    X, _ = small_digits
    X_holes, holes = _with_holes(X)
    mae = MaskedAutoencoder(include_input=True, **FAST).fit(X_holes)
    out = mae.transform(X_holes)
    assert out.shape == (300, 16 + 64) and np.isfinite(out).all()
    assert np.all(out[:, 16:][holes] == 0)  # a missing cell appears as the training mean
    assert mae.inverse_transform(out).shape == (300, 64)
    assert mae.get_feature_names_out()[0] == "maskedautoencoder0"
    restored = pickle.loads(pickle.dumps(mae))
    np.testing.assert_array_equal(restored.reconstruct(X_holes), mae.reconstruct(X_holes))


def test_random_state_repeatable(small_digits):
    X, _ = small_digits
    X_holes, _ = _with_holes(X)
    a = MaskedAutoencoder(**FAST).fit_transform(X_holes)
    b = MaskedAutoencoder(**FAST).fit_transform(X_holes)
    c = MaskedAutoencoder(**{**FAST, "random_state": 1}).fit_transform(X_holes)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def _few_label_probe(embedder, X_train, y_train, X_test, y_test):
    rng = np.random.RandomState(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 10, replace=False) for c in range(10)])
    clf = LogisticRegression(max_iter=3000).fit(embedder.transform(X_train[labelled]), y_train[labelled])
    return clf.score(embedder.transform(X_test), y_test)


@pytest.fixture(scope="module")
def digits_split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module", params=[(None, 12), ((1, 8, 8), 8)], ids=["tabular", "image"])
def untrained_and_trained(request, digits_split):
    image_shape, epochs = request.param
    X_train = digits_split[0]
    params = dict(image_shape=image_shape, n_components=64, random_state=0, device="cpu")
    # A learning rate of ~0 leaves the weights at their (seeded) initialisation.
    untrained = MaskedAutoencoder(max_epochs=1, learning_rate=1e-12, **params).fit(X_train)
    return untrained, MaskedAutoencoder(max_epochs=epochs, **params).fit(X_train)


def test_learns_representation_better_than_random_init(digits_split, untrained_and_trained):
    X_train, X_test, y_train, y_test = digits_split
    untrained, trained = untrained_and_trained
    acc_random = _few_label_probe(untrained, X_train, y_train, X_test, y_test)
    acc_trained = _few_label_probe(trained, X_train, y_train, X_test, y_test)
    assert acc_trained > acc_random + 0.05, (acc_trained, acc_random)
    assert trained.history_[-1]["train_loss"] < 0.9 * trained.history_[0]["train_loss"]


def test_imputes_held_out_cells_better_than_the_column_mean(digits_split, untrained_and_trained):
    X_train, X_test, _, _ = digits_split
    untrained, trained = untrained_and_trained
    if trained.image_shape_ is not None:
        pytest.skip("imputation quality is claimed for tabular rows (images train on blocks, not scattered cells)")
    X_holes, holes = _with_holes(X_test)
    column_mean = np.broadcast_to(X_train.mean(axis=0), X_test.shape)
    rmse_mean = np.sqrt(np.mean((column_mean[holes] - X_test[holes]) ** 2))
    rmse = {}
    for name, model in [("trained", trained), ("untrained", untrained)]:
        rmse[name] = np.sqrt(np.mean((model.reconstruct(X_holes)[holes] - X_test[holes]) ** 2))
    assert rmse["trained"] < 0.85 * rmse_mean, (rmse, rmse_mean)
    assert rmse["untrained"] > rmse_mean  # the gain comes from training


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, np.nan], [1.0, np.nan], [3.0, np.nan]]), r"Columns \[1\] of X are entirely NaN.*Drop them"),
        (np.array([[0.0, 1.0], [np.nan, np.nan], [3.0, 4.0]]), r"Rows \[1\] of X are entirely NaN.*Drop them"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(5.0), "Expected 2D array"),
        (np.array([[1.0, 2.0]]), "1 sample.*two rows"),
    ],
    ids=["nan-column", "nan-row", "inf", "empty", "1d", "one-sample"],
)
def test_bad_fit_input_is_a_clear_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        MaskedAutoencoder(**FAST).fit(X)


def test_bad_input_after_fit(small_digits):
    X, _ = small_digits
    mae = MaskedAutoencoder(**FAST).fit(X)
    with pytest.raises(ValueError, match="has 63 features, but MaskedAutoencoder is expecting 64"):
        mae.reconstruct(X[:, :63])
    with pytest.raises(ValueError, match="has 63 features"):
        mae.transform(X[:, :63])
    with pytest.raises(ValueError, match=r"X has 15 columns but .*expects embeddings with \[16\] columns"):
        mae.inverse_transform(np.zeros((3, 15)))
    X_inf = X[:5].copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        mae.reconstruct(X_inf)
    with pytest.raises(ValueError, match="image_shape"):
        MaskedAutoencoder(image_shape=(1, 8, 7), **FAST).fit(X)
    with pytest.raises(ValueError, match="was fitted on"):
        MaskedAutoencoder(**FAST).fit(X.reshape(-1, 1, 8, 8)).reconstruct(X.reshape(-1, 1, 4, 16))


def test_nan_never_reaches_the_encoder(small_digits):
    X, _ = small_digits
    X_holes, _ = _with_holes(X, rate=0.5)
    for image_shape in (None, (1, 8, 8)):
        mae = MaskedAutoencoder(image_shape=image_shape, **FAST).fit(X_holes)
        seen = []
        hook = mae.module_.encoder.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
        mae.transform(X_holes)
        mae.module_.train()
        with torch.no_grad():
            mae.module_(torch.tensor(X_holes[:32], dtype=torch.float32))
        hook.remove()
        assert len(seen) == 2 and all(torch.isfinite(x).all() for x in seen)


def test_reconstruct_rounds(small_digits):
    X, _ = small_digits
    X_holes, holes = _with_holes(X, rate=0.4)
    mae = MaskedAutoencoder(**FAST).fit(X_holes)
    one, three = mae.reconstruct(X_holes, n_iter=1), mae.reconstruct(X_holes)
    assert not np.allclose(one[holes], three[holes])  # later rounds see the earlier fill
    np.testing.assert_array_equal(one[~holes], three[~holes])
    with pytest.raises(ValueError, match="n_iter must be a positive int"):
        mae.reconstruct(X_holes, n_iter=0)


def test_early_stopping_on_data_with_holes(small_digits):
    X, _ = small_digits
    X_holes, _ = _with_holes(X)
    mae = MaskedAutoencoder(**{**FAST, "max_epochs": 30}, early_stopping=True, n_iter_no_change=2).fit(X_holes)
    assert all(np.isfinite(row["valid_loss"]) for row in mae.history_)
    assert mae.n_iter_ < 30
