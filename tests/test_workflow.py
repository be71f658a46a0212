"""A new user's few-label workflow: string labels with an unlabelled marker, and validation data in a Pipeline."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sk_ssl import ContrastiveEmbedder, FineTuneClassifier, FineTuneRegressor, MaskedAutoencoder, MILMultitaskClassifier
from sk_ssl.datasets import load_mil

from conftest import ADULT_CATEGORICAL as CATEGORICAL

FAST = dict(max_epochs=1, batch_size=32, n_components=4, random_state=0, device="cpu")
TUNE = dict(max_epochs=3, batch_size=32, random_state=0, device="cpu")


def _clf(**kw):
    return FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST), **{**TUNE, **kw})


def _string_labels(n=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5)
    y = np.where(X[:, 0] > 0, ">50K", "<=50K")
    return X, y


# ------------------------------------------------------ unlabelled marker
@pytest.mark.parametrize(
    "make_y",
    [
        lambda y: np.where(np.arange(len(y)) % 3 == 0, "-1", y),  # str array, "-1"
        lambda y: np.where(np.arange(len(y)) % 3 == 0, -1, y.astype(object)).astype(object),  # object, -1 (sklearn)
        lambda y: np.where(np.arange(len(y)) % 3 == 0, "-1", y.astype(object)).astype(object),  # object, "-1"
        lambda y: pd.Series(np.where(np.arange(len(y)) % 3 == 0, "-1", y), dtype="string"),  # pandas strings
        lambda y: pd.Series(np.where(np.arange(len(y)) % 3 == 0, "-1", y)).astype("category"),  # categorical
    ],
    ids=["str", "object-int", "object-str", "pandas-string", "pandas-category"],
)
def test_string_marker_marks_unlabelled_rows_never_a_class(make_y):
    X, y = _string_labels()
    y_semi = make_y(y)
    clf = _clf().fit(X, y_semi)
    assert list(clf.classes_) == ["<=50K", ">50K"]
    assert set(clf.predict(X)) <= {"<=50K", ">50K"}
    # The marked rows did not reach the supervised loss: the same fit with those rows dropped from y
    # (relabelled as -1 in an object array, sklearn's convention) gives the same model.
    y_int = np.where(np.arange(len(y)) % 3 == 0, -1, y.astype(object)).astype(object)
    np.testing.assert_allclose(_clf().fit(X, y_int).predict_proba(X), clf.predict_proba(X), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA], ids=["None", "NaN", "pd.NA"])
def test_missing_string_labels_are_refused_with_the_fix(missing):
    X, y = _string_labels()
    y = y.astype(object)
    y[::3] = missing
    with pytest.raises(ValueError, match=r"None or NaN label\(s\)\. Mark unlabelled rows with -1") as info:
        _clf().fit(X, y)
    assert "np.where(pd.isna(y), -1, y)" in str(info.value)


def test_nan_in_float_labels_is_refused():
    X, _ = _string_labels()
    y = (X[:, 0] > 0).astype(float)
    y[::3] = np.nan
    with pytest.raises(ValueError, match="y has NaN labels. Mark unlabelled rows with -1"):
        _clf().fit(X, y)


def test_marker_in_y_val_is_an_unknown_label():
    X, y = _string_labels()
    y_semi = np.where(np.arange(len(y)) % 3 == 0, "-1", y)
    with pytest.raises(ValueError, match=r"y_val has labels \['-1'\]"):
        _clf().fit(X, y_semi, X_val=X[:10], y_val=y_semi[:10])


# ------------------------------------------------- validation data in a Pipeline
@pytest.fixture
def received_X_val(monkeypatch):
    """The X_val that reaches a fine-tuner's fit, as it arrives."""
    seen = []
    original = FineTuneClassifier._validation_data

    def spy(self, X_val, y_val, encode):
        seen.append(X_val)
        return original(self, X_val, y_val, encode)

    monkeypatch.setattr(FineTuneClassifier, "_validation_data", spy)
    monkeypatch.setattr(FineTuneRegressor, "_validation_data", spy)
    return seen


def test_x_val_is_routed_through_the_preprocessing_steps(received_X_val, adult_frame):
    df, income = adult_frame
    train, val = df.iloc[:600], df.iloc[600:]
    y = income[:600].copy()
    y[np.random.RandomState(0).rand(600) > 0.1] = "-1"  # 10 % labels, string marker
    with sklearn.config_context(enable_metadata_routing=True):
        clf = _clf(early_stopping=True, n_iter_no_change=2).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("encode", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
                                          remainder=StandardScaler())),  # fmt: skip
             ("finetune", clf)],
            transform_input=["X_val"],
        )
        pipe.fit(train, y, X_val=val, y_val=income[600:])
    (X_val,) = received_X_val
    # Transformed by the fitted preprocessing, sparse as the ColumnTransformer returns it.
    assert sp.issparse(X_val)
    np.testing.assert_allclose(X_val.toarray(), pipe[:-1].transform(val).toarray())
    history = pipe[-1].history_
    assert np.isfinite(history[:, "valid_loss"]).all()
    assert list(pipe.classes_) == ["<=50K", ">50K"]
    assert set(pipe.predict(val)) <= {"<=50K", ">50K"}


def test_regressor_with_nan_unlabelled_and_x_val_in_a_pipeline(received_X_val):
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4) * [1, 100, 1000, 1] + [0, 50, -300, 2]
    target = X[:, 0] + X[:, 1] / 100
    y = np.where(rng.rand(200) < 0.3, target, np.nan)  # NaN: unlabelled
    with sklearn.config_context(enable_metadata_routing=True):
        reg = FineTuneRegressor(pretrainer=MaskedAutoencoder(**FAST), **TUNE).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("finetune", reg)], transform_input=["X_val"])
        pipe.fit(X[:150], y[:150], X_val=X[150:], y_val=target[150:])
    np.testing.assert_allclose(received_X_val[0], pipe[0].transform(X[150:]))
    assert np.isfinite(pipe.predict(X[150:])).all()


def test_without_routing_x_val_reaches_the_step_untransformed(received_X_val):
    # The pitfall docs/finetune.md warns about: a step-prefixed X_val skips the earlier steps.
    X, y = _string_labels()
    X = X * 100
    pipe = make_pipeline(StandardScaler(), _clf())
    pipe.fit(X, y, finetuneclassifier__X_val=X[:10], finetuneclassifier__y_val=y[:10])
    np.testing.assert_array_equal(received_X_val[0], X[:10])


# ---------------------------------------------------------------- MIL
def _musk_table():
    bags, y = load_mil("musk1", return_X_y=True)
    return np.vstack(bags), np.repeat(np.arange(len(bags)), [len(b) for b in bags]), y


def test_mil_in_a_pipeline_with_instance_preprocessing():
    table, ids, y = _musk_table()
    mil = MILMultitaskClassifier(max_epochs=2, random_state=0, device="cpu")
    pipe = make_pipeline(StandardScaler(), mil)
    # Without metadata routing: bag_ids as a step parameter in fit, as a predict parameter.
    pipe.fit(table, y, milmultitaskclassifier__bag_ids=ids)
    assert pipe[-1].n_features_in_ == table.shape[1]
    pred = pipe.predict(table, bag_ids=ids)
    assert pred.shape == y.shape
    # The instances reached the classifier scaled: the same as fitting on the scaled table.
    direct = MILMultitaskClassifier(max_epochs=2, random_state=0, device="cpu")
    direct.fit(StandardScaler().fit_transform(table), y, bag_ids=ids)
    np.testing.assert_allclose(
        pipe.predict_proba(table, bag_ids=ids), direct.predict_proba(pipe[0].transform(table), bag_ids=ids)
    )
    # With metadata routing: request bag_ids in fit and predict.
    with sklearn.config_context(enable_metadata_routing=True):
        routed = MILMultitaskClassifier(max_epochs=2, random_state=0, device="cpu")
        routed.set_fit_request(bag_ids=True).set_predict_request(bag_ids=True)
        pipe = make_pipeline(StandardScaler(), routed).fit(table, y, bag_ids=ids)
        np.testing.assert_array_equal(pipe.predict(table, bag_ids=ids), pred)
