"""Per-column summaries of a table, from which corruption draws replacement values.

SCARF corruption and VIME masking replace a cell by a draw from its column's
marginal distribution. Keeping the training rows as a donor pool would put the
training data inside every fitted model (and its pickle and ``save`` file) and
make the model's size grow with ``n_samples``. :class:`_ColumnMarginals` keeps
instead, per column, a fixed-size summary and samples every column
independently:

* a column with at most ``n_quantiles`` distinct observed values (binary
  flags, counts, category codes, or simply few rows) keeps those values and
  their frequencies, and draws exactly from that empirical distribution;
* any other column keeps ``n_quantiles`` quantiles at the evenly spaced
  levels ``(k + 0.5) / n_quantiles`` and draws by inverse-CDF sampling with
  linear interpolation between them (a continuous approximation of the
  empirical marginal). The outermost ``0.5 / n_quantiles`` of each tail is
  drawn as the outermost kept quantile: the column's exact minimum and
  maximum (an outlier's value) are not stored.

Only one-column statistics are stored: no row (no combination of a row's
values) can be read back, and the size is ``2 * n_quantiles * n_features``
floats whatever the number of rows. NaN cells are ignored (never drawn),
unless ``keep_missing=True``: then each column also keeps its share of NaN
cells and draws NaN ("missing" as a value) with that probability (SCARF
corruption of tables with missing values).
"""

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

# Quantiles (or distinct values) kept per column: 128 float32 values and as
# many cumulative probabilities, 1 KiB per column.
N_QUANTILES = 128


def _column(X, j):
    """Column ``j`` of a dense array or a CSC matrix, as float64 (one column's copy)."""
    if sp.issparse(X):
        start, stop = X.indptr[j], X.indptr[j + 1]
        column = np.zeros(X.shape[0], dtype=np.float64)
        column[X.indices[start:stop]] = X.data[start:stop]
        return column
    return np.asarray(X[:, j], dtype=np.float64)


def _summaries(X, n_quantiles):
    """``(values, cdf, discrete)`` of shapes (F, K), (F, K), (F,) from the rows X."""
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if sp.issparse(X):
        # One column at a time from CSC: the matrix is never densified whole.
        X = X.tocsc()
    elif not hasattr(X, "ndim"):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected rows of shape (n_rows, n_features), got shape {X.shape}.")
    n_features = X.shape[1]
    values = np.zeros((n_features, n_quantiles), dtype=np.float64)
    cdf = np.ones((n_features, n_quantiles), dtype=np.float64)
    discrete = np.zeros(n_features, dtype=bool)
    empty = []
    levels = (np.arange(n_quantiles) + 0.5) / n_quantiles
    for j in range(n_features):
        column = _column(X, j)
        column = column[~np.isnan(column)]
        if len(column) == 0:
            empty.append(j)
            continue
        distinct, counts = np.unique(column, return_counts=True)
        if len(distinct) <= n_quantiles:
            discrete[j] = True
            m = len(distinct)
            values[j, :m], values[j, m:] = distinct, distinct[-1]
            cdf[j, :m] = np.cumsum(counts) / len(column)
            cdf[j, m - 1 :] = 1.0  # exact, whatever the rounding of the sum
        else:
            values[j] = np.quantile(column, levels)
            cdf[j] = levels
    if empty:
        raise ValueError(f"Columns {empty} hold no observed value to draw from; drop all-NaN columns first.")
    return values, cdf, discrete


class _ColumnMarginals(nn.Module):
    """Fixed-size per-column summaries of training rows; ``sample`` draws each column independently.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_rows, n_features)
        The rows to summarize; NaN cells are ignored, but no column may be
        entirely NaN.
    n_quantiles : int, default=N_QUANTILES
        Values kept per column (see the module docstring).
    """

    def __init__(self, X, n_quantiles=N_QUANTILES, keep_missing=False):
        super().__init__()
        if n_quantiles < 2:
            raise ValueError(f"n_quantiles must be at least 2, got {n_quantiles}.")
        values, cdf, discrete = _summaries(X, n_quantiles)
        if keep_missing:
            missing = _missing_shares(X)
            if missing.any():  # a buffer only where there is something to draw: unchanged state otherwise
                self.register_buffer("missing", torch.tensor(missing, dtype=torch.float32))
        self.register_buffer("values", torch.tensor(values, dtype=torch.float32))
        self.register_buffer("cdf", torch.tensor(cdf, dtype=torch.float32))
        # A float flag (1.0: discrete) rather than bool: code that treats every
        # buffer as numbers (state_dict arithmetic, averaging) keeps working.
        self.register_buffer("discrete", torch.tensor(discrete, dtype=torch.float32))

    @property
    def n_features(self):
        return self.values.shape[0]

    def sample(self, n_rows, device=None, dtype=torch.float32):
        """Draw ``n_rows`` rows whose columns are independent draws from each column's marginal."""
        n_features, n_quantiles = self.values.shape
        u = torch.rand(n_features, n_rows, device=device)
        # Discrete columns: the first value whose cumulative probability exceeds u.
        index = torch.searchsorted(self.cdf, u, right=True).clamp_(max=n_quantiles - 1)
        exact = self.values.gather(1, index)
        # Other columns: linear interpolation between the quantiles at levels
        # (k + 0.5) / n_quantiles, constant beyond the outermost ones.
        position = (u * n_quantiles - 0.5).clamp_(0, n_quantiles - 1)
        lower = position.floor().long().clamp_(max=n_quantiles - 2)
        fraction = position - lower
        low = self.values.gather(1, lower)
        high = self.values.gather(1, lower + 1)
        interpolated = low + fraction * (high - low)
        drawn = torch.where(self.discrete[:, None] > 0.5, exact, interpolated)
        missing = getattr(self, "missing", None)
        if missing is not None:
            drawn = torch.where(torch.rand(n_features, n_rows, device=device) < missing[:, None], torch.nan, drawn)
        return drawn.T.to(dtype)


def _missing_shares(X):
    """Share of NaN cells per column of X (dense rows or a tensor; sparse matrices hold none)."""
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if sp.issparse(X):  # NaN can only be a stored value
        X = X.tocsr()
        return np.bincount(X.indices[np.isnan(X.data)], minlength=X.shape[1]) / max(X.shape[0], 1)
    X = np.asarray(X)
    counts = np.zeros(X.shape[1])
    for start in range(0, len(X), 65536):
        counts += np.isnan(X[start : start + 65536]).sum(axis=0)
    return counts / max(len(X), 1)
