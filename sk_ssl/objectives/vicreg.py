"""VICReg (Bardes, Ponce, LeCun, 2022): variance-invariance-covariance regularization.

No negatives: the two views' projections are pulled together (invariance),
each dimension keeps a standard deviation of at least 1 over the batch
(variance) and the dimensions are decorrelated (covariance), which together
prevent the collapse to a constant.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._contract import Objective
from ._views import TWO_VIEWS, two_view_model


def vicreg_loss(z_a, z_b, invariance=25.0, variance=25.0, covariance=1.0):
    """VICReg loss of two views ``(N, D)``, with the paper's weights (25, 25, 1).

    Returns a scalar; a batch of one sample has no statistics and gives 0.
    """
    z_a, z_b = z_a.float(), z_b.float()
    n, d = z_a.shape
    if n < 2:
        return (z_a.sum() + z_b.sum()) * 0.0
    loss = invariance * F.mse_loss(z_a, z_b)
    for z in (z_a, z_b):
        z = z - z.mean(dim=0)
        std = torch.sqrt(z.var(dim=0) + 1e-4)
        loss = loss + variance * 0.5 * F.relu(1.0 - std).mean()
        cov = (z.T @ z) / (n - 1)
        off_diagonal = cov - torch.diag(torch.diagonal(cov))
        loss = loss + covariance * off_diagonal.pow(2).sum() / d
    return loss


class VICRegLoss(nn.Module):
    """Criterion form of :func:`vicreg_loss`; reads ``view_a`` and ``view_b``."""

    def forward(self, outputs, y_true=None):
        return vicreg_loss(outputs["view_a"], outputs["view_b"])


class VICReg(Objective):
    """The contrastive embedder's two views and projection head, trained with VICReg's loss."""

    name = "vicreg"
    family = "two_view"
    outputs = TWO_VIEWS

    def build(self, est, X):
        return two_view_model(est, X), self.criterion(VICRegLoss())
