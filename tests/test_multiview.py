"""MultiViewEmbedder: view declarations, missing views, the cross-view loss,
sklearn citizenship, and a learning test on a shared latent factor."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sk_ssl import MultiViewEmbedder
from sk_ssl.encoders import MLPEncoder, SmallCNNEncoder
from sk_ssl.losses import cross_view_info_nce, info_nce

FAST = dict(max_epochs=2, batch_size=64, n_components=8, random_state=0, device="cpu")
TWO = [("top", slice(0, 32)), ("bottom", slice(32, 64))]


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def fitted(small_digits):
    """One fitted estimator per fusion, shared by the read-only tests."""
    X, _ = small_digits
    return {f: MultiViewEmbedder(views=TWO, fusion=f, **FAST).fit(X) for f in ("concat", "mean", "attention")}


# ----------------------------------------------------------------- the loss
def test_cross_view_loss_two_views_is_symmetric_info_nce():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(16, 4, generator=gen), torch.randn(16, 4, generator=gen)
    expected = 0.5 * (info_nce(a, b, 0.3) + info_nce(b, a, 0.3))
    torch.testing.assert_close(cross_view_info_nce([a, b], temperature=0.3), expected)
    # Aligned views score far better than unrelated ones.
    assert cross_view_info_nce([a, a + 0.01 * b], temperature=0.1) < 0.2 * cross_view_info_nce([a, b], temperature=0.1)


def test_cross_view_loss_ignores_absent_samples_and_averages_pairs():
    gen = torch.Generator().manual_seed(1)
    views = torch.randn(3, 12, 5, generator=gen)
    present = torch.ones(3, 12, dtype=torch.bool)
    present[2, :4] = False
    loss = cross_view_info_nce(views, present, temperature=0.5)
    changed = views.clone()
    changed[2, :4] = 1e3 * torch.randn(4, 5, generator=gen)  # absent rows: any value
    torch.testing.assert_close(cross_view_info_nce(changed, present, temperature=0.5), loss)
    rows = present[2]
    pairs = [
        0.5 * (info_nce(views[0], views[1], 0.5) + info_nce(views[1], views[0], 0.5)),
        0.5 * (info_nce(views[0][rows], views[2][rows], 0.5) + info_nce(views[2][rows], views[0][rows], 0.5)),
        0.5 * (info_nce(views[1][rows], views[2][rows], 0.5) + info_nce(views[2][rows], views[1][rows], 0.5)),
    ]
    torch.testing.assert_close(loss, torch.stack(pairs).mean())


def test_cross_view_loss_without_shared_samples_is_zero_with_gradient():
    views = torch.randn(2, 4, 3, requires_grad=True)
    present = torch.tensor([[True, True, False, False], [False, False, True, True]])
    loss = cross_view_info_nce(views, present)
    loss.backward()
    assert loss.item() == 0.0 and views.grad is not None


# ---------------------------------------------------------- outputs & names
@pytest.mark.parametrize("fusion, width", [("concat", 16), ("mean", 8), ("attention", 8)])
def test_transform_width_dtype_and_feature_names(fitted, small_digits, fusion, width):
    X, _ = small_digits
    emb = fitted[fusion]
    Z = emb.transform(X.astype(np.float32))
    assert Z.shape == (300, width) and Z.dtype == np.float32
    assert emb.transform(X).dtype == np.float64
    names = emb.get_feature_names_out()
    assert len(names) == width and len(set(names)) == width
    if fusion == "concat":
        assert names[0] == "multiviewembedder_top0" and names[8] == "multiviewembedder_bottom0"
    views = emb.transform_views(X)
    assert list(views) == ["top", "bottom"] and all(v.shape == (300, 8) for v in views.values())
    if fusion == "concat":  # concat is the per-view embeddings side by side
        np.testing.assert_allclose(Z, np.hstack([views["top"], views["bottom"]]), rtol=1e-6)
    if fusion == "mean":
        np.testing.assert_allclose(Z, (views["top"] + views["bottom"]) / 2, rtol=1e-5, atol=1e-6)
    assert emb.n_iter_ == 2 and all(np.isfinite(row["train_loss"]) for row in emb.history_)


def test_attention_weights_are_learned_per_sample(fitted, small_digits):
    X, _ = small_digits
    weights = fitted["attention"].view_weights(X)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert weights.std(axis=0).max() > 0  # not a constant split
    np.testing.assert_allclose(fitted["mean"].view_weights(X), 0.5)


# ------------------------------------------------------------ declarations
def test_column_specs_select_the_same_columns(small_digits):
    pd = pytest.importorskip("pandas")
    X, _ = small_digits
    X = X[:, :12]
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(12)])
    mask = np.zeros(12, dtype=bool)
    mask[6:] = True
    specs = {
        "ints": ([0, 1, 2, 3, 4, 5], list(range(6, 12)), X),
        "slice+mask": (slice(0, 6), mask, X),
        "negative": (slice(None, -6), [-6, -5, -4, -3, -2, -1], X),
        "callable": (lambda X: slice(0, X.shape[1] // 2), lambda X: slice(X.shape[1] // 2, None), X),
        "names": ([f"c{i}" for i in range(6)], slice("c6", "c11"), df),  # a name slice includes its end
    }
    for key, (a, b, data) in specs.items():
        emb = MultiViewEmbedder(views=[("a", a), ("b", b)], **FAST).fit(data)
        np.testing.assert_array_equal(emb.view_columns_["a"], np.arange(6), err_msg=key)
        np.testing.assert_array_equal(emb.view_columns_["b"], np.arange(6, 12), err_msg=key)
        assert emb.unused_features_.size == 0


def test_unused_columns_are_ignored_and_listed(small_digits):
    X, _ = small_digits
    emb = MultiViewEmbedder(views=[("a", slice(0, 20)), ("b", slice(20, 40))], **FAST).fit(X)
    np.testing.assert_array_equal(emb.unused_features_, np.arange(40, 64))
    scrambled = X.copy()
    scrambled[:, 40:] = np.nan  # anything at all in unused columns
    np.testing.assert_array_equal(emb.transform(scrambled), emb.transform(X))


@pytest.mark.parametrize(
    "views, match",
    [
        (None, r"needs views=\[\(name, columns\), \.\.\.\]: e\.g\. views=\["),
        ([], "needs views="),
        ([("a", slice(0, 40)), ("b", slice(30, 64))], r"Views 'a' and 'b' share column\(s\) \[30, 31.*one view only"),
        ([("a", slice(0, 64))], "at least two views.*ContrastiveEmbedder"),
        ([("a", [0, 1]), ("a", [2, 3])], "'a' is used twice"),
        ([("a", slice(0, 32)), ("b", slice(64, None))], "View 'b' selects no columns of X, which has 64 feature"),
        ([("a", [0, 1]), ("b", [2, 99])], "index 99 is out of range for X with 64 columns"),
        ([("a", [0, 1]), ("b", [2, 2])], "lists a column twice"),
        ([("a", [0, 1]), ("b", np.ones(10, dtype=bool))], "boolean mask needs one entry per column of X \\(64\\)"),
        ([("a", [0, 1]), ("b", ["x"])], "selects columns by name .* no column names"),
        ([("a", [0, 1]), ["b"]], "Each view must be a tuple"),
        ([("a", [0, 1]), ("b", [2.5])], "columns must be ints, names"),
        ([("a", slice(0, 32), (1, 4, 7)), ("b", slice(32, 64))], r"View 'a' \(32 columns\): image_shape=\(1, 4, 7\)"),
    ],
    ids=["none", "empty", "overlap", "one-view", "dup-name", "empty-view", "out-of-range", "dup-column", "mask-len",
         "names-no-df", "bad-entry", "float-cols", "bad-image-shape"],  # fmt: skip
)
def test_bad_view_declarations_are_clear_errors(small_digits, views, match):
    X, _ = small_digits
    with pytest.raises(ValueError, match=match):
        MultiViewEmbedder(views=views, **FAST).fit(X)


def test_unknown_column_name_and_4d_input(small_digits):
    pd = pytest.importorskip("pandas")
    X, _ = small_digits
    df = pd.DataFrame(X[:, :4], columns=list("abcd"))
    with pytest.raises(ValueError, match="column 'z' is not in X"):
        MultiViewEmbedder(views=[("v", ["a", "b"]), ("w", ["z"])], **FAST).fit(df)
    with pytest.raises(ValueError, match=r"Flatten the images.*image_shape"):
        MultiViewEmbedder(views=TWO, **FAST).fit(X.reshape(-1, 1, 8, 8))


def test_image_view_gets_a_cnn(small_digits):
    X, _ = small_digits
    # Rows 0-3 of the 8x8 digit as a 1x4x8 image next to rows 4-7 as features.
    emb = MultiViewEmbedder(views=[("img", slice(0, 32), (1, -1, 8)), ("tab", slice(32, 64))], **FAST).fit(X)
    assert emb.view_image_shapes_ == {"img": (1, 4, 8), "tab": None}
    assert isinstance(emb.module_.views[0].encoder, SmallCNNEncoder)
    assert isinstance(emb.module_.views[1].encoder, MLPEncoder)
    assert emb.transform(X).shape == (300, 16)


def test_image_view_reads_integer_pixels_like_the_image_estimators(small_digits):
    pd = pytest.importorskip("pandas")
    X, _ = small_digits
    # The top half of each digit as uint8 pixels (an image view), the bottom half as small integer counts
    # (a tabular view, never rescaled) in one uint8 table; the same table with the pixels as floats in [0, 1].
    X8 = np.hstack([np.round(X[:, :32] * 255 / 16), X[:, 32:]]).astype(np.uint8)
    Xf = X8.astype(np.float64)
    Xf[:, :32] /= 255
    views = [("img", slice(0, 32), (1, 4, 8)), ("tab", slice(32, 64))]
    emb = MultiViewEmbedder(views=views, **FAST).fit(X8)
    Z8 = emb.transform(X8)
    np.testing.assert_allclose(emb.transform(Xf), Z8, atol=1e-5)  # the same images, either pixel type
    np.testing.assert_allclose(MultiViewEmbedder(views=views, **FAST).fit(Xf).transform(Xf), Z8, atol=1e-5)
    Z_df = MultiViewEmbedder(views=views, **FAST).fit(pd.DataFrame(X8)).transform(pd.DataFrame(X8))
    np.testing.assert_allclose(Z_df, Z8, atol=1e-5)
    # Pixels on another scale than at fit (floats in 0..255), mixed pixel types, a wrong view shape: errors.
    with pytest.raises(ValueError, match=r"view 'img'.*fitted on images in \[0, 1\].*divided by 255"):
        emb.transform(X8.astype(np.float64))
    mixed = pd.DataFrame(X8).astype({0: np.float64})
    with pytest.raises(ValueError, match=r"view 'img'.*integer pixels and some floats"):
        MultiViewEmbedder(views=views, **FAST).fit(mixed)
    with pytest.raises(ValueError, match=r"View 'img' \(32 columns\): image_shape=\(3, 4, 8\) holds 96 values"):
        MultiViewEmbedder(views=[("img", slice(0, 32), (3, 4, 8)), ("tab", slice(32, 64))], **FAST).fit(X8)
    with pytest.raises(ValueError, match=r"3-D array.*channel-major.*np.moveaxis"):
        MultiViewEmbedder(views=views, **FAST).fit(X8.reshape(-1, 8, 8))


# ------------------------------------------------------------ missing views
@pytest.fixture(scope="module")
def with_missing(small_digits):
    X, _ = small_digits
    X = X.copy()
    X[:40, :32] = np.nan  # rows 0-39 lack "top"
    X[40:70, 32:] = np.nan  # rows 40-69 lack "bottom"
    return X


@pytest.mark.parametrize("fusion", ["concat", "mean", "attention"])
def test_missing_view_is_embedded_from_the_others(with_missing, fusion):
    X = with_missing
    emb = MultiViewEmbedder(views=TWO, fusion=fusion, **FAST).fit(X)
    Z, views = emb.transform(X), emb.transform_views(X)
    assert np.isfinite(Z).all()
    assert np.isnan(views["top"][:40]).all() and np.isfinite(views["top"][40:]).all()
    assert np.isnan(views["bottom"][40:70]).all()
    weights = emb.view_weights(X)
    np.testing.assert_array_equal(weights[:40, 0], 0.0)
    np.testing.assert_allclose(weights[:40, 1], 1.0)
    # With "top" missing, the fused embedding is built from "bottom" alone.
    bottom_only = views["bottom"][:40]
    expected = np.hstack([bottom_only, bottom_only]) if fusion == "concat" else bottom_only
    np.testing.assert_allclose(Z[:40], expected, rtol=1e-5, atol=1e-6)
    # The missing view's values do not matter: the same rows complete give another embedding.
    X_full = X.copy()
    X_full[:40, :32] = 0.0
    assert not np.allclose(emb.transform(X_full)[:40], Z[:40])


def test_missing_views_do_not_enter_the_standardization(with_missing):
    emb = MultiViewEmbedder(views=TWO, **FAST).fit(with_missing)
    top_mean = emb.module_.views[0].mean.flatten().numpy()
    np.testing.assert_allclose(top_mean, with_missing[40:, :32].mean(axis=0), rtol=1e-5)


def test_partial_nan_and_rows_without_any_view_are_errors(small_digits, fitted):
    X, _ = small_digits
    partial = X.copy()
    partial[[3, 5], 0] = np.nan
    # A table view takes NaN cells (a missing indicator per column, issue 16); an image view does not.
    assert np.isfinite(fitted["mean"].transform(partial)).all()
    images = [("top", slice(0, 32), (1, 4, 8)), ("bottom", slice(32, 64))]
    with pytest.raises(ValueError, match=r"Row\(s\) \[3, 5\] have NaN in some but not all pixels of image view "
                                         "'top'.*SimpleImputer"):  # fmt: skip
        MultiViewEmbedder(views=images, **FAST).fit(partial)
    empty = X.copy()
    empty[7] = np.nan
    with pytest.raises(ValueError, match=r"Row\(s\) \[7\] have every view missing"):
        fitted["mean"].transform(empty)
    rare = X.copy()
    rare[1:, :32] = np.nan
    with pytest.raises(ValueError, match="View 'top' is present in 1 training row"):
        MultiViewEmbedder(views=TWO, **FAST).fit(rare)
    with pytest.raises(ValueError, match="infinity"):
        MultiViewEmbedder(views=TWO, **FAST).fit(np.where(X > 15, np.inf, X))


# ---------------------------------------------------------- sklearn citizen
def test_pipeline_grid_search_and_set_output(small_digits):
    pd = pytest.importorskip("pandas")
    X, y = small_digits
    pipe = Pipeline([("mv", MultiViewEmbedder(views=TWO, **FAST)), ("clf", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipe, {"mv__fusion": ["concat", "attention"]}, cv=2).fit(X, y)
    assert set(search.cv_results_["param_mv__fusion"]) == {"concat", "attention"}
    assert search.score(X, y) > 0.3
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    views = [("top", [f"px{i}" for i in range(32)]), ("bottom", slice("px32", "px63"))]
    emb = MultiViewEmbedder(views=views, fusion="mean", **FAST).set_output(transform="pandas").fit(df)
    out = emb.transform(df)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == [f"multiviewembedder{i}" for i in range(8)]
    np.testing.assert_array_equal(emb.feature_names_in_, df.columns)
    with pytest.raises(ValueError, match="feature names"):
        emb.transform(df.rename(columns={"px0": "other"}))


def test_clone_pickle_and_random_state(small_digits, fitted):
    X, _ = small_digits
    emb = fitted["attention"]
    fresh = clone(emb)
    assert not hasattr(fresh, "module_") and fresh.get_params() == emb.get_params()
    restored = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(emb.transform(X), restored.transform(X))
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    Z1 = clone(emb).fit_transform(X)
    np.testing.assert_array_equal(torch.rand(3), expected_next)  # global RNG untouched
    np.testing.assert_array_equal(Z1, emb.transform(X))  # same seed, same embedding
    assert not np.allclose(Z1, clone(emb).set_params(random_state=1).fit_transform(X))


# ---------------------------------------------------------------- learning
def _shared_latent_views(n, seed=0):
    """Two 20-d views: a shared 2-d latent z mixed non-linearly with a 3-d
    view-specific latent of larger variance, plus noise."""
    rng = np.random.RandomState(seed)
    z = rng.randn(n, 2)
    views = []
    for _ in range(2):
        nuisance = 2.0 * rng.randn(n, 3)
        mixing = rng.randn(5, 20)
        views.append(np.tanh(np.hstack([z, nuisance]) @ mixing) + 0.1 * rng.randn(n, 20))
    return np.hstack(views), z


def test_fused_embedding_recovers_the_shared_factor():
    """Ridge R^2 of the shared latent on held-out rows: the cross-view embedding
    beats either view's raw features and the same encoders at initialisation."""
    X, z = _shared_latent_views(1500)
    train, test = slice(0, 1000), slice(1000, None)

    def r2(Z):
        return RidgeCV().fit(Z[train], z[train]).score(Z[test], z[test])

    params = dict(views=[("a", slice(0, 20)), ("b", slice(20, 40))], fusion="mean", n_components=16,
                  augment=False, batch_size=128, random_state=0, device="cpu")  # fmt: skip
    untrained = MultiViewEmbedder(max_epochs=1, learning_rate=1e-12, **params).fit(X[train])
    trained = MultiViewEmbedder(max_epochs=15, **params).fit(X[train])
    r2_trained, r2_random = r2(trained.transform(X)), r2(untrained.transform(X))
    r2_single = max(r2(X[:, :20]), r2(X[:, 20:]))
    assert r2_trained > r2_single + 0.05, (r2_trained, r2_single)
    assert r2_trained > r2_random + 0.3, (r2_trained, r2_random)
    assert trained.history_[-1]["train_loss"] < trained.history_[0]["train_loss"] - 0.5
