"""Numeric feature embeddings (``numeric_embedding="pwl"`` / ``"periodic"``) in front of the tabular encoder."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

import sk_ssl
from sk_ssl import ContrastiveEmbedder, FineTuneClassifier
from sk_ssl._marginals import _summaries
from sk_ssl._numeric_embeddings import N_BINS, PERIODIC_DIM, _InputEmbedding, _Periodic, _PiecewiseLinear, _pwl_edges

FAST = dict(max_epochs=1, batch_size=64, n_components=8, random_state=0, device="cpu")


def _mixed_frame(n=300, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({
        "income": rng.lognormal(10, 1, n),
        "age": rng.randint(18, 90, n).astype(float),
        "city": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "flag": rng.randint(0, 2, n).astype(float),  # two distinct values: one non-empty bin
    })  # fmt: skip


def test_pwl_edges_are_the_column_summaries_in_standardized_units():
    X = np.random.RandomState(0).normal(3, 2, size=(1000, 2))
    mean, scale = X.mean(0), X.std(0)
    edges, valid = _pwl_edges(X, [0, 1], mean, scale)
    quantiles, _, _ = _summaries(X, N_BINS + 1)
    np.testing.assert_allclose(edges, (quantiles - mean[:, None]) / scale[:, None])
    assert valid.all() and edges.shape == (2, N_BINS + 1)
    assert (np.diff(edges, axis=1) > 0).all()
    # No training row's value is an edge: the quantiles sit at the levels (k + 0.5) / (N_BINS + 1).
    assert not np.isin(quantiles, X).any()


def test_pwl_edges_of_a_column_with_few_values_leave_empty_bins():
    X = np.tile([[0.0], [1.0], [5.0]], (50, 1))
    edges, valid = _pwl_edges(X, [0], np.zeros(1), np.ones(1))
    assert valid[0].sum() == 2  # three distinct values, two bins
    np.testing.assert_array_equal(edges[0, :3], [0, 1, 5])
    out = _PiecewiseLinear(edges, valid)(torch.tensor([[0.0], [0.5], [1.0], [3.0], [5.0], [9.0]]))
    expected = np.zeros((6, N_BINS))
    expected[:, :2] = [[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1], [1, 1]]
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)


def test_pwl_encoding_is_monotone_bounded_and_nan_safe():
    X = np.random.RandomState(1).standard_t(3, size=(500, 3))
    pwl = _PiecewiseLinear(*_pwl_edges(X, [0, 1, 2], np.zeros(3), np.ones(3)))
    grid = torch.linspace(-20, 20, 401)[:, None].repeat(1, 3)
    out = pwl(grid).view(401, 3, N_BINS)
    assert out.min() >= 0 and out.max() <= 1
    assert (out.diff(dim=0) >= 0).all()  # every component is non-decreasing in x
    # Below every edge all zeros, above every edge all ones; the total counts the bins passed.
    assert out[0].sum() == 0 and (out[-1] == 1).all()
    assert (out.sum(2).diff(dim=0) >= 0).all()
    nan = pwl(torch.tensor([[np.nan, 0.0, 0.0]]))
    assert torch.isfinite(nan).all() and nan[0, :N_BINS].sum() == 0


def test_periodic_shape_and_training_signal():
    torch.manual_seed(0)
    periodic = _Periodic(4)
    x = torch.randn(10, 4)
    out = periodic(x)
    assert out.shape == (10, 4 * PERIODIC_DIM) and (out >= 0).all()
    out.sum().backward()
    assert periodic.frequencies.grad is not None and periodic.frequencies.grad.abs().sum() > 0
    assert torch.isfinite(periodic(torch.tensor([[np.nan, 0.0, 1.0, 2.0]]))).all()


@pytest.mark.parametrize("kind", ["pwl", "periodic"])
def test_embedder_with_numeric_embedding_on_a_mixed_frame(kind, tmp_path):
    df = _mixed_frame()
    est = ContrastiveEmbedder(numeric_embedding=kind, **FAST).fit(df)
    embedding = est.module_.encoder[0]
    assert isinstance(embedding, _InputEmbedding)
    assert embedding.numeric_columns == [0, 1, 3]  # the categorical column keeps its code embedding
    width = 3 * (N_BINS if kind == "pwl" else PERIODIC_DIM)
    assert embedding.out_features == width + embedding.codes.embeddings[0].embedding_dim
    Z = est.transform(df)
    assert Z.shape == (len(df), 8) and np.isfinite(Z).all()
    assert clone(est).get_params()["numeric_embedding"] == kind
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(df), Z)
    est.save(tmp_path / "m.skssl")
    np.testing.assert_array_equal(sk_ssl.load(tmp_path / "m.skssl").transform(df), Z)


def test_none_keeps_the_plain_encoder_and_pwl_changes_the_embedding():
    X = np.random.RandomState(0).normal(size=(200, 5))
    plain = ContrastiveEmbedder(**FAST).fit(X)
    assert not any(isinstance(m, _InputEmbedding) for m in plain.module_.modules())
    pwl = ContrastiveEmbedder(numeric_embedding="pwl", **FAST).fit(X)
    assert not np.allclose(plain.transform(X), pwl.transform(X))


def test_fine_tuning_starts_from_the_embedded_encoder():
    X = np.random.RandomState(0).normal(size=(300, 4))
    y = np.where(np.arange(300) < 100, (X[:, 0] > 0).astype(int), -1)
    pre = ContrastiveEmbedder(numeric_embedding="pwl", **FAST).fit(X)
    clf = FineTuneClassifier(pretrainer=pre, max_epochs=2, random_state=0, device="cpu").fit(X, y)
    assert isinstance(clf.module_.backbone.encoder[0], _InputEmbedding)
    # The bin edges are fixed: fine-tuning trains the weights after them, not the edges.
    np.testing.assert_array_equal(clf.module_.backbone.encoder[0].numeric.lower, pre.module_.encoder[0].numeric.lower)


def test_model_size_does_not_grow_with_n_samples_with_pwl():
    X = np.random.RandomState(0).lognormal(size=(20_000, 6))
    sizes = [len(pickle.dumps(ContrastiveEmbedder(numeric_embedding="pwl", **FAST).fit(X[:n]))) for n in (2000, 20_000)]
    assert abs(sizes[1] - sizes[0]) <= 0.1 * sizes[0], sizes


def test_unknown_numeric_embedding_is_refused():
    with pytest.raises(ValueError, match="numeric_embedding"):
        ContrastiveEmbedder(numeric_embedding="spline").fit(np.zeros((10, 2)))


def test_the_documented_ensemble_recipe_runs_on_a_mixed_frame():
    # docs/finetune.md, "Few labels on tables": a fitted (frozen) embedder's probe averaged with a raw-feature LR.
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.ensemble import VotingClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = _mixed_frame()
    y = (df["income"] > df["income"].median()).to_numpy(int)
    emb = ContrastiveEmbedder(numeric_embedding="pwl", **FAST).fit(df)
    raw = make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )
    ensemble = VotingClassifier([
        ("ssl", make_pipeline(FrozenEstimator(emb), StandardScaler(), LogisticRegression())),
        ("raw", make_pipeline(raw, LogisticRegression())),
    ], voting="soft").fit(df[:60], y[:60])  # fmt: skip
    proba = ensemble.predict_proba(df[60:])
    members = [est.predict_proba(df[60:]) for est in ensemble.estimators_]
    np.testing.assert_allclose(proba, (members[0] + members[1]) / 2)
    np.testing.assert_array_equal(ensemble.estimators_[0][0].estimator.transform(df), emb.transform(df))  # frozen


@pytest.mark.parametrize("kind", ["pwl", "periodic"])
def test_nan_cells_keep_their_missing_indicator_behind_a_numeric_embedding(kind):
    df = _mixed_frame()
    df.loc[::5, "income"] = np.nan
    est = ContrastiveEmbedder(numeric_embedding=kind, **FAST).fit(df)
    embedding = est.module_.encoder[0]
    assert embedding.codes.nan_columns == [0]
    x = torch.tensor([[np.nan, 30.0, 2.0, 1.0], [np.nan, 30.0, 2.0, 1.0]])
    with torch.no_grad():
        out = embedding(est.module_.standardize(x))
    assert torch.isfinite(out).all()
    numeric_width = embedding.numeric.out_features
    assert (out[:, numeric_width] == 1).all()  # the indicator of the missing income, right after the numbers
    Z = est.transform(df)
    assert np.isfinite(Z).all()
