"""Packed (ragged) batches of bags: segment ops instead of per-batch padding.

A batch of ``B`` bags is one ``(N, ...)`` tensor of their instances, bag
after bag, plus ``lengths`` ``(B,)``. The instance encoder runs once on the
``N`` real rows; attention and mean pooling reduce per bag with segment
operations (``scatter_reduce`` / ``index_add``), so no ``(B, L, D)`` tensor
sized by the longest bag is ever built, filled, dropped out or backpropagated
through. Poolings without a packed form here (max, transformer, DSMIL, or any
user subclass) get the padded ``(B, L, D)`` input and ``(B, L)`` mask they are
written for, and their weights are read back per instance.

On MUSK2 (bags of 1 to 1,044 instances) the padded batches spent most of an
epoch on dropout, masking and gradients of padding slots; see
``benchmarks/bench_mil_speed.py``.
"""

import torch

from .encoders import AttentionPooling, MeanPooling


class _Segments:
    """Bag membership of the rows of a packed batch.

    Parameters
    ----------
    lengths : torch.Tensor of int of shape (B,)
        Instances per bag (each >= 1); rows come bag after bag.
    """

    def __init__(self, lengths):
        self.lengths = lengths
        self.n_bags = len(lengths)
        bags = torch.arange(self.n_bags, device=lengths.device)
        self.index = torch.repeat_interleave(bags, lengths)  # (N,): bag of each row
        self._positions = self._mask = None  # built on first use: only the padded path needs them

    @property
    def positions(self):
        """``(N,)`` position of each row within its bag."""
        if self._positions is None:
            starts = torch.cumsum(self.lengths, 0) - self.lengths
            self._positions = torch.arange(len(self.index), device=self.lengths.device) - starts[self.index]
        return self._positions

    @property
    def mask(self):
        """``(B, L)`` bool, True on real instances; ``L`` is the longest bag."""
        if self._mask is None:
            longest = int(self.lengths.max())
            self._mask = torch.arange(longest, device=self.lengths.device)[None, :] < self.lengths[:, None]
        return self._mask

    def pad(self, h):
        """``(N, ...)`` rows to ``(B, L, ...)``, zero on padding."""
        padded = h.new_zeros((*self.mask.shape, *h.shape[1:]))
        return padded.index_put((self.index, self.positions), h)

    def unpad(self, padded):
        """``(B, L, ...)`` back to the ``(N, ...)`` real rows."""
        return padded[self.index, self.positions]

    def sum(self, values):
        """Per-bag sum of ``(N, ...)`` rows: ``(B, ...)``."""
        return values.new_zeros((self.n_bags, *values.shape[1:])).index_add(0, self.index, values)

    def softmax(self, scores):
        """Softmax of ``(N,)`` scores within each bag."""
        scores = scores.float()
        # The per-bag max only shifts the scores (softmax is invariant to it): no gradient needed.
        top = scores.new_full((self.n_bags,), float("-inf")).scatter_reduce(
            0, self.index, scores.detach(), "amax", include_self=True
        )
        exp = torch.exp(scores - top[self.index])
        return exp / self.sum(exp)[self.index]


def _pool(pooling, h, segments):
    """``pooling`` over packed rows ``h`` ``(N, D)``: ``(pooled (B, D), weights (N,))``.

    Attention (plain or gated, without position bias) and mean pooling run as
    segment ops; any other pooling is called on the padded batch, as written.
    """
    if type(pooling) is AttentionPooling and pooling.position_bias is None:
        hidden = torch.tanh(pooling.V(h))
        if pooling.U is not None:
            hidden = hidden * torch.sigmoid(pooling.U(h))
        weights = segments.softmax(pooling.w(hidden).squeeze(-1))
        return segments.sum(weights[:, None].to(h.dtype) * h), weights
    if type(pooling) is MeanPooling:
        weights = 1.0 / segments.lengths[segments.index].float()
        return segments.sum(weights[:, None].to(h.dtype) * h), weights
    pooled, weights = pooling(segments.pad(h), segments.mask)
    return pooled, segments.unpad(weights)
