"""Barlow Twins (Zbontar et al., 2021): redundancy reduction between two views.

The cross-correlation matrix of the two views' projections (each dimension
standardized over the batch) is pushed towards the identity: matching
dimensions agree (diagonal 1), different dimensions are decorrelated
(off-diagonal 0). No negatives, no momentum network.
"""

import torch
from torch import nn

from ._contract import Objective
from ._views import TWO_VIEWS, two_view_model


def barlow_twins_loss(z_a, z_b, off_diagonal_weight=5e-3):
    """Barlow Twins loss of two views ``(N, D)`` (the paper's lambda = 5e-3).

    Returns a scalar; a batch of one sample has no statistics and gives 0.
    """
    z_a, z_b = z_a.float(), z_b.float()
    n = len(z_a)
    if n < 2:
        return (z_a.sum() + z_b.sum()) * 0.0
    z_a = (z_a - z_a.mean(0)) / (z_a.std(0) + 1e-5)
    z_b = (z_b - z_b.mean(0)) / (z_b.std(0) + 1e-5)
    c = z_a.T @ z_b / n
    on_diagonal = (torch.diagonal(c) - 1).pow(2).sum()
    off_diagonal = (c - torch.diag(torch.diagonal(c))).pow(2).sum()
    return on_diagonal + off_diagonal_weight * off_diagonal


class BarlowTwinsLoss(nn.Module):
    """Criterion form of :func:`barlow_twins_loss`; reads ``view_a`` and ``view_b``."""

    def forward(self, outputs, y_true=None):
        return barlow_twins_loss(outputs["view_a"], outputs["view_b"])


class BarlowTwins(Objective):
    """The contrastive embedder's two views and projection head, trained with Barlow Twins' loss."""

    name = "barlow_twins"
    family = "two_view"
    outputs = TWO_VIEWS

    def build(self, est, X):
        return two_view_model(est, X), self.criterion(BarlowTwinsLoss())
