"""ContrastiveEmbedder: sklearn citizenship, learning, and bad input."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sk_ssl import ContrastiveEmbedder

FAST = dict(max_epochs=3, batch_size=64, n_components=16, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


def test_transform_shape_dtype_and_history(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(**FAST).fit(X)
    Z = emb.transform(X.astype(np.float32))
    assert Z.shape == (300, 16) and Z.dtype == np.float32
    assert emb.transform(X).dtype == np.float64
    assert emb.n_iter_ == 3 and len(emb.history_) == 3
    assert all(np.isfinite(row["train_loss"]) for row in emb.history_)
    assert emb.n_features_in_ == 64 and emb.image_shape_ is None


def test_pipeline_and_grid_search(small_digits):
    X, y = small_digits
    pipe = Pipeline([("ssl", ContrastiveEmbedder(**FAST)), ("clf", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipe, {"ssl__temperature": [0.1, 0.5]}, cv=3).fit(X, y)
    assert set(search.cv_results_["param_ssl__temperature"]) == {0.1, 0.5}
    assert search.best_estimator_.named_steps["ssl"].temperature in (0.1, 0.5)
    assert search.score(X, y) > 0.5


def test_clone_of_fitted_is_unfitted(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(**FAST).fit(X)
    fresh = clone(emb)
    assert not hasattr(fresh, "module_")
    assert fresh.get_params() == emb.get_params()


def test_pickle_round_trip_gives_identical_transform(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(**FAST).fit(X)
    restored = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(emb.transform(X), restored.transform(X))


def test_random_state_repeatable_and_global_rng_untouched(small_digits):
    X, _ = small_digits
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    Z1 = ContrastiveEmbedder(**FAST).fit_transform(X)
    np.testing.assert_array_equal(torch.rand(3), expected_next)
    Z2 = ContrastiveEmbedder(**FAST).fit_transform(X)
    np.testing.assert_array_equal(Z1, Z2)
    Z3 = ContrastiveEmbedder(**{**FAST, "random_state": 1}).fit_transform(X)
    assert not np.allclose(Z1, Z3)


def test_dataframe_names_and_set_output(small_digits):
    pd = pytest.importorskip("pandas")
    X, _ = small_digits
    df = pd.DataFrame(X[:, :10], columns=[f"pixel_{i}" for i in range(10)])
    emb = ContrastiveEmbedder(include_input=True, **FAST).set_output(transform="pandas").fit(df)
    out = emb.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["contrastiveembedder0", "contrastiveembedder1"]
    assert list(out.columns[16:]) == list(df.columns)
    np.testing.assert_array_equal(emb.feature_names_in_, df.columns)
    # The appended inputs are the standardized features.
    standardized = (df.values - df.values.mean(0)) / np.where(df.values.std(0) < 1e-8, 1, df.values.std(0))
    np.testing.assert_allclose(out.iloc[:, 16:].values, standardized, atol=1e-4)


def test_image_input_forms_agree(small_digits):
    X, _ = small_digits
    flat = ContrastiveEmbedder(image_shape=(1, 8, 8), **FAST).fit(X)
    inferred = ContrastiveEmbedder(image_shape=(1, -1, 8), **FAST).fit(X)
    four_d = ContrastiveEmbedder(**FAST).fit(X.reshape(-1, 1, 8, 8))
    assert flat.image_shape_ == inferred.image_shape_ == four_d.image_shape_ == (1, 8, 8)
    np.testing.assert_allclose(flat.transform(X), four_d.transform(X.reshape(-1, 1, 8, 8)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(flat.transform(X), inferred.transform(X), rtol=1e-5, atol=1e-6)


def test_early_stopping_and_verbose(small_digits, capsys):
    X, _ = small_digits
    emb = ContrastiveEmbedder(
        **{**FAST, "max_epochs": 50}, early_stopping=True, n_iter_no_change=2, validation_fraction=0.2, verbose=2
    ).fit(X)
    assert all("valid_loss" in row for row in emb.history_)
    assert emb.n_iter_ < 50  # stopped early on a plateau this short patience cannot outlast
    assert "train_loss" in capsys.readouterr().out


def test_custom_encoder_class(small_digits):
    X, _ = small_digits

    class Linear(torch.nn.Module):
        def __init__(self, input_shape, out_features):
            super().__init__()
            self.layer = torch.nn.Linear(input_shape[0], out_features)

        def forward(self, x):
            return self.layer(x)

    emb = ContrastiveEmbedder(encoder=Linear, **FAST).fit(X)
    assert isinstance(emb.module_.encoder, Linear)
    assert emb.transform(X).shape == (300, 16)


def _few_label_probe(embedder, X_train, y_train, X_test, y_test):
    """Logistic regression on 10 labelled rows per class, scored on X_test."""
    rng = np.random.RandomState(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 10, replace=False) for c in range(10)])
    clf = LogisticRegression(max_iter=3000).fit(embedder.transform(X_train[labelled]), y_train[labelled])
    return clf.score(embedder.transform(X_test), y_test)


@pytest.mark.parametrize("image_shape, epochs", [(None, 15), ((1, 8, 8), 8)], ids=["tabular", "image"])
def test_learns_better_than_random_init(digits, image_shape, epochs):
    """After a short fit, embeddings separate digit classes better than the same
    encoder at initialisation (few-label linear probe on held-out digits)."""
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    params = dict(image_shape=image_shape, n_components=64, random_state=0, device="cpu", batch_size=128)
    # A learning rate of ~0 leaves the weights at their (seeded) initialisation.
    untrained = ContrastiveEmbedder(max_epochs=1, learning_rate=1e-12, **params).fit(X_train)
    trained = ContrastiveEmbedder(max_epochs=epochs, **params).fit(X_train)
    acc_random = _few_label_probe(untrained, X_train, y_train, X_test, y_test)
    acc_trained = _few_label_probe(trained, X_train, y_train, X_test, y_test)
    assert acc_trained > acc_random + 0.05, (acc_trained, acc_random)
    assert trained.history_[-1]["train_loss"] < trained.history_[0]["train_loss"]


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, np.nan], [1.0, np.nan], [3.0, np.nan]]), "entirely NaN"),  # NaN cells alone are fine
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(5.0), "Expected 2D array"),
        (np.array([[1.0, 2.0]]), "1 sample.*negative"),
        (np.array([["a", 1.0], ["b", 2.0]], dtype=object), "OneHotEncoder"),
    ],
    ids=["nan", "inf", "empty", "1d", "one-sample", "strings"],
)
def test_bad_fit_input_is_a_clear_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        ContrastiveEmbedder(**FAST).fit(X)


def test_bad_input_at_transform_and_image_shape(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(**FAST).fit(X)
    with pytest.raises(ValueError, match="has 63 features, but ContrastiveEmbedder is expecting 64"):
        emb.transform(X[:, :63])
    with pytest.raises(ValueError, match=r"image_shape=\(1, 8, 7\) holds 56 values but X has 64"):
        ContrastiveEmbedder(image_shape=(1, 8, 7), **FAST).fit(X)
    with pytest.raises(ValueError, match="not a multiple"):
        ContrastiveEmbedder(image_shape=(3, -1, 7), **FAST).fit(X)
    with pytest.raises(ValueError, match="image_shape must be"):
        ContrastiveEmbedder(image_shape=(1, -1, -1), **FAST).fit(X)


def test_string_columns_without_categorical_features_name_the_fix():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"age": [30.0, 40.0, 50.0], "city": ["a", "b", "c"]})
    with pytest.raises(ValueError, match=r"Non-numeric columns \['city'\].*categorical_features='from_dtype'"):
        ContrastiveEmbedder(categorical_features=None, **FAST).fit(df)
    ContrastiveEmbedder(**{**FAST, "batch_size": 2}).fit(df)  # the suggested fix (the default) works


def test_unknown_device_is_a_clear_error(small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="not a torch device"):
        ContrastiveEmbedder(**{**FAST, "device": "gpu0"}).fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            ContrastiveEmbedder(**{**FAST, "device": "cuda"}).fit(X)


def test_diverging_training_raises_a_clear_error(small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="diverged.*learning_rate"):
        ContrastiveEmbedder(**{**FAST, "learning_rate": 1e30}).fit(X * 1e30)
