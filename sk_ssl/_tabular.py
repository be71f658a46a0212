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

from ._marginals import _missing_shares

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
    if "categorical_features" not in estimator._get_param_names():
        return X
    if getattr(X, "ndim", 2) != 2:
        if reset:  # images: no vocabularies, not even those of an earlier fit on a table
            estimator.categorical_features_ = estimator.categories_ = None
        return X
    import pandas as pd

    name = type(estimator).__name__
    fixed = getattr(estimator, "_fixed_encoding", None) if reset else None
    if fixed is not None:
        # An encoding resolved elsewhere (a fine-tuner passing its coded rows to its pretrainer, or adopting
        # a fitted pretrainer's vocabularies): see _FixedEncoding.
        estimator.categorical_features_, estimator.categories_ = fixed.mask, fixed.categories
        if fixed.encoded or fixed.categories is None or _n_columns(X) != len(fixed.categories):
            return X
        return _encode(X, fixed.categories, name, warn=True)
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
                    f"{name}(categorical_features={bad!r}). Or encode them yourself, e.g. "
                    "make_pipeline(ColumnTransformer([('cat', OneHotEncoder(), categorical_columns)], "
                    f"remainder='passthrough'), {name}(categorical_features=None))."
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


def _numeric_columns(n_features, code_columns):
    """The columns of ``range(n_features)`` that are not code columns, in order."""
    return sorted(set(range(n_features)) - set(code_columns))


def _embedding_dim(n_codes):
    return int(min(16, max(2, round(1.6 * n_codes**0.56))))


class _CodeEmbedding(nn.Module):
    """Numeric columns as they come, missing indicators, each code column looked up in a learned embedding.

    Parameters
    ----------
    n_features : int
        Columns of the (standardized) input.
    code_columns : list of int
        The code columns (left unstandardized: mean 0, scale 1).
    n_codes : list of int
        Codes per code column.
    nan_columns : list of int, default=()
        Numeric columns that get a missing-indicator channel (1.0 where the
        cell is NaN). Every NaN numeric cell enters as 0, the training mean.
    """

    def __init__(self, n_features, code_columns, n_codes, nan_columns=()):
        super().__init__()
        self.code_columns = list(code_columns)
        self.numeric_columns = _numeric_columns(n_features, self.code_columns)
        self.nan_columns = list(nan_columns)
        self.n_codes = list(n_codes)
        self.embeddings = nn.ModuleList(nn.Embedding(n, _embedding_dim(n)) for n in self.n_codes)
        self.out_features = (
            len(self.numeric_columns) + len(self.nan_columns) + sum(_embedding_dim(n) for n in self.n_codes)
        )

    def forward(self, x):
        parts = [_nan_to_zero(x[:, self.numeric_columns])]
        if self.nan_columns:
            parts.append(torch.isnan(x[:, self.nan_columns]).to(x.dtype))
        for j, n, embedding in zip(self.code_columns, self.n_codes, self.embeddings):
            codes = torch.nan_to_num(x[:, j], nan=MISSING).round().long().clamp(0, n - 1)
            parts.append(embedding(codes).to(x.dtype))
        return torch.cat(parts, dim=1)


class _TableEncoder(nn.Sequential):
    """``_CodeEmbedding`` then the encoder; reads NaN cells itself (see ``SSLModel.standardize``)."""

    reads_nan = True


def _nan_columns(estimator):
    """Indices of the numeric columns with a missing indicator: those with NaN in ``fit`` (``nan_features_``)."""
    mask = getattr(estimator, "nan_features_", None)
    return [] if mask is None else np.flatnonzero(mask).tolist()


def _with_code_embedding(estimator, make_encoder, encoder, n_features, n_components, nan_indicators=True):
    """``make_encoder(encoder, (n_features,), n_components)``, behind a code embedding and missing indicators.

    The front (:class:`_CodeEmbedding`) is added when X has code columns, or
    numeric columns with NaN in ``fit`` (``nan_indicators=True``).
    """
    columns, n_codes = _code_columns(estimator)
    nan_columns = _nan_columns(estimator) if nan_indicators else []
    return _table_encoder(make_encoder, encoder, n_features, n_components, columns, n_codes, nan_columns)


def _table_encoder(make_encoder, encoder, n_features, n_components, code_columns, n_codes, nan_columns):
    """The encoder of one table (or one table view): behind a :class:`_CodeEmbedding` where it needs one."""
    if not code_columns and not nan_columns:
        return make_encoder(encoder, (n_features,), n_components)
    embedding = _CodeEmbedding(n_features, code_columns, n_codes, nan_columns)
    return _TableEncoder(embedding, make_encoder(encoder, (embedding.out_features,), n_components))


def _view_codes(estimator, columns):
    """``(code_columns, n_codes, nan_columns)`` of the view reading ``columns`` of X, as indices into the view."""
    code_columns, n_codes = _code_columns(estimator)
    codes = dict(zip(code_columns, n_codes))
    nan = set(_nan_columns(estimator))
    local = [(k, codes[c]) for k, c in enumerate(columns) if c in codes]
    return [k for k, _ in local], [n for _, n in local], [k for k, c in enumerate(columns) if c in nan]


class _FixedEncoding:
    """Vocabularies resolved by another estimator, for ``_encode_table`` to adopt at ``fit``.

    ``encoded=True``: the rows given to ``fit`` already hold the codes.
    """

    def __init__(self, mask, categories, encoded):
        self.mask, self.categories, self.encoded = mask, categories, encoded


def _fit_nan_features(estimator, X):
    """``nan_features_``: the numeric columns with NaN in the (dense, tabular) training rows, or None."""
    if not getattr(estimator, "_allow_nan", False) or getattr(estimator, "image_shape_", None) is not None:
        if hasattr(estimator, "nan_features_"):  # a refit on images forgets an earlier table's indicators
            estimator.nan_features_ = None
        return
    if not hasattr(X, "tocsr") and not (isinstance(X, np.ndarray) and X.ndim == 2):
        estimator.nan_features_ = None
        return
    mask = _missing_shares(X) > 0  # sparse or dense in blocks: no boolean copy of a large X
    estimator.nan_features_ = mask if mask.any() else None


def _nan_to_zero(x):
    return torch.where(torch.isnan(x), torch.zeros_like(x), x)


def _template_rows(estimator, n_features):
    """Two stand-in rows of the fitted layout: zeros, a category's code, NaN in row 0 of ``nan_features_``."""
    rows = np.zeros((2, n_features), dtype=np.float32)
    columns, _ = _code_columns(estimator)
    rows[:, columns] = FIRST  # an observed category (code 0 is missing)
    mask = getattr(estimator, "nan_features_", None)
    if mask is not None and len(mask) == n_features:
        rows[0, np.asarray(mask, dtype=bool)] = np.nan
    return rows


def _check_nan_columns(X, name):
    """Reject columns entirely NaN in fit: nothing to standardize, to draw from or to learn."""
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind != "f":
        return
    empty = np.flatnonzero(np.isnan(X).all(axis=0))
    if len(empty):
        raise ValueError(
            f"Columns {empty[:10].tolist()} of X are entirely NaN: they carry no information and have no "
            f"statistics to standardize with. Drop them before fitting {name} (e.g. X[:, ~np.isnan(X).all(axis=0)])."
        )


def _decode_codes(estimator, X_filled, original):
    """``original`` (a DataFrame or array as given) with its holes filled from ``X_filled`` (codes for categories).

    Numeric holes (NaN) take ``X_filled``'s values, categorical holes (code
    0) the category of the predicted code; every other cell is returned as
    given. A DataFrame comes back as a DataFrame (same index, columns and
    dtypes, a ``category`` column widened by the filled categories where
    needed), anything else as an object ndarray.
    """
    import pandas as pd

    categories = estimator.categories_
    if hasattr(original, "iloc"):
        out = original.copy()
        for j, cats in enumerate(categories):
            values = _column(original, j)
            holes = np.flatnonzero(_is_missing(values))
            if not len(holes):
                continue
            if cats is None:
                filled = X_filled[holes, j].astype(np.float64)
            else:
                codes = X_filled[holes, j].round().astype(int)
                filled = np.array([cats[c - FIRST] for c in codes], dtype=object)
                dtype = out.dtypes.iloc[j]
                if isinstance(dtype, pd.CategoricalDtype):
                    known = set(dtype.categories)
                    new = [c for c in pd.unique(filled) if c not in known]
                    if new:
                        out[out.columns[j]] = out.iloc[:, j].cat.add_categories(new)
            column = out.iloc[:, j]
            if cats is None and not pd.api.types.is_float_dtype(column.dtype):
                out[out.columns[j]] = column.astype(np.float64)
            elif cats is not None and pd.api.types.is_bool_dtype(column.dtype):
                out[out.columns[j]] = column.astype(object)
            out.iloc[holes, j] = filled
        return out
    out = np.array(original, dtype=object, copy=True)
    for j, cats in enumerate(categories):
        holes = np.flatnonzero(_is_missing(out[:, j]))
        if not len(holes):
            continue
        if cats is None:
            out[holes, j] = X_filled[holes, j].astype(np.float64)
        else:
            out[holes, j] = [cats[c - FIRST] for c in X_filled[holes, j].round().astype(int)]
    return out


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


def _codes_to_labels(estimator, rows):
    """Decoded rows (codes for categorical columns) as an object array holding the categories themselves."""
    out = np.asarray(rows, dtype=np.float64).astype(object)
    for j, cats in enumerate(estimator.categories_):
        if cats is not None:
            codes = np.asarray(rows[:, j]).round().astype(int)
            out[:, j] = [cats[c - FIRST] if FIRST <= c < FIRST + len(cats) else None for c in codes]
    return out


def _adopt_pretrainer_encoding(finetuner, pretrainer, X, role="pretrainer"):
    """The ``_FixedEncoding`` a fine-tuner adopts from a fitted tabular pretrainer, or None (resolve from X).

    A fitted pretrainer's vocabularies are the fine-tuner's: X goes through
    the pretrainer's encoding. A different set of columns, or a column the
    fine-tuner's ``categorical_features`` marks as categorical that the
    pretrainer read as numeric (or the reverse), is an error that says so.
    ``role`` names the pretrainer in messages (MIL: "instance_encoder").
    """
    if not hasattr(pretrainer, "module_") or getattr(pretrainer, "image_shape_", None) is not None:
        return None
    if getattr(X, "ndim", 2) != 2 or _n_columns(X) != pretrainer.n_features_in_:
        return None  # the fine-tuner's own check names the numbers of features
    name = type(finetuner).__name__
    fitted_names = getattr(pretrainer, "feature_names_in_", None)
    columns = getattr(X, "columns", None)
    if fitted_names is not None and columns is not None:
        given = [str(c) for c in columns]
        if given != [str(c) for c in fitted_names]:
            raise ValueError(
                f"The fitted {role} saw columns {list(fitted_names)} but X has {given}. {name} encodes X with "
                f"the {role}'s vocabularies, so X must have the {role}'s columns in its order (or pass an "
                f"unfitted {role} to fit it on this X)."
            )
    mask = getattr(pretrainer, "categorical_features_", None)
    categories = getattr(pretrainer, "categories_", None)
    own = _categorical_mask(X, finetuner.categorical_features, name)
    theirs = [] if mask is None else np.flatnonzero(mask).tolist()
    if (own is not None and (mask is None or not np.array_equal(own, mask))) or (
        finetuner.categorical_features is None and mask is not None
    ):
        ours = [] if own is None else np.flatnonzero(own).tolist()
        raise ValueError(
            f"{name}(categorical_features={finetuner.categorical_features!r}) reads columns {ours} of X as "
            f"categorical, but the fitted {role} read columns {theirs} as categorical. Pass data of the "
            f"{role}'s layout (the same dtypes), or set categorical_features to the {role}'s columns."
        )
    return _FixedEncoding(mask, categories, encoded=False)


class _coded_pretraining:
    """Context: the pretrainer clone fitted (or built) on a fine-tuner's coded rows adopts its vocabularies."""

    def __init__(self, finetuner, pretrainer):
        self.finetuner, self.pretrainer = finetuner, pretrainer

    def __enter__(self):
        categories = getattr(self.finetuner, "categories_", None)
        if categories is None:
            return
        params = self.pretrainer.get_params(deep=False)
        name = type(self.pretrainer).__name__
        if "categorical_features" not in params:
            raise ValueError(
                f"X has categorical columns but pretrainer={name}() has no categorical_features: use "
                "ContrastiveEmbedder, MaskedAutoencoder or PretextEmbedder, or encode the categorical columns yourself."
            )
        own = params["categorical_features"]
        if not (isinstance(own, str) and own == "from_dtype"):
            given = None
            if own is not None:
                names = getattr(self.finetuner, "feature_names_in_", None)
                stand_in = np.empty((0, len(categories)))
                if names is not None:
                    import pandas as pd

                    stand_in = pd.DataFrame(stand_in, columns=names)
                try:
                    given = _categorical_mask(stand_in, own, name)
                except ValueError:
                    given = None
            if given is None or not np.array_equal(given, self.finetuner.categorical_features_):
                raise ValueError(
                    f"pretrainer={name}(categorical_features={own!r}) disagrees with the fine-tuner's "
                    f"categorical_features={self.finetuner.categorical_features!r}. The fine-tuner resolves the "
                    "categorical columns for both: set them on the fine-tuner and leave the pretrainer's default."
                )
        self.pretrainer._fixed_encoding = _FixedEncoding(self.finetuner.categorical_features_, categories, True)

    def __exit__(self, *exc):
        self.pretrainer.__dict__.pop("_fixed_encoding", None)
        if getattr(self.finetuner, "categories_", None) is not None and hasattr(self.finetuner, "feature_names_in_"):
            if hasattr(self.pretrainer, "n_features_in_"):
                # Fitted on the coded rows (no names): the names of the frame they came from, so that the
                # fitted pretrainer takes that frame as it is.
                self.pretrainer.feature_names_in_ = self.finetuner.feature_names_in_
        return False


def _missing_codes_as_nan(estimator, X):
    """X with missing categories (code 0) as NaN (MultiViewEmbedder: a view is missing when all its cells are)."""
    columns, _ = _code_columns(estimator)
    if not columns or not isinstance(X, np.ndarray):
        return X
    X = np.array(X, copy=True)
    X[:, columns] = np.where(X[:, columns] == MISSING, np.nan, X[:, columns])
    return X


def _view_nan_features(estimator, X, present):
    """``nan_features_`` of a MultiViewEmbedder: numeric table-view columns with NaN in rows that have the view."""
    mask = np.zeros(X.shape[1], dtype=bool)
    codes = set(_code_columns(estimator)[0])
    for name, rows in zip(estimator.view_names_, present):
        if estimator.view_image_shapes_[name] is not None:
            continue
        cols = [c for c in estimator.view_columns_[name] if c not in codes]
        if not cols:
            continue
        if isinstance(X, np.ndarray):
            mask[cols] = np.isnan(X[np.ix_(rows, cols)]).any(axis=0)
        elif hasattr(X, "tocoo"):  # sparse: NaN can only be a stored value
            block = X[np.flatnonzero(rows)][:, cols].tocoo()
            mask[np.asarray(cols)[np.unique(block.col[np.isnan(block.data)])]] = True
    estimator.nan_features_ = mask if mask.any() else None
