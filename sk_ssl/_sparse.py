"""Sparse input (scipy CSR/CSC matrices and arrays): densified one batch at a time.

A one-hot encoded table (``OneHotEncoder`` in a ``ColumnTransformer``) is a
scipy sparse matrix that is mostly zeros; its dense form may not fit in
memory. Estimators that set ``_accept_sparse`` keep such an X sparse (as CSR)
on the host and never densify it whole:

* training and inference batches come from :class:`_SparseDataset`, which
  densifies only the rows of each batch on their way to the device, and plugs
  into the engine's one loop like ``_ArrayDataset`` (``__len__`` and
  ``batch(indices)``); inference batches of a very wide X hold fewer rows, so
  that one dense batch stays within ``_MAX_BATCH_CELLS`` values;
* the standardization statistics (per-feature mean and scale) are computed
  from the stored values (:func:`_sparse_moments`). The model still centres
  each densified batch, exactly as for dense input, so sparse and dense X give
  the same model; centring a batch costs nothing extra because the batch is
  dense by then;
* the per-column summaries that SCARF corruption and VIME masking draw from
  (``_marginals.py``) are built one column at a time from the CSC form, so
  sparse and dense X draw from the same summaries.
"""

import numpy as np
import scipy.sparse as sp
import torch

from ._engine import _ArrayDataset, _to_device

__all__ = []

# Largest densified inference batch (float32 values: 64 MiB): fewer rows per batch for very wide X.
_MAX_BATCH_CELLS = 2**24


def _issparse(X):
    return sp.issparse(X)


class _SparseDataset(torch.utils.data.Dataset):
    """A sparse X kept on the host; each batch's rows are densified and moved to ``device``.

    Parameters
    ----------
    X : scipy sparse matrix or array of shape (n_samples, n_features)
        Converted to CSR (row slicing); values are cast to float32 per batch.
    y : torch.Tensor or None
        Targets, already on ``device``.
    device : torch.device or str
        The training (or inference) device the batches go to.
    """

    # Batch indices are drawn on the host, where the rows are sliced.
    device = torch.device("cpu")

    def __init__(self, X, y=None, device="cpu"):
        self.X = X.tocsr()
        self.y = y
        self.target_device = torch.device(device)

    def __len__(self):
        return self.X.shape[0]

    def batch(self, indices):
        rows = indices.cpu().numpy()
        dense = self.X[rows].astype(np.float32).toarray()
        X = torch.from_numpy(dense).to(self.target_device)
        y = None if self.y is None else self.y[indices.to(self.y.device)]
        return X, y

    def __getitem__(self, index):
        return self.batch(torch.as_tensor([index]))


def _as_dataset(X, y, device):
    """The engine dataset for X and y: :class:`_SparseDataset` for a sparse X, else ``_ArrayDataset`` on ``device``."""
    if sp.issparse(X):
        return _SparseDataset(X, _to_device(y, device), device)
    return _ArrayDataset(_to_device(X, device), _to_device(y, device))


def _inference_rows(n_features, rows):
    """Rows per inference batch of a sparse X: ``rows``, fewer when a dense batch would exceed ``_MAX_BATCH_CELLS``."""
    return max(1, min(rows, _MAX_BATCH_CELLS // max(1, n_features)))


def _sparse_moments(X, image_shape=None):
    """``(count, mean, M2)`` per feature (per channel for images) of a sparse X, ignoring NaN values.

    From the stored values only: implicit zeros enter through the counts, so
    the whole matrix is never densified. Same result as ``_moments`` on the
    dense X (up to float64 rounding).
    """
    X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    n_rows, n_features = X.shape
    data = np.asarray(X.data, dtype=np.float64)
    columns = X.indices
    nan = np.isnan(data)
    observed_data, observed_columns = data[~nan], columns[~nan]
    count = n_rows - np.bincount(columns[nan], minlength=n_features).astype(np.float64)
    total = np.bincount(observed_columns, weights=observed_data, minlength=n_features)
    mean = np.divide(total, count, out=np.zeros(n_features), where=count > 0)
    stored = np.bincount(observed_columns, minlength=n_features)
    deviations = np.bincount(
        observed_columns, weights=(observed_data - mean[observed_columns]) ** 2, minlength=n_features
    )
    # Each implicit zero deviates from the mean by -mean.
    m2 = deviations + (count - stored) * mean**2
    if image_shape is None:
        return count, mean, m2
    # Pool the pixels of each channel (Chan et al.'s merge, all at once).
    channels = image_shape[0]
    count_c = count.reshape(channels, -1)
    n_c = count_c.sum(axis=1)
    mean_c = np.divide((count * mean).reshape(channels, -1).sum(axis=1), n_c, out=np.zeros(channels), where=n_c > 0)
    spread = (count_c * (mean.reshape(channels, -1) - mean_c[:, None]) ** 2).sum(axis=1)
    return n_c, mean_c, m2.reshape(channels, -1).sum(axis=1) + spread



def _nan_counts(X):
    """NaN cells per row of a dense or sparse 2-D X (sparse: from the stored values)."""
    if not sp.issparse(X):
        return np.isnan(X).sum(axis=1)
    X = X.tocsr()
    nan = np.isnan(X.data)
    if not nan.any():
        return np.zeros(X.shape[0], dtype=int)
    row_of_value = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return np.bincount(row_of_value[nan], minlength=X.shape[0])


def _dense(X):
    """A dense array of (a few rows of) X."""
    return X.toarray() if sp.issparse(X) else X
