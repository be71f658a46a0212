"""Mixed-type tables: categorical columns and missing categories straight from pandas (ContrastiveEmbedder)."""

import io
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

import sk_ssl
from sk_ssl import ContrastiveEmbedder
from sk_ssl._tabular import MAX_CATEGORIES, MISSING, UNKNOWN

pd = pytest.importorskip("pandas")
BANK = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tabular" / "bank_marketing" / "bank.zip"
FAST = dict(n_components=8, max_epochs=2, batch_size=64, random_state=0, device="cpu")


def _mixed(n=300, seed=0):
    """A seeded frame with every supported kind of column, holes included."""
    rng = np.random.RandomState(seed)
    df = pd.DataFrame({
        "age": rng.normal(40, 10, n),
        "city": pd.Categorical(rng.choice(["paris", "rome", "oslo"], n)),
        "job": rng.choice(["a", "b", "c", "d"], n).astype(object),
        "plan": pd.array(rng.choice(["free", "pro"], n), dtype="string"),
        "member": rng.uniform(size=n) < 0.5,
        "visits": rng.poisson(3, n).astype(float),
    })  # fmt: skip
    df.loc[::10, "job"] = None
    df.loc[::7, "city"] = np.nan
    df.loc[::9, "plan"] = pd.NA
    return df


@pytest.fixture(scope="module")
def bank():
    if not BANK.exists():
        pytest.skip(f"{BANK} not found (the shared data folder beside the checkout)")
    with zipfile.ZipFile(BANK) as archive:
        df = pd.read_csv(io.BytesIO(archive.read("bank.csv")), sep=";")
    y = (df.pop("y") == "yes").to_numpy(int)
    return df.drop(columns="duration").iloc[:1500], y[:1500]


def test_a_raw_bank_frame_goes_straight_into_a_pipeline(bank):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    df, y = bank
    pipe = make_pipeline(ContrastiveEmbedder(**FAST), LogisticRegression(max_iter=1000)).fit(df, y)
    emb = pipe[0]
    text = [not pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    assert emb.categorical_features_.tolist() == text and sum(text) == 9
    assert [None if c is None else set(c) for c in emb.categories_] == [
        set(df[c]) if is_text else None for c, is_text in zip(df.columns, text)
    ]
    assert pipe.score(df, y) > 0.8
    embedding = emb.module_.encoder[0]
    assert len(embedding.embeddings) == 9  # one learned embedding per categorical column


def test_every_kind_of_column_and_missing_values(tmp_path):
    df = _mixed()
    emb = ContrastiveEmbedder(**FAST).fit(df)
    assert emb.categorical_features_.tolist() == [False, True, True, True, True, False]
    assert list(emb.categories_[1]) == sorted(emb.categories_[1], key=lambda c: -(df["city"] == c).sum())
    Z = emb.transform(df)
    assert Z.shape == (300, 8) and np.isfinite(Z).all()
    # feature names, pandas output, clone, pickle and the safe format keep working
    assert list(emb.feature_names_in_) == list(df.columns)
    assert emb.set_output(transform="pandas").transform(df).shape == (300, 8)
    emb.set_output(transform="default")
    assert clone(emb).get_params()["categorical_features"] == "from_dtype"
    np.testing.assert_allclose(pickle.loads(pickle.dumps(emb)).transform(df), Z)
    emb.save(tmp_path / "mixed.skssl")
    loaded = sk_ssl.load(tmp_path / "mixed.skssl")
    np.testing.assert_allclose(loaded.transform(df), Z)
    assert [None if c is None else list(c) for c in loaded.categories_] == [
        None if c is None else list(c) for c in emb.categories_
    ]


def test_unknown_categories_map_to_the_reserved_code_with_a_warning():
    df = _mixed()
    emb = ContrastiveEmbedder(**FAST).fit(df)
    new = df.head(6).copy()
    new["job"] = ["a", "zzz", "yyy", None, "b", "zzz"]
    new["city"] = pd.Categorical(["paris", "lima", None, "rome", "oslo", "oslo"])
    with pytest.warns(UserWarning, match=r"'unknown' code: \{'city': 1, 'job': 3\}"):
        Z = emb.transform(new)
    assert np.isfinite(Z).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # known categories and missing values: no warning
        emb.transform(df)
    # Unknown and missing are distinct codes, each with its own embedding row.
    from sk_ssl._tabular import _encode

    codes = _encode(new, emb.categories_, "x", warn=False)["job"].to_numpy()
    assert codes.tolist() == [2 + list(emb.categories_[2]).index("a"), UNKNOWN, UNKNOWN, MISSING,
                              2 + list(emb.categories_[2]).index("b"), UNKNOWN]  # fmt: skip


def test_high_cardinality_is_capped_and_scarf_draws_codes():
    rng = np.random.RandomState(0)
    n = 2000
    df = pd.DataFrame({"x": rng.normal(size=n), "id": [f"user{i}" for i in rng.randint(0, 500, n)]})
    emb = ContrastiveEmbedder(**FAST).fit(df)
    assert len(emb.categories_[1]) == MAX_CATEGORIES
    assert emb.module_.encoder[0].embeddings[0].num_embeddings == MAX_CATEGORIES + 2
    # The code column is left unstandardized and its corruption draws codes (integers) only.
    assert emb.module_.mean[0, 1].item() == 0.0 and emb.module_.scale[0, 1].item() == 1.0
    torch.manual_seed(0)
    drawn = emb.module_.augmentation.marginals.sample(5000)[:, 1].numpy()
    assert np.array_equal(drawn, np.round(drawn)) and drawn.min() >= 1 and drawn.max() <= MAX_CATEGORIES + 1


def test_categorical_features_for_arrays_masks_indices_and_names():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=200), rng.randint(0, 4, 200), rng.normal(size=200)])
    by_index = ContrastiveEmbedder(categorical_features=[1], **FAST).fit(X)
    by_mask = ContrastiveEmbedder(categorical_features=[False, True, False], **FAST).fit(X)
    np.testing.assert_allclose(by_index.transform(X), by_mask.transform(X))
    assert sorted(by_index.categories_[1]) == [0.0, 1.0, 2.0, 3.0] and by_index.categories_[0] is None
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    by_name = ContrastiveEmbedder(categorical_features=["b"], **FAST).fit(df)
    np.testing.assert_allclose(by_name.transform(df), by_index.transform(X), rtol=1e-5, atol=1e-6)
    assert ContrastiveEmbedder(**FAST).fit(X).categories_ is None  # "from_dtype" on an array: all numeric
    with pytest.raises(ValueError, match="that X does not have"):
        ContrastiveEmbedder(categorical_features=["nope"], **FAST).fit(df)
    with pytest.raises(ValueError, match="no column names"):
        ContrastiveEmbedder(categorical_features=["b"], **FAST).fit(X)
    with pytest.raises(ValueError, match="one entry per feature"):
        ContrastiveEmbedder(categorical_features=[True, False], **FAST).fit(X)


def test_partial_fit_keeps_code_columns_unstandardized():
    df = _mixed(400)
    emb = ContrastiveEmbedder(**FAST)
    emb.partial_fit(df.iloc[:200])
    emb.partial_fit(df.iloc[200:])
    codes = emb.categorical_features_
    assert (emb.module_.mean[0, torch.tensor(codes)] == 0).all()
    assert (emb.module_.scale[0, torch.tensor(codes)] == 1).all()
    assert emb.module_.scale[0, 0].item() == pytest.approx(df["age"].std(ddof=0), rel=1e-4)
