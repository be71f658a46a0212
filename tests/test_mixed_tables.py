"""Mixed-type tables with missing values in every tabular estimator (issue 16, part A).

Raw frames (numbers with NaN, categories with holes, bools) go straight into
ContrastiveEmbedder, MaskedAutoencoder, the fine-tuners, MultiViewEmbedder
(table views), PretextEmbedder (table tasks) and MILMultitaskClassifier;
MaskedAutoencoder reconstructs categories with cross-entropy and fills
categorical holes with categories.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sk_ssl import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
    PretextEmbedder,
    load,
)
from sk_ssl._tabular import _CodeEmbedding

from conftest import ADULT_CATEGORICAL

FAST = dict(max_epochs=2, batch_size=64, random_state=0, device="cpu")
EMB = dict(n_components=8, **FAST)


def _frame(n=240, seed=0):
    """Numbers with NaN, a category column with holes, a bool and a category dtype column."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "city": rng.choice(["Oslo", "Rome", "Lima", "Kyiv"], n).astype(object),
            "count": rng.integers(0, 9, n).astype(float),
            "flag": rng.random(n) < 0.3,
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n)),
        }
    )
    df.loc[df.index[::6], "num"] = np.nan
    df.loc[df.index[::9], "city"] = None
    y = np.array(df["city"].eq("Oslo").astype(int) + (df["count"] > 4).astype(int))
    return df, y


def _estimators(df, y):
    """``(estimator, fit args, output function)`` per tabular estimator, on a raw mixed frame."""
    bag_ids = np.arange(len(df)) // 6
    bag_y = np.array([y[bag_ids == b].max() for b in np.unique(bag_ids)])
    views = [("a", ["num", "city"]), ("b", ["count", "flag", "size"])]
    semi = y.copy()
    semi[::3] = -1
    return {
        "contrastive": (ContrastiveEmbedder(**EMB), (df,), lambda est, X: est.transform(X)),
        "masked": (MaskedAutoencoder(**EMB), (df,), lambda est, X: est.transform(X)),
        "finetune-classifier": (
            FineTuneClassifier(pretrainer=ContrastiveEmbedder(**EMB), **FAST),
            (df, semi), lambda est, X: est.predict_proba(X),
        ),
        "finetune-regressor-masked": (
            FineTuneRegressor(pretrainer=MaskedAutoencoder(**EMB), **FAST),
            (df, df["count"].to_numpy()), lambda est, X: est.predict(X),
        ),
        "multiview": (MultiViewEmbedder(views=views, **EMB), (df,), lambda est, X: est.transform(X)),
        "pretext-mask": (
            PretextEmbedder(objective="mask_estimation", **EMB), (df,), lambda est, X: est.transform(X),
        ),
        "pretext-block": (
            PretextEmbedder(objective="block_permutation", **EMB), (df,), lambda est, X: est.transform(X),
        ),
        "mil": (
            MILMultitaskClassifier(n_components=8, hidden_dims=(16,), **FAST),
            (df, bag_y, bag_ids), lambda est, X: est.predict_proba(X, bag_ids=bag_ids),
        ),
    }  # fmt: skip


CASES = ["contrastive", "masked", "finetune-classifier", "finetune-regressor-masked", "multiview", "pretext-mask",
         "pretext-block", "mil"]


@pytest.mark.parametrize("case", CASES)
def test_every_tabular_estimator_fits_a_raw_frame_with_nan_and_categories(case, tmp_path):
    df, y = _frame()
    est, args, output = _estimators(df, y)[case]
    est.fit(*args)
    assert est.__sklearn_tags__().input_tags.allow_nan
    out = output(est, df)
    assert np.isfinite(out).all()
    categories = est.categories_
    assert [c is not None for c in categories] == [False, True, False, True, True]
    # A frame of NaN-only numbers and holes everywhere still gives finite outputs.
    holes = df.copy()
    holes.loc[holes.index[:5], ["num", "count"]] = np.nan
    holes.loc[holes.index[:5], "city"] = None
    assert np.isfinite(output(est, holes)).all()
    # Pickle and save/load give the same outputs.
    assert np.allclose(output(pickle.loads(pickle.dumps(est)), df), out, atol=1e-6)
    est.save(tmp_path / "model.skssl")
    assert np.allclose(output(load(tmp_path / "model.skssl"), df), out, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_unknown_categories_warn_with_their_count_and_do_not_crash(case):
    df, y = _frame()
    est, args, output = _estimators(df, y)[case]
    est.fit(*args)
    new = df.copy()
    new.loc[new.index[:3], "city"] = "Quito"
    with pytest.warns(UserWarning, match=r"'city': 3\b"):
        out = output(est, new)
    assert np.isfinite(out).all()


def test_numeric_nan_gets_a_missing_indicator_and_scarf_draws_missing():
    df, _ = _frame()
    est = ContrastiveEmbedder(**EMB).fit(df)
    assert est.nan_features_.tolist() == [True, False, False, False, False]
    front = est.module_.encoder[0]
    assert isinstance(front, _CodeEmbedding) and front.nan_columns == [0]
    # The indicator is what tells a hole from a value at the mean: the embeddings differ.
    x = est._validate_X(df.iloc[:1], reset=False).copy()
    x_mean = x.copy()
    x[0, 0], x_mean[0, 0] = np.nan, est.module_.mean[0, 0].item()
    assert not np.allclose(est.module_.encode(torch.tensor(x, dtype=torch.float32)).detach(),
                           est.module_.encode(torch.tensor(x_mean, dtype=torch.float32)).detach())  # fmt: skip
    # Corruption treats "missing" as a value: NaN drawn at the column's missing share (1/6).
    torch.manual_seed(0)
    drawn = est.module_.augmentation.marginals.sample(20_000)
    assert abs(torch.isnan(drawn[:, 0]).float().mean().item() - 1 / 6) < 0.02
    assert not torch.isnan(drawn[:, 1:]).any()


def test_nan_at_transform_in_a_column_complete_in_fit_and_infinity():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    est = ContrastiveEmbedder(**EMB).fit(X)
    # Complete numeric rows build the model of before (no front, no missing share): earlier files still load.
    assert est.nan_features_ is None and not isinstance(est.module_.encoder, torch.nn.Sequential)
    assert not any(key.endswith("missing") for key in est.module_.state_dict())
    X_new = X[:10].copy()
    X_new[0, 2] = np.nan
    assert np.isfinite(est.transform(X_new)).all()
    X_new[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.transform(X_new)
    # Images stay complete: refused by validation with image_shape, by the image check for 4-D input.
    holes = np.where(X < -2, np.nan, X)
    with pytest.raises(ValueError, match="NaN"):
        ContrastiveEmbedder(image_shape=(1, 2, 2), **EMB).fit(holes)
    with pytest.raises(ValueError, match="NaN in tables only"):
        ContrastiveEmbedder(**EMB).fit(np.abs(holes).reshape(-1, 1, 2, 2))


def test_masked_reconstruct_fills_categorical_holes_with_categories():
    df, _ = _frame()
    est = MaskedAutoencoder(**EMB).fit(df)
    holes = df.copy()
    holes.loc[holes.index[:4], "size"] = np.nan
    filled = est.reconstruct(holes)
    assert isinstance(filled, pd.DataFrame) and list(filled.columns) == list(df.columns)
    assert filled.isna().sum().sum() == 0
    assert isinstance(filled["size"].dtype, pd.CategoricalDtype)
    assert set(filled["city"]) <= {"Oslo", "Rome", "Lima", "Kyiv"}
    observed = ~holes.isna().to_numpy()
    assert (filled.to_numpy(object)[observed] == holes.to_numpy(object)[observed]).all()
    # An object array with categorical_features given by index: an object array comes back.
    X = holes[["num", "city", "count"]].to_numpy(object)
    arr = MaskedAutoencoder(categorical_features=[1], **EMB).fit(X)
    out = arr.reconstruct(X)
    assert out.dtype == object and not pd.isna(out).any()
    assert set(out[:, 1]) <= {"Oslo", "Rome", "Lima", "Kyiv"}
    decoded = arr.inverse_transform(arr.transform(X))
    assert decoded.dtype == object and set(decoded[:, 1]) <= {"Oslo", "Rome", "Lima", "Kyiv"}


def test_masked_categorical_imputation_beats_the_most_frequent_category(adult_frame):
    # Cross-entropy reconstruction actually trains: on held-out Adult rows with
    # 30 % of their categorical cells removed, the filled categories are right
    # more often than the most frequent category of each column.
    df, _ = adult_frame
    train, test = df.iloc[:600], df.iloc[600:].copy()
    rng = np.random.default_rng(0)
    holes = rng.random((len(test), len(ADULT_CATEGORICAL))) < 0.3
    truth = test[ADULT_CATEGORICAL].to_numpy(object)
    for k, column in enumerate(ADULT_CATEGORICAL):
        test.loc[holes[:, k], column] = None
    est = MaskedAutoencoder(n_components=64, max_epochs=20, batch_size=64, random_state=0).fit(train)
    filled = est.reconstruct(test)[ADULT_CATEGORICAL].to_numpy(object)
    mode = np.array([train[c].mode()[0] for c in ADULT_CATEGORICAL], dtype=object)
    accuracy = (filled[holes] == truth[holes]).mean()
    baseline = (np.broadcast_to(mode, truth.shape)[holes] == truth[holes]).mean()
    assert accuracy > baseline + 0.03, (accuracy, baseline)


def test_finetuner_reuses_a_fitted_pretrainers_encoding_and_names_mismatches():
    df, y = _frame()
    pre = MaskedAutoencoder(**EMB).fit(df)
    clf = FineTuneClassifier(pretrainer=pre, **FAST).fit(df, y)
    assert clf.categories_ is pre.categories_
    assert np.isfinite(clf.predict_proba(df)).all()
    with pytest.raises(ValueError, match="columns"):
        FineTuneClassifier(pretrainer=pre, **FAST).fit(df.rename(columns={"num": "value"}), y)
    with pytest.raises(ValueError, match="read columns .* as categorical"):
        FineTuneClassifier(pretrainer=pre, **FAST).fit(df.assign(count=df["count"].astype(str)), y)
    # An unfitted pretrainer is fitted on the fine-tuner's coded rows and takes its frame as it is.
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**EMB), **FAST).fit(df, y)
    assert clf.pretrainer_.categories_ is clf.categories_
    assert np.isfinite(clf.pretrainer_.transform(df)).all()
    with pytest.raises(ValueError, match="disagrees"):
        FineTuneClassifier(pretrainer=ContrastiveEmbedder(categorical_features=["city"], **EMB), **FAST).fit(df, y)
    # pretrain=False builds the pretrainer's network for the same encoding.
    scratch = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**EMB), pretrain=False, **FAST).fit(df, y)
    assert np.isfinite(scratch.predict_proba(df)).all()


def test_feature_names_and_pandas_output_with_mixed_frames():
    df, _ = _frame()
    for est in (ContrastiveEmbedder(include_input=True, **EMB), MaskedAutoencoder(include_input=True, **EMB)):
        est = clone(est).set_output(transform="pandas").fit(df)
        out = est.transform(df)
        assert list(out.columns) == list(est.get_feature_names_out())
        assert list(out.columns[-5:]) == list(df.columns)
        assert np.isfinite(out.to_numpy()).all()


def test_no_training_row_in_models_fitted_on_mixed_frames(adult_frame, tmp_path):
    from test_privacy import _blobs, _encodings, _rows_found

    df, y = adult_frame
    df = df.copy()
    df.loc[df.index[::5], "hours_per_week"] = np.nan
    for est in (
        ContrastiveEmbedder(n_components=4, **FAST),
        MaskedAutoencoder(n_components=4, **FAST),
        PretextEmbedder(objective="mask_estimation", n_components=4, **FAST),
        PretextEmbedder(objective="block_permutation", n_components=4, **FAST),
    ):
        est.fit(df)
        X = est._validate_X(df, reset=False)
        X = X[~np.isnan(X).any(axis=1)]
        found = _rows_found(_encodings(X, est), _blobs(est, tmp_path))
        assert not found, f"{type(est).__name__}: {len(found)} training rows found, e.g. in {found[:3]}"


def test_mil_reuses_a_fitted_instance_encoders_encoding():
    df, y = _frame()
    bag_ids = np.arange(len(df)) // 6
    bag_y = np.array([y[bag_ids == b].max() for b in np.unique(bag_ids)])
    encoder = ContrastiveEmbedder(**EMB).fit(df)
    mil = MILMultitaskClassifier(instance_encoder=encoder, **FAST).fit(df, bag_y, bag_ids=bag_ids)
    assert mil.categories_ is encoder.categories_
    assert np.isfinite(mil.predict_proba(df, bag_ids=bag_ids)).all()
    with pytest.raises(ValueError, match="fitted instance_encoder read columns"):
        mil = MILMultitaskClassifier(instance_encoder=encoder, categorical_features=None, **FAST)
        mil.fit(df, bag_y, bag_ids=bag_ids)


def test_pretext_mask_estimation_keeps_holes_and_draws_missing_as_a_value():
    df, _ = _frame()
    est = PretextEmbedder(objective="mask_estimation", **EMB).fit(df)
    assert est.nan_features_.tolist() == [True, False, False, False, False]
    front = est.module_.encoder[0]
    assert isinstance(front, _CodeEmbedding) and front.nan_columns == [0] and front.code_columns == [1, 3, 4]
    # Code columns stay unstandardized: the embedding looks the raw codes up.
    assert est.module_.mean[0, [1, 3, 4]].tolist() == [0, 0, 0]
    assert est.module_.scale[0, [1, 3, 4]].tolist() == [1, 1, 1]
    x = torch.tensor(est._validate_X(df, reset=False), dtype=torch.float32)
    torch.manual_seed(0)
    corrupted, mask = est.module_.masking(x)
    # A hole that is not redrawn stays a hole (the encoder sees its indicator); the mask marks redrawn cells only.
    holes = torch.isnan(x[:, 0])
    assert torch.isnan(corrupted[holes & ~mask[:, 0], 0]).all() and (holes & ~mask[:, 0]).any()
    assert abs(mask.float().mean().item() - 0.3) < 0.05
    # Redrawn codes are codes of the column; "missing" is drawn at the column's share of holes (1/6).
    assert set(corrupted[:, 1].unique().tolist()) <= set(range(2 + len(est.categories_[1]))) | {0.0}
    drawn = est.module_.masking.marginals.sample(20_000)
    assert abs(torch.isnan(drawn[:, 0]).float().mean().item() - 1 / 6) < 0.02


def test_pretext_image_tasks_refuse_categorical_columns_and_complete_tables_keep_their_model():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.random((40, 4)), columns=list("abcd")).assign(d=lambda f: np.where(f["d"] > 0.5, "x", "y"))
    with pytest.raises(ValueError, match="categorical columns.*table task"):
        PretextEmbedder(objective="rotation", image_shape=(1, 2, 2), **EMB).fit(df)
    # NaN stays a table feature: images with NaN pixels are refused.
    pixels = rng.random((40, 4))
    pixels[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PretextEmbedder(objective="rotation", image_shape=(1, 2, 2), **EMB).fit(pixels)
    with pytest.raises(ValueError, match="NaN in tables only"):
        PretextEmbedder(objective="rotation", **EMB).fit(pixels.reshape(-1, 1, 2, 2))
    # Complete numeric rows: the plain encoder and masking of before (earlier files still load).
    est = PretextEmbedder(objective="mask_estimation", **EMB).fit(rng.normal(size=(60, 4)))
    assert est.nan_features_ is None and est.categories_ is None
    assert not isinstance(est.module_.encoder, torch.nn.Sequential)
    assert type(est.module_.masking).__name__ == "MarginalMasking"


@pytest.mark.parametrize("estimator", [ContrastiveEmbedder, MaskedAutoencoder], ids=lambda e: e.__name__)
def test_a_refit_on_images_forgets_the_tables_vocabularies_and_indicators(estimator):
    df, _ = _frame(n=80)
    est = estimator(**EMB).fit(df)
    assert est.categories_ is not None
    images = np.random.default_rng(0).uniform(size=(40, 1, 8, 8)).astype(np.float32)
    est.fit(images)  # crashed in the standardization while the table's code columns were remembered
    assert est.categorical_features_ is None and est.categories_ is None and est.nan_features_ is None
    assert np.isfinite(est.transform(images)).all()
    assert est.fit(df).categories_ is not None and np.isfinite(est.transform(df)).all()
