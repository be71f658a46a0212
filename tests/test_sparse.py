"""Sparse input (scipy CSR/CSC matrices and arrays): kept sparse, densified one batch at a time."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder
from torch import nn

from sk_ssl import ContrastiveEmbedder, FineTuneClassifier, FineTuneRegressor, MaskedAutoencoder, MultiViewEmbedder
from conftest import ADULT_CATEGORICAL as CATEGORICAL
from sk_ssl._marginals import _summaries
from sk_ssl._sparse import _sparse_moments

FAST = dict(max_epochs=2, batch_size=64, n_components=8, random_state=0, device="cpu")


@pytest.fixture
def adult(adult_frame):
    """600 rows of UCI Adult (8 categorical columns) and their string income labels."""
    df, income = adult_frame
    return df.iloc[:600].copy(), income[:600]


def _one_hot():
    # The fix suggested by sk_ssl's non-numeric error; on adult it returns a sparse matrix.
    return ColumnTransformer([("cat", OneHotEncoder(), CATEGORICAL)], remainder="passthrough")


def _estimators(n_features):
    half = n_features // 2
    return {
        "contrastive": ContrastiveEmbedder(**FAST),
        "masked": MaskedAutoencoder(**FAST),
        "multiview": MultiViewEmbedder(views=[("a", slice(0, half)), ("b", slice(half, None))], **FAST),
        "finetune_classifier": FineTuneClassifier(
            pretrainer=ContrastiveEmbedder(**FAST), max_epochs=3, batch_size=64, random_state=0, device="cpu"
        ),
        "finetune_regressor": FineTuneRegressor(
            pretrainer=MaskedAutoencoder(**FAST), max_epochs=3, batch_size=64, random_state=0, device="cpu"
        ),
    }


@pytest.mark.parametrize("name", list(_estimators(2)))
def test_one_hot_adult_gives_the_same_model_sparse_or_dense(adult, name):
    df, income = adult
    X_sparse = _one_hot().fit_transform(df)
    assert sp.issparse(X_sparse), "the ColumnTransformer should return sparse output on adult"
    X_dense = X_sparse.toarray()
    rng = np.random.RandomState(0)
    unlabelled = rng.rand(len(df)) > 0.2
    outputs = []
    for X in (X_sparse, X_dense):
        est = _estimators(X.shape[1])[name]
        if name == "finetune_classifier":
            y = np.where(unlabelled, -1, (income == ">50K").astype(int))
            outputs.append(est.fit(X, y).predict_proba(X))
        elif name == "finetune_regressor":
            y = np.where(unlabelled, np.nan, df["hours_per_week"].to_numpy(float))
            outputs.append(est.fit(X, y).predict(X))
        else:
            outputs.append(est.fit(X).transform(X))
            # partial_fit takes sparse chunks too.
            est.partial_fit(X[:100])
            assert est.transform(X[:5]).shape == outputs[-1][:5].shape
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_matrix", "csr_array", "coo_array"])
def test_every_sparse_format_matches_dense(fmt, rng):
    X = rng.rand(120, 12)
    X[X < 0.6] = 0
    X_sparse = getattr(sp, fmt)(X)
    dense = ContrastiveEmbedder(**FAST).fit(X).transform(X)
    sparse = ContrastiveEmbedder(**FAST).fit(X_sparse).transform(X_sparse)
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-6)


def test_sparse_moments_match_dense_ones(rng):
    from sk_ssl._base import _moments

    X = rng.randn(300, 6) * [1, 10, 1e3, 1, 1, 1] + [0, 5, -1e4, 0, 0, 3]
    X[rng.rand(*X.shape) < 0.7] = 0
    X[rng.rand(*X.shape) < 0.05] = np.nan
    X[:, 4] = 0  # an all-zero column
    X_sparse = sp.csr_matrix(X)
    for image_shape in (None, (2, 1, 3)):
        dense = _moments(X, image_shape)
        sparse = _sparse_moments(X_sparse, image_shape)
        for a, b in zip(sparse, dense):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-8)


def test_sparse_nan_cells_and_views(rng):
    # NaN stored in a sparse matrix is a missing cell (MaskedAutoencoder) or a missing view (MultiViewEmbedder).
    X = rng.rand(80, 6)
    X[X < 0.5] = 0
    X[3, :3] = np.nan
    views = [("a", [0, 1, 2]), ("b", [3, 4, 5])]
    dense = MultiViewEmbedder(views=views, **FAST).fit(X).transform(X)
    sparse = MultiViewEmbedder(views=views, **FAST).fit(sp.csr_matrix(X)).transform(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-6)
    X[5, 0] = np.nan  # a missing cell in a table view: missing indicators, as for dense input (issue 16)
    dense = MultiViewEmbedder(views=views, **FAST).fit(X)
    sparse = MultiViewEmbedder(views=views, **FAST).fit(sp.csr_matrix(X))
    assert sparse.nan_features_.tolist() == dense.nan_features_.tolist() == [True] + [False] * 5
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)), dense.transform(X), rtol=1e-5, atol=1e-6)
    X[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"Columns \[2\] of X are entirely NaN"):
        MaskedAutoencoder(**FAST).fit(sp.csr_matrix(X))


class _TinyEncoder(nn.Module):
    """A linear encoder: keeps the memory test's compute small."""

    def __init__(self, input_shape, out_features):
        super().__init__()
        self.linear = nn.Linear(input_shape[0], out_features)

    def forward(self, x):
        return self.linear(x)


def _wide_sparse(n_rows, n_features, seed=0):
    rng = np.random.RandomState(seed)
    nnz = 3 * n_rows
    return sp.csr_matrix(
        (rng.rand(nnz), (rng.randint(n_rows, size=nnz), rng.randint(n_features, size=nnz))), shape=(n_rows, n_features)
    )


def _peak_traced(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fit_and_transform_never_densify_the_whole_matrix():
    # Dense, this X would take 12000 * 5000 * 4 bytes = 240 MB as float32 (480 MB as float64).
    X = _wide_sparse(12000, 5000)
    dense_bytes = X.shape[0] * X.shape[1] * 4
    est = ContrastiveEmbedder(encoder=_TinyEncoder, n_components=4, max_epochs=1, batch_size=512,
                              early_stopping=False, random_state=0, device="cpu")  # fmt: skip
    fit_peak = _peak_traced(lambda: est.fit(X))
    transform_peak = _peak_traced(lambda: est.transform(X))
    # A couple of dense batches (512 rows in fit, 1024 in transform: 10 / 20 MB), the corruption summaries
    # and the output: well below the dense whole.
    assert fit_peak < dense_bytes / 4, fit_peak
    assert transform_peak < dense_bytes / 4, transform_peak
    np.testing.assert_allclose(est.transform(X[:50]), est.transform(X[:50].toarray()), rtol=1e-5, atol=1e-6)


def test_inference_batches_of_a_very_wide_matrix_hold_fewer_rows(monkeypatch):
    import sk_ssl._sparse as sparse_module

    X = _wide_sparse(3000, 400)
    est = ContrastiveEmbedder(encoder=_TinyEncoder, n_components=4, max_epochs=1, random_state=0, device="cpu").fit(X)
    expected = est.transform(X)
    sizes = []
    batch = sparse_module._SparseDataset.batch

    def spy(self, indices):
        sizes.append(len(indices))
        return batch(self, indices)

    monkeypatch.setattr(sparse_module, "_MAX_BATCH_CELLS", 400 * 100)
    monkeypatch.setattr(sparse_module._SparseDataset, "batch", spy)
    np.testing.assert_allclose(est.transform(X), expected, rtol=1e-5, atol=1e-6)
    assert max(sizes) == 100 and sum(sizes) == 3000


def test_corruption_summaries_of_a_sparse_matrix_equal_the_dense_ones():
    # Built column by column from CSC: every row counts, none is densified whole.
    X = _wide_sparse(1000, 500)
    for sparse_part, dense_part in zip(_summaries(X, 128), _summaries(X.toarray(), 128)):
        np.testing.assert_array_equal(sparse_part, dense_part)


def test_sparse_tag_is_set():
    for est in (ContrastiveEmbedder(), MaskedAutoencoder(), FineTuneClassifier(), FineTuneRegressor()):
        assert est.__sklearn_tags__().input_tags.sparse
