"""Property-based tests: bad input never escapes as a crash or a NaN.

Whatever hypothesis throws at a public estimator (odd shapes and dtypes, NaN
and inf, empty and single-sample inputs, tiny and huge values, unknown labels,
a wrong number of features, strings, malformed bags), each call either works
and returns finite output of the documented shape, or raises ValueError or
TypeError (NotFittedError is a ValueError) with a message. Any other exception
type, or a NaN in the output, fails the test.

Models are tiny and train for one epoch; examples are derandomized so a run
is repeatable.
"""

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sk_ssl import FineTuneClassifier
from sk_ssl._testing import _tested_estimator

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
# The fast configurations of sk_ssl._testing, tinier still: one epoch, batches of 4, 3 components.
TINY = dict(max_epochs=1, batch_size=4, n_components=3)
# The fine-tuners' pretrainers get the same; no early stopping, as before.
_TINY_FINETUNE = dict(max_epochs=1, batch_size=4, pretrainer__n_components=3, pretrainer__batch_size=4)

EMBEDDERS = {
    "contrastive": lambda: _tested_estimator("ContrastiveEmbedder", **TINY),
    "masked": lambda: _tested_estimator("MaskedAutoencoder", **TINY),
    "multiview": lambda: _tested_estimator("MultiViewEmbedder", projection_dim=3, **TINY),
}
SUPERVISED = {
    "finetune_classifier": lambda: _tested_estimator("FineTuneClassifier", early_stopping=False, **_TINY_FINETUNE),
    "finetune_regressor": lambda: _tested_estimator("FineTuneRegressor", early_stopping=False, **_TINY_FINETUNE),
}


def _mil():
    return _tested_estimator("MILMultitaskClassifier", hidden_dims=(4,), attention_dim=3, **TINY)


# ------------------------------------------------------------------ strategies
_SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1e30, -1e30, 3e38, 1e300, np.nan, np.inf, -np.inf]


@st.composite
def cells(draw, n):
    """``n`` values: plain, at one scale (tiny or huge), or plain with a few special cells."""
    mode = draw(st.sampled_from(["plain", "scaled", "special"]))
    out = np.array(draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n)), dtype=np.float64)
    if mode == "scaled":
        out *= draw(st.sampled_from([1e-30, 1e-8, 1e8, 1e30]))
    elif mode == "special" and n:
        for i in draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3)):
            out[i] = draw(st.sampled_from(_SPECIAL))
    return out


@st.composite
def matrices(draw, rows=(0, 7), cols=(0, 5), kinds=None):
    """An "X" of any layout: numeric arrays of several dtypes, strings, complex,
    1-D/3-D/4-D arrays, DataFrames with a string column, nested lists; plain
    float64 half of the time, so that fitting often gets far enough to predict."""
    n = draw(st.integers(*rows))
    d = draw(st.integers(*cols))
    kinds = kinds or ["float32", "int", "bool", "complex", "str", "object", "1d", "3d", "4d", "frame", "list"]
    kind = draw(st.one_of(st.just("float64"), st.sampled_from(kinds)))
    base = draw(cells(n * d)).reshape(n, d)
    if kind == "float64":
        return base
    if kind == "float32":
        with np.errstate(over="ignore"):
            return base.astype(np.float32)
    if kind == "int":
        return np.nan_to_num(base, posinf=7, neginf=-7).clip(-1e6, 1e6).astype(np.int64)
    if kind == "bool":
        return base > 0
    if kind == "complex":
        return base + 1j
    if kind == "str":
        return base.astype(str)
    if kind == "object":
        out = base.astype(object)
        if out.size:
            out.flat[0] = draw(st.sampled_from(["a", None, "1.5", b"x"]))
        return out
    if kind == "1d":
        return base.ravel()
    if kind == "3d":
        return base.reshape(n, d, 1)
    if kind == "4d":
        return base.reshape(n, 1, 1, d)
    if kind == "frame":
        frame = pd.DataFrame(base, columns=[f"c{j}" for j in range(d)])
        if d and draw(st.booleans()):
            frame["c0"] = draw(st.sampled_from(["a", "b"]))
        return frame
    return base.tolist()


def _good_X(n=12, d=4, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d))


# ------------------------------------------------------------------ contract
def _outcome(call):
    """Run ``call``: return its result, or None after a ValueError/TypeError with a message."""
    try:
        out = call()
    except (ValueError, TypeError) as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        event(f"raised {type(exc).__name__}")  # shown by pytest --hypothesis-show-statistics
        return None
    event("worked")
    return out


def _n_rows(X):
    return len(X)


def _check_finite(out, shape):
    out = np.asarray(out)
    assert out.shape == shape, (out.shape, shape)
    assert np.isfinite(out).all(), "non-finite output"


def _check_embedder(est, X):
    Z = _outcome(lambda: est.transform(X))
    if Z is not None:
        _check_finite(Z, (_n_rows(X), len(est.get_feature_names_out())))


@functools.lru_cache(maxsize=None)
def _fitted(name):
    """One estimator per kind fitted on good data, for predict-time properties."""
    X = _good_X()
    if name in EMBEDDERS:
        return EMBEDDERS[name]().fit(X)
    if name == "finetune_classifier":
        return SUPERVISED[name]().fit(X, np.array(["a", "b", "c"] * 4))
    if name == "finetune_regressor":
        return SUPERVISED[name]().fit(X, X[:, 0])
    bags = [_good_X(3, 3, seed) for seed in range(6)]
    return _mil().fit(bags, [0, 1] * 3)


# ----------------------------------------------------------------- embedders
@pytest.mark.parametrize("name", list(EMBEDDERS))
@SETTINGS
@given(X=matrices())
def test_embedder_fit_any_X(name, X):
    est = _outcome(lambda: EMBEDDERS[name]().fit(X))
    if est is not None:
        _check_embedder(est, X)


@pytest.mark.parametrize("name", list(EMBEDDERS))
@SETTINGS
@given(X=st.one_of(matrices(cols=(4, 4)), matrices()))
def test_embedder_transform_any_X(name, X):
    _check_embedder(_fitted(name), X)


@SETTINGS
@given(X=st.one_of(matrices(cols=(4, 4)), matrices()))
def test_masked_reconstruct_any_X(X):
    filled = _outcome(lambda: _fitted("masked").reconstruct(X))
    if filled is not None:
        _check_finite(filled, np.shape(X))


@SETTINGS
@given(Z=st.one_of(matrices(cols=(3, 3)), matrices()))
def test_masked_inverse_transform_any_Z(Z):
    out = _outcome(lambda: _fitted("masked").inverse_transform(Z))
    if out is not None:
        _check_finite(out, (len(Z), 4))


@SETTINGS
@given(X=st.one_of(matrices(cols=(4, 4)), matrices()))
def test_multiview_views_and_weights_any_X(X):
    est = _fitted("multiview")
    weights = _outcome(lambda: est.view_weights(X))
    if weights is not None:
        _check_finite(weights, (len(X), 2))
    views = _outcome(lambda: est.transform_views(X))
    if views is not None:  # NaN marks a missing view (documented); never inf
        assert all(v.shape == (len(X), est.n_components) and not np.isinf(v).any() for v in views.values())


def test_embedder_before_fit_is_not_fitted():
    from sklearn.exceptions import NotFittedError

    for make in EMBEDDERS.values():
        with pytest.raises(NotFittedError):
            make().transform(_good_X())


# --------------------------------------------------------------- fine-tuning
def labels(n):
    """``n`` targets of many kinds: ints with -1 (unlabelled), strings, floats with NaN/inf/huge, bools, 2-D."""
    return st.one_of(
        st.lists(st.sampled_from([0, 1, 2, -1]), min_size=n, max_size=n),
        st.lists(st.sampled_from(["a", "b", "-1", ""]), min_size=n, max_size=n),
        st.lists(st.sampled_from([0.5, 1.5, -2.0, np.nan, np.inf, 1e-30, 1e30, 1e300]), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.lists(st.integers(0, 1), min_size=2, max_size=2), min_size=n, max_size=n),  # 2-D y
    )


@st.composite
def xy(draw):
    """``(X, y)``; y usually has one target per row of X, sometimes one too many or too few."""
    X = draw(matrices(rows=(0, 9), kinds=["int", "str", "frame", "1d", "float32"]))
    n = max(len(X) + draw(st.sampled_from([0, 0, 0, 0, -1, 1])), 0)
    return X, draw(labels(n))


@pytest.mark.parametrize("name", list(SUPERVISED))
@SETTINGS
@given(data=xy())
def test_fine_tuner_fit_any_X_y(name, data):
    X, y = data
    est = _outcome(lambda: SUPERVISED[name]().fit(X, y))
    if est is None:
        return
    _check_predictions(est, X)


def _check_predictions(est, X):
    n = _n_rows(X)
    pred = _outcome(lambda: est.predict(X))
    if pred is None:
        return
    assert np.asarray(pred).shape == (n,)
    if isinstance(est, FineTuneClassifier):
        assert np.isin(pred, est.classes_).all()
        _check_finite(est.predict_proba(X), (n, len(est.classes_)))
    else:
        _check_finite(pred, (n,))


@pytest.mark.parametrize("name", list(SUPERVISED))
@SETTINGS
@given(X=st.one_of(matrices(cols=(4, 4)), matrices()))
def test_fine_tuner_predict_any_X(name, X):
    _check_predictions(_fitted(name), X)


@SETTINGS
@given(y_val=st.integers(0, 4).flatmap(labels))
def test_fine_tuner_validation_labels(y_val):
    X = _good_X()
    est = _tested_estimator("FineTuneClassifier", **_TINY_FINETUNE)
    est = _outcome(lambda: est.fit(X, [0, 1, 2] * 4, X_val=X[: len(y_val)], y_val=y_val))
    if est is not None:
        _check_predictions(est, X)


# ----------------------------------------------------------------------- MIL
@st.composite
def bag_lists(draw):
    """Lists of bags: ragged, sometimes empty, with NaN/huge values, sometimes of mismatched widths."""
    n_bags = draw(st.integers(0, 5))
    d = draw(st.sampled_from([0, 1, 3, 3, 3, 3]))  # 3: the width of the fitted model
    bags = []
    for _ in range(n_bags):
        rows = draw(st.sampled_from([0, 1, 2, 3, 1, 2, 3, 1, 2, 3]))  # empty now and then
        width = d if draw(st.integers(0, 19)) else d + 1
        bags.append(draw(cells(rows * width)).reshape(rows, width))
    return bags


@st.composite
def perturbed_bags(draw):
    """Well-formed bags and labels with at most one fault: NaN/inf/huge cells, an empty bag, a bag of
    another width, labels of the wrong length or shape, unknown labels, or a table with wrong bag_ids."""
    n_bags = draw(st.integers(2, 5))
    sizes = draw(st.lists(st.integers(1, 3), min_size=n_bags, max_size=n_bags))
    bags = [draw(cells(rows * 3)).reshape(rows, 3) for rows in sizes]
    y = [i % 2 for i in range(n_bags)]
    bag_ids = None
    fault = draw(st.sampled_from(["none", "empty", "width", "y_short", "y_2d", "y_3d", "y_str", "table", "ids"]))
    if fault == "empty":
        bags[draw(st.integers(0, n_bags - 1))] = np.empty((0, 3))
    elif fault == "width":
        bags[-1] = np.zeros((2, 4))
    elif fault == "y_short":
        y = y[:-1]
    elif fault == "y_2d":
        y = [[label, draw(st.sampled_from([0, 1, -1, np.nan]))] for label in y]
    elif fault == "y_3d":
        y = np.reshape(y, (-1, 1, 1))
    elif fault == "y_str":
        y = [draw(st.sampled_from(["a", "b", 2.5])) for _ in y]
    elif fault in ("table", "ids"):
        bag_ids = np.repeat(np.arange(n_bags), [len(b) for b in bags])
        bags = np.concatenate(bags)
        if fault == "ids":
            bag_ids = bag_ids[: draw(st.integers(0, len(bag_ids) - 1))]
    return bags, y, bag_ids


@st.composite
def mil_inputs(draw):
    """``(X, y, bag_ids)`` for fit: a list of bags, or one table with (possibly wrong) bag_ids."""
    if draw(st.booleans()):
        return draw(perturbed_bags())
    if draw(st.booleans()):
        X = draw(bag_lists())
        bag_ids = None
        n_bags = len(X)
    else:
        X = draw(matrices(rows=(0, 8), cols=(0, 3), kinds=["float64", "int", "frame", "1d", "str"]))
        n = len(X) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        bag_ids = draw(st.lists(st.sampled_from([0, 1, 2, "x"]), min_size=max(n, 0), max_size=max(n, 0)))
        n_bags = len(set(bag_ids))
    y_len = n_bags + draw(st.sampled_from([0, 0, 0, -1, 1]))
    y = draw(
        st.one_of(
            st.lists(st.sampled_from([0, 1, "a"]), min_size=max(y_len, 0), max_size=max(y_len, 0)),
            st.lists(
                st.lists(st.sampled_from([0, 1, -1, np.nan]), min_size=2, max_size=2),
                min_size=max(y_len, 0),
                max_size=max(y_len, 0),
            ),
            st.just(np.zeros((max(y_len, 0), 1, 1))),
        )
    )
    return X, y, bag_ids


def _check_mil(est, X, bag_ids):
    proba = _outcome(lambda: est.predict_proba(X, bag_ids=bag_ids))
    if proba is None:
        return
    n_bags = len(X) if bag_ids is None else len(set(np.asarray(bag_ids).tolist()))
    for p in proba if isinstance(proba, list) else [proba]:
        assert len(p) == n_bags and np.isfinite(p).all()
    assert len(est.predict(X, bag_ids=bag_ids)) == n_bags
    assert np.isfinite(est.decision_function(X, bag_ids=bag_ids)).all()
    weights = est.instance_weights(X, bag_ids=bag_ids) if est.pooling != "mean" else []
    assert all(np.isfinite(w).all() for w in weights)


@settings(SETTINGS, max_examples=80)  # most draws are malformed: more of them for enough that fit
@given(inputs=mil_inputs())
def test_mil_fit_any_bags(inputs):
    X, y, bag_ids = inputs
    est = _outcome(lambda: _mil().fit(X, y, bag_ids=bag_ids))
    if est is not None:
        _check_mil(est, X, bag_ids)


@settings(SETTINGS, max_examples=60)
@given(inputs=mil_inputs())
def test_mil_predict_any_bags(inputs):
    X, _, bag_ids = inputs
    _check_mil(_fitted("mil"), X, bag_ids)
