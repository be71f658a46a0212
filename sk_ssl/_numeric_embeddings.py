"""Numeric feature embeddings in front of a tabular encoder (Gorishniy et al., 2022).

An estimator with a ``numeric_embedding`` parameter (ContrastiveEmbedder)
can map every numeric column, after standardization, to a vector before the
encoder sees it; categorical code columns keep their learned embedding
(:mod:`sk_ssl._tabular`). Two kinds, from "On Embeddings for Numerical
Features in Tabular Deep Learning" (Gorishniy, Rubachev, Babenko, NeurIPS
2022):

* ``"pwl"``: piecewise-linear encoding with quantile bins. Column j gets
  ``N_BINS`` bins ``[b_{t-1}, b_t]`` whose edges are quantiles of the column,
  and x becomes ``e_t = clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``: a
  monotone, bounded "thermometer" that lets the MLP cut the column where
  its distribution is dense. The edges come from one-column summaries
  (:func:`sk_ssl._marginals._summaries`: ``N_BINS + 1`` quantiles at the
  levels ``(k + 0.5) / (N_BINS + 1)``, or the distinct values of a column
  with few of them), so, as for the corruption's summaries, no training row
  is stored and the size does not grow with ``n_samples``. Repeated edges
  (a column with fewer distinct values than bins) give empty bins, which
  are always 0. No trained parameter.
* ``"periodic"``: ``ReLU(W_j [cos(2 pi c_j x), sin(2 pi c_j x)] + b_j)`` per
  column (the "PLR" embedding), ``N_FREQUENCIES`` trained frequencies
  ``c_j`` initialised from N(0, ``SIGMA``) and a per-column linear layer to
  ``PERIODIC_DIM`` values.

A NaN cell of a column that held NaN in ``fit`` becomes the zero vector
(PWL) or the embedding of the training mean (periodic), next to that column's
missing indicator (:mod:`sk_ssl._tabular`); elsewhere NaN enters as the
training mean, as without a numeric embedding.
"""

import math

import numpy as np
import torch
from torch import nn

from ._marginals import _summaries
from ._tabular import _code_columns, _CodeEmbedding, _nan_columns, _numeric_columns, _TableEncoder, _with_code_embedding

NUMERIC_EMBEDDINGS = ("none", "pwl", "periodic")
N_BINS = 16
N_FREQUENCIES = 16
PERIODIC_DIM = 8
SIGMA = 0.1


def _pwl_edges(X, columns, mean, scale, n_bins=N_BINS):
    """``(edges, valid)``: per column ``n_bins + 1`` standardized bin edges and which of its bins are non-empty."""
    if len(columns) == 0:
        return np.zeros((0, n_bins + 1)), np.zeros((0, n_bins), dtype=bool)
    block = X[:, columns] if not hasattr(X, "iloc") else X.iloc[:, columns]
    values, _, _ = _summaries(block, n_bins + 1)
    edges = np.empty_like(values)
    valid = np.zeros((len(columns), n_bins), dtype=bool)
    for i, j in enumerate(columns):
        distinct = np.unique(values[i])
        k = len(distinct)
        edges[i, :k], edges[i, k:] = distinct, distinct[-1]
        valid[i, : k - 1] = True
        edges[i] = (edges[i] - mean[j]) / scale[j]
    return edges, valid


class _PiecewiseLinear(nn.Module):
    """Piecewise-linear encoding of standardized columns: ``(N, F)`` to ``(N, F * n_bins)`` values in [0, 1].

    Parameters
    ----------
    edges : array-like of shape (F, n_bins + 1)
        Increasing (non-decreasing) bin edges per column, in standardized units.
    valid : array-like of bool of shape (F, n_bins)
        False for the empty bins (repeated edges); they always encode to 0.
    """

    def __init__(self, edges, valid):
        super().__init__()
        edges = torch.as_tensor(np.asarray(edges), dtype=torch.float32)
        self.register_buffer("lower", edges[:, :-1].contiguous())
        self.register_buffer("width", (edges[:, 1:] - edges[:, :-1]).clamp(min=1e-6))
        self.register_buffer("valid", torch.as_tensor(np.asarray(valid), dtype=torch.float32))
        self.out_features = int(self.valid.numel())

    def forward(self, x):
        t = ((x[:, :, None] - self.lower.to(x.dtype)) / self.width.to(x.dtype)).clamp(0, 1)
        t = torch.nan_to_num(t, nan=0.0) * self.valid.to(x.dtype)
        return t.flatten(1)


class _Periodic(nn.Module):
    """Periodic embedding of standardized columns: ``(N, F)`` to ``(N, F * dim)`` (Gorishniy et al.'s PLR).

    Parameters
    ----------
    n_features : int
        Columns F.
    n_frequencies : int, default=N_FREQUENCIES
        Trained frequencies per column.
    dim : int, default=PERIODIC_DIM
        Output values per column.
    sigma : float, default=SIGMA
        Standard deviation of the frequencies' initialisation.
    """

    def __init__(self, n_features, n_frequencies=N_FREQUENCIES, dim=PERIODIC_DIM, sigma=SIGMA):
        super().__init__()
        self.frequencies = nn.Parameter(torch.randn(n_features, n_frequencies) * sigma)
        bound = 1 / math.sqrt(2 * n_frequencies)
        self.weight = nn.Parameter(torch.empty(n_features, 2 * n_frequencies, dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_features, dim).uniform_(-bound, bound))
        self.out_features = n_features * dim

    def forward(self, x):
        angles = 2 * math.pi * self.frequencies.to(x.dtype) * torch.nan_to_num(x, nan=0.0)[:, :, None]
        features = torch.cat([torch.cos(angles), torch.sin(angles)], dim=2)
        out = torch.einsum("nfk,fkd->nfd", features, self.weight.to(x.dtype)) + self.bias.to(x.dtype)
        return torch.relu(out).flatten(1)


class _InputEmbedding(nn.Module):
    """Numeric columns through ``numeric``, code columns through their learned embeddings, side by side.

    Parameters
    ----------
    numeric_columns : list of int
        The numeric columns of the standardized input.
    numeric : nn.Module
        Maps ``(N, len(numeric_columns))`` to ``(N, numeric.out_features)``.
    codes : _CodeEmbedding or None
        The code columns' embeddings and the missing indicators (None when
        there are neither).
    """

    def __init__(self, numeric_columns, numeric, codes=None):
        super().__init__()
        self.numeric_columns = list(numeric_columns)
        self.numeric = numeric
        self.codes = codes
        self.out_features = numeric.out_features + (
            codes.out_features - len(codes.numeric_columns) if codes is not None else 0
        )

    def forward(self, x):
        parts = [self.numeric(x[:, self.numeric_columns])]
        if self.codes is not None:  # its output starts with the numeric columns as they are: skip them
            parts.append(self.codes(x)[:, len(self.codes.numeric_columns) :])
        return torch.cat(parts, dim=1)


def _with_input_embeddings(est, make_encoder, X, mean, scale):
    """The tabular encoder of ``est``: behind its numeric embedding (if any) and its code embedding (if any).

    ``mean, scale`` are the model's standardization (code columns at 0 and 1);
    PWL bin edges are taken from X's column summaries in those units.
    """
    kind = getattr(est, "numeric_embedding", "none")
    n_features = est.n_features_in_
    code_columns, n_codes = _code_columns(est)
    numeric_columns = _numeric_columns(n_features, code_columns)
    if kind == "none" or not numeric_columns:
        return _with_code_embedding(est, make_encoder, est.encoder, n_features, est.n_components)
    if kind == "pwl":
        numeric = _PiecewiseLinear(*_pwl_edges(X, numeric_columns, np.asarray(mean), np.asarray(scale)))
    else:
        numeric = _Periodic(len(numeric_columns))
    nan_columns = _nan_columns(est)
    codes = _CodeEmbedding(n_features, code_columns, n_codes, nan_columns) if code_columns or nan_columns else None
    embedding = _InputEmbedding(numeric_columns, numeric, codes)
    # With missing indicators the encoder reads NaN itself (as _tabular's _TableEncoder); else NaN enters as the mean.
    front = _TableEncoder if nan_columns else nn.Sequential
    return front(embedding, make_encoder(est.encoder, (embedding.out_features,), est.n_components))
