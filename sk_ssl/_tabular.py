"""Mixed-type tables: categorical columns as fitted vocabularies of integer codes.

An estimator with a ``categorical_features`` parameter (ContrastiveEmbedder
for now) accepts a pandas DataFrame with ``category``, ``object``/``string``
and ``bool`` columns as it is. At ``fit`` every categorical column gets a
vocabulary (``categories_``); the column is then passed on as integer codes
(stored as floats next to the numeric columns, so validation, feature names
and the rest of the pipeline see one numeric table):

* code 0: missing (NaN, None, ``pd.NA``);
* code 1: unknown, i.e. a category not seen in ``fit``, and the categories
  beyond the cap (see below);
* codes 2, 3, ...: the column's categories, most frequent first (ties in
  sorted order).

At most ``MAX_CATEGORIES`` (100) categories per column keep their own code;
rarer ones share the unknown code, so a high-cardinality column (an ID, free
text) stays bounded. Unknown categories at ``transform`` map to code 1 with a
warning that counts them. Inside the network each code column is left
unstandardized and looked up in a learned embedding (:class:`_CodeEmbedding`);
SCARF corruption draws codes from their frequencies (a code column has at
most ``MAX_CATEGORIES + 2 <= 128`` distinct values, so its summary is exact).
"""

import warnings

import numpy as np
import torch
from torch import nn

MAX_CATEGORIES = 100
MISSING, UNKNOWN, FIRST = 0, 1, 2


def _is_categorical_dtype(dtype):
    import pandas as pd

    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def _categorical_mask(X, categorical_features, name):
    """Boolean mask of the categorical columns of X, or None when there are none."""
    columns = getattr(X, "columns", None)
    if categorical_features is None:
        return None
    if isinstance(categorical_features, str):  # "from_dtype"
        if columns is None or not hasattr(X, "dtypes"):
            return None
        mask = np.array([_is_categorical_dtype(dtype) for dtype in X.dtypes])
        return mask if mask.any() else None
    n_features = _n_columns(X)
    features = np.asarray(categorical_features)
    mask = np.zeros(n_features, dtype=bool)
    if features.dtype.kind == "b":
        if features.shape != (n_features,):
            raise ValueError(
                f"categorical_features as a boolean mask needs one entry per feature ({n_features}), "
                f"got shape {features.shape}."
            )
        mask = features.copy()
    elif features.dtype.kind in "iu":
        if features.size and (features.min() < -n_features or features.max() >= n_features):
            raise ValueError(f"categorical_features indices must be in [0, {n_features}), got {features.tolist()}.")
        mask[features] = True
    elif features.dtype.kind in "UO":
        if columns is None:
            raise ValueError(
                f"categorical_features names columns ({features.tolist()}), but X has no column names; "
                "pass a DataFrame or give column indices."
            )
        missing = [f for f in features.tolist() if f not in list(columns)]
        if missing:
            raise ValueError(f"categorical_features names columns {missing} that X does not have.")
        mask = np.isin(np.asarray(columns, dtype=object), features)
    else:
        raise ValueError(f"categorical_features must be 'from_dtype', None, a boolean mask, indices or names; got "
                         f"{categorical_features!r}.")  # fmt: skip
    return mask if mask.any() else None


def _n_columns(X):
    return X.shape[1] if hasattr(X, "shape") else np.asarray(X).shape[1]


def _column(X, j):
    if hasattr(X, "iloc"):
        return X.iloc[:, j].to_numpy(dtype=object, na_value=np.nan)
    return np.asarray(X)[:, j].astype(object)


def _is_missing(values):
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def _vocabulary(values):
    """The column's categories with their own code: most frequent first, at most MAX_CATEGORIES."""
    observed = values[~_is_missing(values)]
    if len(observed) == 0:
        return np.array([], dtype=object)
    kinds = {type(v) for v in observed}
    if len(kinds) > 1 and not all(issubclass(k, (bool, np.bool_, int, np.integer, float, np.floating)) for k in kinds):
        # Mixed types (e.g. 1 and "1") are distinct categories; sort by their text.
        keys = np.array([f"{type(v).__name__}:{v}" for v in observed], dtype=object)
    else:
        keys = observed
    uniques, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = np.lexsort((np.arange(len(uniques)), -counts))[:MAX_CATEGORIES]
    return np.array([observed[first[i]] for i in order], dtype=object)


def _fit_categories(X, mask):
    """``categories_``: one object array of categories per categorical column, None for numeric ones."""
    return [_vocabulary(_column(X, j)) if is_cat else None for j, is_cat in enumerate(mask)]


def _encode(X, categories, name, warn):
    """X with every categorical column replaced by its float codes, as a float64 array or DataFrame."""
    import pandas as pd

    frame = X if hasattr(X, "iloc") else None
    out = {}
    unknown = {}
    for j, cats in enumerate(categories):
        if cats is None:
            column = frame.iloc[:, j] if frame is not None else np.asarray(X)[:, j]
            try:
                out[j] = pd.to_numeric(pd.Series(np.asarray(column, dtype=object)), errors="raise").to_numpy(float)
            except (TypeError, ValueError) as exc:
                label = frame.columns[j] if frame is not None else j
                raise ValueError(
                    f"Column {label!r} was numeric in fit but holds non-numeric values now ({exc}). Pass the "
                    f"columns of fit, or name it in categorical_features when fitting {name}."
                ) from exc
            continue
        values = _column(X, j)
        missing = _is_missing(values)
        lookup = {value: FIRST + k for k, value in enumerate(cats.tolist())}
        codes = np.full(len(values), UNKNOWN, dtype=float)
        codes[missing] = MISSING
        for i in np.flatnonzero(~missing):
            code = lookup.get(values[i])
            if code is not None:
                codes[i] = code
        n_unknown = int((codes == UNKNOWN).sum())
        if n_unknown:
            label = frame.columns[j] if frame is not None else j
            unknown[label] = n_unknown
        out[j] = codes
    if warn and unknown:
        warnings.warn(
            f"{name}: categories not seen in fit (or beyond the {MAX_CATEGORIES} most frequent) were mapped to "
            f"the reserved 'unknown' code: {unknown} (column: number of cells).",
            UserWarning,
            stacklevel=4,
        )
    array = np.column_stack([out[j] for j in range(len(categories))])
    if frame is not None:
        return pd.DataFrame(array, columns=frame.columns, index=frame.index)
    return array


def _encode_table(estimator, X, reset):
    """Categorical columns of X as codes for estimators with ``categorical_features``; X unchanged otherwise.

    ``reset=True`` resolves the categorical columns and fits their
    vocabularies (``categorical_features_``, ``categories_``); later calls
    apply the fitted ones. Without categorical columns, X is returned as it is
    (and ``categories_`` is None).
    """
    if "categorical_features" not in estimator._get_param_names() or getattr(X, "ndim", 2) != 2:
        return X
    import pandas as pd

    name = type(estimator).__name__
    if reset:
        if estimator.categorical_features is None and hasattr(X, "dtypes"):
            bad = [
                str(col)
                for col, dtype in zip(X.columns, X.dtypes)
                if _is_categorical_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)  # bools pass as 0/1
            ]
            if bad:
                raise ValueError(
                    f"Non-numeric columns {bad} with categorical_features=None. Set "
                    f"categorical_features='from_dtype' (the default) to encode them as categories, or name them: "
                    f"{name}(categorical_features={bad!r})."
                )
        mask = _categorical_mask(X, estimator.categorical_features, name)
        estimator.categorical_features_ = mask
        estimator.categories_ = None if mask is None else _fit_categories(X, mask)
    categories = getattr(estimator, "categories_", None)
    if categories is None:
        return X
    if _n_columns(X) != len(categories):
        return X  # validation then reports the wrong number of features
    return _encode(X, categories, name, warn=not reset)


def _code_columns(estimator):
    """Indices of the code columns and their number of codes (categories + missing + unknown)."""
    categories = getattr(estimator, "categories_", None)
    if categories is None:
        return [], []
    columns = [j for j, cats in enumerate(categories) if cats is not None]
    return columns, [FIRST + len(categories[j]) for j in columns]


def _embedding_dim(n_codes):
    return int(min(16, max(2, round(1.6 * n_codes**0.56))))


class _CodeEmbedding(nn.Module):
    """Numeric columns as they come, each code column looked up in its own learned embedding.

    Parameters
    ----------
    n_features : int
        Columns of the (standardized) input.
    code_columns : list of int
        The code columns (left unstandardized: mean 0, scale 1).
    n_codes : list of int
        Codes per code column.
    """

    def __init__(self, n_features, code_columns, n_codes):
        super().__init__()
        self.code_columns = list(code_columns)
        self.numeric_columns = [j for j in range(n_features) if j not in set(self.code_columns)]
        self.n_codes = list(n_codes)
        self.embeddings = nn.ModuleList(nn.Embedding(n, _embedding_dim(n)) for n in self.n_codes)
        self.out_features = len(self.numeric_columns) + sum(_embedding_dim(n) for n in self.n_codes)

    def forward(self, x):
        parts = [x[:, self.numeric_columns]]
        for j, n, embedding in zip(self.code_columns, self.n_codes, self.embeddings):
            codes = x[:, j].round().long().clamp(0, n - 1)
            parts.append(embedding(codes).to(x.dtype))
        return torch.cat(parts, dim=1)


def _with_code_embedding(estimator, make_encoder, encoder, n_features, n_components):
    """``make_encoder(encoder, (n_features,), n_components)``, behind a code embedding when X has code columns."""
    columns, n_codes = _code_columns(estimator)
    if not columns:
        return make_encoder(encoder, (n_features,), n_components)
    embedding = _CodeEmbedding(n_features, columns, n_codes)
    return nn.Sequential(embedding, make_encoder(encoder, (embedding.out_features,), n_components))


def _unstandardized_codes(estimator, mean, scale):
    """Mean 0 and scale 1 for the code columns: the embedding looks the raw codes up."""
    columns, _ = _code_columns(estimator)
    if columns:
        mean, scale = np.array(mean, dtype=np.float64, copy=True), np.array(scale, dtype=np.float64, copy=True)
        mean[columns], scale[columns] = 0.0, 1.0
    return mean, scale


def _unit_moments(estimator, moments):
    """Running (count, mean, M2) with the code columns pinned at mean 0, variance 1."""
    columns, _ = _code_columns(estimator)
    if not columns:
        return moments
    count, mean, m2 = moments
    mean, m2 = np.array(mean, dtype=np.float64, copy=True), np.array(m2, dtype=np.float64, copy=True)
    mean[columns] = 0.0
    m2[columns] = np.asarray(count, dtype=np.float64)[columns]
    return count, mean, m2
