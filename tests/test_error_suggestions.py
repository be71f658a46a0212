"""Every error message that suggests a fix: the suggested fix works.

One case per suggestion. Each case triggers the error, checks that the message
still makes the suggestion, then applies the suggested fix and checks that the
estimator then fits (or does what was asked). Where a message spells out code,
the case runs that code as written in the message (``_suggested_code``), so a
reworded suggestion is re-tested as reworded.

To re-target a case after a message changes (e.g. the non-numeric hint of
``sk_ssl._base`` once categorical columns become native), edit the fragment it
expects and the fix it applies; keep one case per suggestion.
"""

import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.compose import ColumnTransformer  # noqa: F401 - used by the suggested code
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: F401 - used by the suggested code
from skorch.callbacks import Callback

import sk_ssl
from sk_ssl import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
    PretextEmbedder,
)
from sk_ssl.datasets import load_mil
from sk_ssl.exceptions import TrainingDivergedError

FAST = dict(max_epochs=1, batch_size=32, n_components=4, random_state=0, device="cpu")
TUNE = dict(max_epochs=2, batch_size=32, random_state=0, device="cpu")


def _error(fn, exc=ValueError):
    """The message of the error ``fn`` raises."""
    with pytest.raises(exc) as info:
        fn()
    return str(info.value)


def _suggested_code(message, start):
    """The code a message suggests: from ``start`` to its balanced closing bracket."""
    begin = message.index(start)
    depth = 0
    for i in range(begin, len(message)):
        depth += message[i] in "([{"
        depth -= message[i] in ")]}"
        if depth == 0 and message[i] in ")]}":
            return message[begin : i + 1]
    raise AssertionError(f"unbalanced code in {message!r}")


def _data(n=60, d=6, seed=0):
    return np.random.RandomState(seed).randn(n, d)


def _categorical_frame(n=120, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        {
            "age": rng.randint(18, 80, n).astype(float),
            "hours": rng.randint(10, 60, n).astype(float),
            "job": rng.choice([f"job{i}" for i in range(15)], n),
            "country": rng.choice([f"c{i}" for i in range(20)], n),
        }
    )


# --------------------------------------------------------------- the cases
def _non_numeric(estimator_factory, fit_args=lambda X: (), fit_kwargs=None, check=None):
    """Non-numeric columns: the message's make_pipeline(ColumnTransformer(OneHotEncoder ...)) works as written."""

    def case():
        X = _categorical_frame()
        estimator = estimator_factory(X)
        message = _error(lambda: estimator.fit(X, *fit_args(X), **(fit_kwargs or {})))
        code = _suggested_code(message, "make_pipeline(")
        assert "OneHotEncoder" in code, message
        namespace = dict(globals(), categorical_columns=["job", "country"])
        pipe = eval(code, namespace)  # noqa: S307 - our own message's code
        # The message's estimator is a placeholder for the user's: give it the test's settings.
        pipe.steps[-1] = (pipe.steps[-1][0], estimator)
        # On this frame the one-hot ColumnTransformer returns a sparse matrix (the issue-18 case).
        assert sp.issparse(pipe[:-1].fit_transform(X))
        pipe.fit(X, *fit_args(X), **{f"{pipe.steps[-1][0]}__{k}": v for k, v in (fit_kwargs or {}).items()})
        if check is not None:
            check(pipe, X)

    return case


def _half_views(X_encoded_width=None):
    return [("a", slice(0, None, 2)), ("b", slice(1, None, 2))]


def _mil_bags():
    bags, y = load_mil("musk1", return_X_y=True)
    keep = np.concatenate([np.flatnonzero(y == 0)[:15], np.flatnonzero(y == 1)[:15]])
    return [bags[i] for i in keep], y[keep]


def _mil_non_numeric():
    if not MILMultitaskClassifier().__sklearn_tags__().input_tags.sparse:
        pytest.skip("MILMultitaskClassifier takes no sparse instances yet (issue 17 adds them)")
    X = _categorical_frame()
    ids = np.repeat(np.arange(30), 4)
    y = np.arange(30) % 2
    settings = {k: v for k, v in FAST.items() if k != "n_components"}
    estimator = MILMultitaskClassifier(categorical_features=None, **settings)
    message = _error(lambda: estimator.fit(X, y, bag_ids=ids))
    pipe = eval(_suggested_code(message, "make_pipeline("), dict(globals(), categorical_columns=["job", "country"]))
    pipe.steps[-1] = (pipe.steps[-1][0], estimator)
    pipe.fit(X, y, **{f"{pipe.steps[-1][0]}__bag_ids": ids})


def warm_start_layout():
    est = ContrastiveEmbedder(warm_start=True, **FAST).fit(_data(d=6))
    message = _error(lambda: est.fit(_data(d=5)))
    assert "Set warm_start=False" in message
    est.set_params(warm_start=False).fit(_data(d=5))
    assert est.n_features_in_ == 5


def image_shape_mismatch():
    X = _data(d=64)
    message = _error(lambda: ContrastiveEmbedder(image_shape=(1, 7, 7), **FAST).fit(X))
    assert "Pass the (channels, height, width) of your images" in message
    ContrastiveEmbedder(image_shape=(1, 8, 8), **FAST).fit(X)


def early_stopping_too_few_rows():
    X = _data(n=3)
    message = _error(lambda: ContrastiveEmbedder(validation_fraction=0.5, early_stopping=True, **FAST).fit(X))
    assert "Use early_stopping=False or more data" in message
    ContrastiveEmbedder(validation_fraction=0.5, early_stopping=False, **FAST).fit(X)


def huge_values():
    X = _data()
    X[:, 0] *= 1e39
    message = _error(lambda: ContrastiveEmbedder(**FAST).fit(X))
    assert "(e.g. StandardScaler or a log transform)" in message
    make_pipeline(StandardScaler(), ContrastiveEmbedder(**FAST)).fit(X)
    make_pipeline(StandardScaler(), ContrastiveEmbedder(**FAST)).fit(np.log1p(np.abs(X)))


def diverged():
    X = _data() * 1e30
    diverging = ContrastiveEmbedder(**{**FAST, "max_epochs": 3, "learning_rate": 1e30})
    message = _error(lambda: diverging.fit(X), TrainingDivergedError)
    assert "lower learning_rate (e.g. by 10x), scale the features (e.g. StandardScaler)" in message
    # The message's fixes: a lower learning rate and scaled features.
    est = make_pipeline(StandardScaler(), ContrastiveEmbedder(**{**FAST, "max_epochs": 3, "learning_rate": 1e-3}))
    assert np.isfinite(est.fit(X)[-1].history_[:, "train_loss"]).all()


def objective_data():
    message = _error(lambda: ContrastiveEmbedder(objective="simclr", **FAST).fit(_data()))
    assert "Use objective='auto' or one made for tabular data" in message
    assert ContrastiveEmbedder(objective="auto", **FAST).fit(_data()).objective_ == "scarf"


def categorical_features_none():
    X = _categorical_frame()
    message = _error(lambda: ContrastiveEmbedder(categorical_features=None, **FAST).fit(X))
    assert "Set categorical_features='from_dtype' (the default)" in message
    ContrastiveEmbedder(categorical_features="from_dtype", **FAST).fit(X)
    eval(_suggested_code(message, "ContrastiveEmbedder("), dict(globals())).set_params(**FAST).fit(X)  # noqa: S307


def device_name():
    message = _error(lambda: ContrastiveEmbedder(**{**FAST, "device": "gpu"}).fit(_data()))
    assert "use 'auto', 'cpu', 'cuda' or 'cuda:N'" in message
    ContrastiveEmbedder(**{**FAST, "device": "cpu"}).fit(_data())


def cuda_missing():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: no error to trigger")
    message = _error(lambda: ContrastiveEmbedder(**{**FAST, "device": "cuda"}).fit(_data()))
    assert "use device='auto' or 'cpu'" in message
    ContrastiveEmbedder(**{**FAST, "device": "auto"}).fit(_data())


class _Noop(Callback):
    pass


def save_set_params(tmp_path):
    est = ContrastiveEmbedder(callbacks=[_Noop()], **FAST).fit(_data())
    message = _error(lambda: est.save(tmp_path / "a.sk_ssl"))
    assert "set_params (e.g. callbacks=None" in message
    est.set_params(callbacks=None).save(tmp_path / "a.sk_ssl")
    assert sk_ssl.load(tmp_path / "a.sk_ssl").transform(_data()[:2]).shape == (2, 4)


def save_use_joblib(tmp_path):
    est = ContrastiveEmbedder(callbacks=[_Noop()], **FAST).fit(_data())
    message = _error(lambda: est.save(tmp_path / "a.sk_ssl"))
    assert "joblib.dump(est, path)" in message
    path = tmp_path / "a.joblib"
    joblib.dump(est, path)
    np.testing.assert_array_equal(joblib.load(path).transform(_data()[:2]), est.transform(_data()[:2]))


def unknown_encoder():
    from sk_ssl.encoders import make_encoder

    message = _error(lambda: make_encoder("transformer", (6,), 4))
    assert "or an nn.Module class" in message
    assert make_encoder("mlp", (6,), 4)(torch.zeros(2, 6)).shape == (2, 4)
    assert make_encoder(sk_ssl.encoders.MLPEncoder, (6,), 4)(torch.zeros(2, 6)).shape == (2, 4)


def image_encoder_on_rows():
    X = _data(d=64)
    message = _error(lambda: ContrastiveEmbedder(encoder="cnn", **FAST).fit(X))
    assert "pass image_shape=(C, H, W) or a 4-D array" in message
    ContrastiveEmbedder(encoder="cnn", image_shape=(1, 8, 8), **FAST).fit(X)
    ContrastiveEmbedder(encoder="cnn", **FAST).fit(X.reshape(-1, 1, 8, 8))


def _semi(n=60, labelled=20):
    y = np.arange(n) % 2
    y[labelled:] = -1
    return y


def finetune_too_few_labels():
    y = _semi(labelled=1)
    pre = ContrastiveEmbedder(**FAST)
    message = _error(lambda: FineTuneClassifier(pretrainer=pre, **TUNE).fit(_data(), y))
    assert "Label more rows or use early_stopping=False" in message
    FineTuneClassifier(pretrainer=pre, early_stopping=False, **TUNE).fit(_data(), y)


def finetune_pretrainer_layout():
    fitted = ContrastiveEmbedder(**FAST).fit(_data(d=5))
    message = _error(lambda: FineTuneClassifier(pretrainer=fitted, **TUNE).fit(_data(d=6), _semi()))
    assert "or an unfitted pretrainer to pretrain on this X" in message
    FineTuneClassifier(pretrainer=fitted, **TUNE).fit(_data(d=5), _semi())  # the pretrainer's layout
    FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST), **TUNE).fit(_data(d=6), _semi())


def finetune_pretrainer_kind():
    pre = MultiViewEmbedder(views=_half_views(), **FAST)
    message = _error(lambda: FineTuneClassifier(pretrainer=pre, **TUNE).fit(_data(), _semi()))
    assert "Use ContrastiveEmbedder, MaskedAutoencoder or PretextEmbedder" in message
    FineTuneClassifier(pretrainer=MaskedAutoencoder(**FAST), **TUNE).fit(_data(), _semi())
    FineTuneClassifier(pretrainer=PretextEmbedder(**FAST), **TUNE).fit(_data(), _semi())


def finetune_no_labels():
    y = np.full(60, -1)
    message = _error(lambda: FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST), **TUNE).fit(_data(), y))
    assert "use the pretrainer (e.g. ContrastiveEmbedder) directly" in message
    ContrastiveEmbedder(**FAST).fit(_data())


def finetune_val_pair():
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST), **TUNE)
    message = _error(lambda: clf.fit(_data(), _semi(), X_val=_data(n=10)))
    assert "Pass both X_val and y_val" in message
    clf.fit(_data(), _semi(), X_val=_data(n=10), y_val=np.arange(10) % 2)


def finetune_missing_labels():
    y = np.where(np.arange(60) % 2, ">50K", "<=50K").astype(object)
    y[20:] = None
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST), **TUNE)
    message = _error(lambda: clf.fit(_data(), y))
    code = _suggested_code(message, "np.where(")
    y = eval(code + ".astype(object)", {"np": np, "pd": pd, "y": y})  # noqa: S307 - our own message's code
    assert list(clf.fit(_data(), y).classes_) == ["<=50K", ">50K"]


def finetune_warm_start_classes():
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST), warm_start=True, **TUNE).fit(_data(), _semi())
    y = _semi()
    y[:3] = 2
    message = _error(lambda: clf.fit(_data(), y))
    assert "set warm_start=False to fit from scratch with the new classes" in message
    assert list(clf.set_params(warm_start=False).fit(_data(), y).classes_) == [0, 1, 2]


def regressor_infinity():
    y = np.linspace(0, 1, 60)
    y[30:] = np.inf
    reg = FineTuneRegressor(pretrainer=ContrastiveEmbedder(**FAST), **TUNE)
    message = _error(lambda: reg.fit(_data(), y))
    assert "Use NaN to mark an unlabelled row" in message
    y[30:] = np.nan
    reg.fit(_data(), y)


def inverse_transform_width():
    est = MaskedAutoencoder(**FAST).fit(_data())
    message = _error(lambda: est.inverse_transform(_data()))
    assert "pass the output of transform" in message
    assert est.inverse_transform(est.transform(_data())).shape == (60, 6)


def masked_empty_columns():
    X = _data()
    X[:, 2] = np.nan
    message = _error(lambda: MaskedAutoencoder(**FAST).fit(X))
    code = _suggested_code(message, "X[")
    MaskedAutoencoder(**FAST).fit(eval(code, {"np": np, "X": X}))  # noqa: S307


def masked_empty_rows():
    X = _data()
    X[4] = np.nan
    message = _error(lambda: MaskedAutoencoder(**FAST).fit(X))
    code = _suggested_code(message, "X[")
    MaskedAutoencoder(**FAST).fit(eval(code, {"np": np, "X": X}))  # noqa: S307


def multiview_views_example():
    X = _data(d=243)
    message = _error(lambda: MultiViewEmbedder(**FAST).fit(X))
    views = eval(_suggested_code(message, '[("pixels"'), {})  # noqa: S307 - the first example, views=[...]
    MultiViewEmbedder(views=views, **FAST).fit(X)


def multiview_single_view():
    message = _error(lambda: MultiViewEmbedder(views=[("all", slice(0, None))], **FAST).fit(_data()))
    assert "For a single view use ContrastiveEmbedder" in message
    ContrastiveEmbedder(**FAST).fit(_data())


def multiview_names_without_frame():
    views = [("left", ["a", "b", "c"]), ("right", ["d", "e", "f"])]
    message = _error(lambda: MultiViewEmbedder(views=views, **FAST).fit(_data()))
    assert "pass a DataFrame or select by integer index" in message
    MultiViewEmbedder(views=views, **FAST).fit(pd.DataFrame(_data(), columns=list("abcdef")))
    MultiViewEmbedder(views=[("left", [0, 1, 2]), ("right", [3, 4, 5])], **FAST).fit(_data())


def multiview_partial_view():
    # Table views take NaN cells (missing indicators, issue 16); an image view is observed or missing whole.
    X = np.abs(_data(d=8))
    X[3, 0] = np.nan
    views = [("left", [0, 1, 2, 3], (1, 2, 2)), ("right", [4, 5, 6, 7])]
    message = _error(lambda: MultiViewEmbedder(views=views, **FAST).fit(X))
    assert "Impute the missing pixels first (e.g. SimpleImputer on those columns) or set the whole view" in message
    imputed = X.copy()
    imputed[:, :4] = SimpleImputer().fit_transform(X[:, :4])
    MultiViewEmbedder(views=views, **FAST).fit(imputed)
    whole = X.copy()
    whole[3, :4] = np.nan
    MultiViewEmbedder(views=views, **FAST).fit(whole)


def multiview_images_4d():
    X = _data(n=40, d=128).reshape(40, 2, 8, 8)
    views = [("a", slice(0, 64), (1, 8, 8)), ("b", slice(64, 128), (1, 8, 8))]
    message = _error(lambda: MultiViewEmbedder(views=views, **FAST).fit(X))
    assert "(X.reshape(len(X), -1))" in message
    MultiViewEmbedder(views=views, **FAST).fit(X.reshape(len(X), -1))


def mil_table_without_ids():
    bags, y = _mil_bags()
    table, ids = np.vstack(bags), np.repeat(np.arange(len(bags)), [len(b) for b in bags])
    mil = MILMultitaskClassifier(max_epochs=1, random_state=0, device="cpu")
    message = _error(lambda: mil.fit(table, y))
    assert "pass bag_ids (the bag of each row), or a list of 2-D bags" in message
    mil.fit(table, y, bag_ids=ids)
    mil.fit(bags, y)


def mil_bags_with_ids():
    bags, y = _mil_bags()
    mil = MILMultitaskClassifier(max_epochs=1, random_state=0, device="cpu")
    message = _error(lambda: mil.fit(bags, y, bag_ids=np.arange(len(bags))))
    assert "Pass a list of bags without bag_ids instead" in message
    mil.fit(bags, y)


def mil_mixed_ids():
    bags, y = _mil_bags()
    table = np.vstack(bags)
    ids = np.repeat(np.arange(len(bags)), [len(b) for b in bags]).astype(object)
    ids[0] = None
    mil = MILMultitaskClassifier(max_epochs=1, random_state=0, device="cpu")
    message = _error(lambda: mil.fit(table, y, bag_ids=ids), TypeError)
    assert "(e.g. all ints or all strings)" in message
    ids[0] = ids[1]
    mil.fit(table, y, bag_ids=ids.astype(int))


def mil_warm_start_tasks():
    bags, y = _mil_bags()
    mil = MILMultitaskClassifier(max_epochs=1, random_state=0, device="cpu", warm_start=True).fit(bags, y)
    Y = np.column_stack([y, 1 - y])
    message = _error(lambda: mil.fit(bags, Y))
    assert "set warm_start=False to fit from scratch" in message
    mil.set_params(warm_start=False).fit(bags, Y)


def mil_instance_encoder():
    bags, y = _mil_bags()
    mil = MILMultitaskClassifier(instance_encoder=PCA(4), max_epochs=1, random_state=0, device="cpu")
    message = _error(lambda: mil.fit(bags, y))
    assert "pass an sk_ssl embedder such as ContrastiveEmbedder" in message
    mil.set_params(instance_encoder=ContrastiveEmbedder(**FAST)).fit(bags, y)


def mil_dataset_name():
    message = _error(lambda: load_mil("musk3"))
    names = eval(_suggested_code(message, "["), {})  # noqa: S307 - the list the message offers
    assert len(load_mil(names[0]).bags) > 0


def accelerator_device():
    accelerate = pytest.importorskip("accelerate")
    accelerator = accelerate.Accelerator(cpu=True)
    message = _error(lambda: ContrastiveEmbedder(**{**FAST, "device": "meta"}, accelerator=accelerator).fit(_data()))
    assert "leave device='auto' (the accelerator decides)" in message
    ContrastiveEmbedder(**{**FAST, "device": "auto"}, accelerator=accelerator).fit(_data())


def multiview_view_name_twice():
    message = _error(lambda: MultiViewEmbedder(views=[("a", [0, 1]), ("a", [2, 3])], **FAST).fit(_data()))
    assert "give every view its own name" in message
    MultiViewEmbedder(views=[("a", [0, 1]), ("b", [2, 3])], **FAST).fit(_data())


def multiview_shared_column():
    message = _error(lambda: MultiViewEmbedder(views=[("a", [0, 1, 2]), ("b", [2, 3])], **FAST).fit(_data()))
    assert "Remove it from one of the views" in message
    MultiViewEmbedder(views=[("a", [0, 1]), ("b", [2, 3])], **FAST).fit(_data())


def multiview_rare_view():
    X = _data()
    X[1:, 3:] = np.nan  # view "b" in one row only
    views = [("a", [0, 1, 2]), ("b", [3, 4, 5])]
    message = _error(lambda: MultiViewEmbedder(views=views, **FAST).fit(X))
    assert "Drop the view or add rows that have it" in message
    X[1:, 3:] = _data()[1:, 3:]
    MultiViewEmbedder(views=views, **FAST).fit(X)  # rows that have it
    with pytest.raises(ValueError, match="at least two views"):  # dropping it leaves one view: the next message
        MultiViewEmbedder(views=views[:1], **FAST).fit(X)


def multiview_empty_rows():
    X = _data()
    X[7] = np.nan
    views = [("a", [0, 1, 2]), ("b", [3, 4, 5])]
    message = _error(lambda: MultiViewEmbedder(views=views, **FAST).fit(X))
    assert "Drop those rows" in message
    MultiViewEmbedder(views=views, **FAST).fit(X[~np.isnan(X).all(axis=1)])


def mil_empty_bag():
    bags, y = _mil_bags()
    bags[3] = bags[3][:0]
    mil = MILMultitaskClassifier(max_epochs=1, random_state=0, device="cpu")
    message = _error(lambda: mil.fit(bags, y))
    assert "Drop empty bags (and their labels)" in message
    keep = [i for i, bag in enumerate(bags) if len(bag)]
    mil.fit([bags[i] for i in keep], y[keep])


def mil_single_task_nan():
    bags, y = _mil_bags()
    y = y.astype(float)
    y[:4] = np.nan
    mil = MILMultitaskClassifier(max_epochs=1, random_state=0, device="cpu")
    message = _error(lambda: mil.fit(bags, y))
    assert "For a single task drop the unlabelled bags" in message
    labelled = ~np.isnan(y)
    mil.fit([bag for bag, keep in zip(bags, labelled) if keep], y[labelled])
    mil.fit(bags, y.reshape(-1, 1))  # or a 2-D y, where NaN is a missing label


def mil_task_without_labels():
    bags, y = _mil_bags()
    Y = np.column_stack([y, np.full(len(y), np.nan)])
    mil = MILMultitaskClassifier(max_epochs=1, random_state=0, device="cpu")
    message = _error(lambda: mil.fit(bags, Y))
    assert "Drop that column or label some of its bags" in message
    mil.fit(bags, Y[:, :1])
    Y[:10, 1] = np.arange(10) % 2
    mil.fit(bags, Y)


def _finetune_classifier(X):
    return FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FAST), categorical_features=None, **TUNE)


CASES = {
    # The non-numeric hint of sk_ssl._base (_NON_NUMERIC_HINT), once per estimator that takes rows.
    # ContrastiveEmbedder reads categorical DataFrame columns natively (issue 16): its own suggestion
    # is the categorical_features_none case below, not the one-hot pipeline.
    "categorical_features_none": categorical_features_none,
    # Every tabular estimator reads categorical columns natively now (issue 16): the one-hot pipeline is
    # the suggestion of categorical_features=None.
    "non_numeric-MaskedAutoencoder": _non_numeric(lambda X: MaskedAutoencoder(categorical_features=None, **FAST)),
    "non_numeric-MultiViewEmbedder": _non_numeric(
        lambda X: MultiViewEmbedder(views=_half_views(), categorical_features=None, **FAST)
    ),
    "non_numeric-FineTuneClassifier": _non_numeric(
        _finetune_classifier, fit_args=lambda X: (_semi(len(X)),), check=lambda pipe, X: pipe.predict(X.iloc[:3])
    ),
    "non_numeric-FineTuneRegressor": _non_numeric(
        lambda X: FineTuneRegressor(pretrainer=MaskedAutoencoder(**FAST), categorical_features=None, **TUNE),
        fit_args=lambda X: (np.where(np.arange(len(X)) < 40, X["age"], np.nan),),
    ),
    "non_numeric-MILMultitaskClassifier": _mil_non_numeric,
    "warm_start_layout": warm_start_layout,
    "image_shape_mismatch": image_shape_mismatch,
    "early_stopping_too_few_rows": early_stopping_too_few_rows,
    "huge_values": huge_values,
    "diverged": diverged,
    "objective_data": objective_data,
    "device_name": device_name,
    "cuda_missing": cuda_missing,
    "save_set_params": save_set_params,
    "save_use_joblib": save_use_joblib,
    "unknown_encoder": unknown_encoder,
    "image_encoder_on_rows": image_encoder_on_rows,
    "finetune_too_few_labels": finetune_too_few_labels,
    "finetune_pretrainer_layout": finetune_pretrainer_layout,
    "finetune_pretrainer_kind": finetune_pretrainer_kind,
    "finetune_no_labels": finetune_no_labels,
    "finetune_val_pair": finetune_val_pair,
    "finetune_missing_labels": finetune_missing_labels,
    "finetune_warm_start_classes": finetune_warm_start_classes,
    "regressor_infinity": regressor_infinity,
    "inverse_transform_width": inverse_transform_width,
    "masked_empty_columns": masked_empty_columns,
    "masked_empty_rows": masked_empty_rows,
    "multiview_views_example": multiview_views_example,
    "multiview_single_view": multiview_single_view,
    "multiview_names_without_frame": multiview_names_without_frame,
    "multiview_partial_view": multiview_partial_view,
    "multiview_images_4d": multiview_images_4d,
    "mil_table_without_ids": mil_table_without_ids,
    "mil_bags_with_ids": mil_bags_with_ids,
    "mil_mixed_ids": mil_mixed_ids,
    "mil_warm_start_tasks": mil_warm_start_tasks,
    "mil_instance_encoder": mil_instance_encoder,
    "mil_dataset_name": mil_dataset_name,
    "accelerator_device": accelerator_device,
    "multiview_view_name_twice": multiview_view_name_twice,
    "multiview_shared_column": multiview_shared_column,
    "multiview_rare_view": multiview_rare_view,
    "multiview_empty_rows": multiview_empty_rows,
    "mil_empty_bag": mil_empty_bag,
    "mil_single_task_nan": mil_single_task_nan,
    "mil_task_without_labels": mil_task_without_labels,
}


@pytest.mark.parametrize("name", list(CASES))
def test_suggested_fix_works(name, request):
    case = CASES[name]
    kwargs = {"tmp_path": request.getfixturevalue("tmp_path")} if "tmp_path" in case.__code__.co_varnames else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        case(**kwargs)


# Messages that suggest a fix (grep for "e.g.", "Use ", "Set ", "pass ", "make_pipeline" in sk_ssl/) and
# the case that runs it; a new suggestion needs a case here.
SUGGESTIONS = {
    "make_pipeline(ColumnTransformer": "non_numeric-*",
    "Set warm_start=False (or use a new estimator)": "warm_start_layout",
    "Pass the (channels, height, width) of your images": "image_shape_mismatch",
    "Use early_stopping=False or more data": "early_stopping_too_few_rows",
    "(e.g. StandardScaler or a log transform)": "huge_values",
    "lower learning_rate (e.g. by 10x)": "diverged",
    "Set categorical_features='from_dtype' (the default)": "categorical_features_none",
    "Use objective='auto' or one made for": "objective_data",
    "use 'auto', 'cpu', 'cuda' or 'cuda:N'": "device_name",
    "use device='auto' or 'cpu'": "cuda_missing",
    "Set it to None or a plain value with set_params": "save_set_params",
    "Use pickle or joblib instead (joblib.dump(est, path))": "save_use_joblib",
    "or an nn.Module class": "unknown_encoder",
    "pass image_shape=(C, H, W) or a 4-D array": "image_encoder_on_rows",
    "Label more rows or use early_stopping=False": "finetune_too_few_labels",
    "or an unfitted pretrainer to pretrain on this X": "finetune_pretrainer_layout",
    "Use ContrastiveEmbedder, MaskedAutoencoder or PretextEmbedder": "finetune_pretrainer_kind",
    "use the pretrainer (e.g. ContrastiveEmbedder) directly": "finetune_no_labels",
    "Pass both X_val and y_val": "finetune_val_pair",
    "Mark unlabelled rows with -1": "finetune_missing_labels",
    "set warm_start=False to fit from scratch with the new classes": "finetune_warm_start_classes",
    "Use NaN to mark an unlabelled row": "regressor_infinity",
    "pass the output of transform": "inverse_transform_width",
    "(e.g. X[:, ~np.isnan(X).all(axis=0)])": "masked_empty_columns",
    "(e.g. X[~np.isnan(X).all(axis=1)])": "masked_empty_rows",
    "e.g. views=[": "multiview_views_example",
    "For a single view use ContrastiveEmbedder": "multiview_single_view",
    "pass a DataFrame": "multiview_names_without_frame",
    "(e.g. SimpleImputer on those columns)": "multiview_partial_view",
    "(X.reshape(len(X), -1))": "multiview_images_4d",
    "pass bag_ids (the bag of each row)": "mil_table_without_ids",
    "Pass a list of bags without bag_ids": "mil_bags_with_ids",
    "(e.g. all ints or all strings)": "mil_mixed_ids",
    "which needs the same tasks; set warm_start=False": "mil_warm_start_tasks",
    "pass an sk_ssl embedder such as ContrastiveEmbedder": "mil_instance_encoder",
    "Unknown MIL data set": "mil_dataset_name",
    "leave device='auto' (the accelerator decides)": "accelerator_device",
    "give every view its own name": "multiview_view_name_twice",
    "Remove it from one of the views": "multiview_shared_column",
    "Drop the view or add rows that have it": "multiview_rare_view",
    "Drop those rows": "multiview_empty_rows",
    "Drop empty bags (and their labels)": "mil_empty_bag",
    "For a single task drop the unlabelled bags": "mil_single_task_nan",
    "Drop that column or label some of its bags": "mil_task_without_labels",
}


def test_every_listed_suggestion_is_still_in_the_source_and_has_a_case():
    # A message reworded away from its suggestion shows up here, as does a case with no suggestion.
    from pathlib import Path

    source = " ".join(
        re.sub(r'"\s*\n\s*f?"', "", path.read_text()) for path in Path(sk_ssl.__file__).parent.rglob("*.py")
    )
    for fragment, case in SUGGESTIONS.items():
        assert fragment in source, f"no message suggests {fragment!r} any more: re-target case {case!r}"
        assert any(name == case or (case.endswith("*") and name.startswith(case[:-1])) for name in CASES), case
