"""Per-feature (or per-channel) standardization statistics in float64: one home, no sk_ssl imports.

``(count, mean, M2)`` summaries of dense blocks, Chan et al.'s merge of two
summaries (so chunked and streamed statistics equal the statistics taken at
once) and the float32 ``(mean, scale)`` the models standardize with. The
estimators (:mod:`sk_ssl._base`) and the image-file reader
(:mod:`sk_ssl._images`) both use them.
"""

import math

import numpy as np


# A block holds at most this many values (64 MiB as float64), so that wide rows
# (images) never get a float64 copy of the whole X: 65,536 rows up to 128 features.
_MAX_BLOCK_VALUES = 2**23


def _dense_moments(X, image_shape=None, rows_per_block=None):
    """``(count, mean, M2)`` of a dense X per feature (per channel for images), NaN cells left out, by blocks."""
    if rows_per_block is None:
        row_values = int(np.prod(X.shape[1:])) if len(X.shape) > 1 else 1
        rows_per_block = max(1, min(65536, _MAX_BLOCK_VALUES // max(1, row_values)))
    total = None
    for start in range(0, len(X), rows_per_block):
        block = np.asarray(X[start : start + rows_per_block], dtype=np.float64)
        if image_shape is not None:
            block = block.reshape(len(block), image_shape[0], -1).transpose(0, 2, 1).reshape(-1, image_shape[0])
        observed = ~np.isnan(block)
        count = observed.sum(axis=0).astype(np.float64)
        total_values = np.where(observed, block, 0.0).sum(axis=0)
        mean = np.divide(total_values, count, out=np.zeros(block.shape[1]), where=count > 0)
        m2 = np.where(observed, (block - mean) ** 2, 0.0).sum(axis=0)
        total = (count, mean, m2) if total is None else _merge_moments(total, (count, mean, m2))
    return total


def _mean_scale(moments, image_shape=None):
    """Flat float32 ``(mean, scale)`` from ``(count, mean, M2)``, per channel repeated over the pixels."""
    count, mean, m2 = moments
    # In float64 (as _moments computes): float32 squares of values above ~1e19 overflow.
    scale = np.sqrt(np.divide(m2, count, out=np.ones_like(m2), where=count > 0))
    # A constant feature carries no information; do not blow it up.
    scale = np.where(scale < 1e-8, 1.0, scale)
    if image_shape is not None:
        per_pixel = math.prod(image_shape[1:])
        mean, scale = np.repeat(mean, per_pixel), np.repeat(scale, per_pixel)
    return mean.astype(np.float32), scale.astype(np.float32)


def _merge_moments(a, b):
    """Chan et al.'s merge of two ``(count, mean, M2)`` summaries."""
    (n_a, mean_a, m2_a), (n_b, mean_b, m2_b) = a, b
    n = n_a + n_b
    weight_b = np.divide(n_b, n, out=np.zeros_like(mean_b), where=n > 0)
    delta = mean_b - mean_a
    return n, mean_a + delta * weight_b, m2_a + m2_b + delta**2 * n_a * weight_b
