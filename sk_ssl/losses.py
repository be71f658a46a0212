"""Self-supervised losses, one home for all of them.

Every loss is an ``nn.Module`` whose ``forward(y_pred, y_true=None)`` takes what
the model's ``forward`` returned, so that it plugs into skorch as a criterion.
The functional forms (:func:`info_nce`, :func:`nt_xent`) are public too, for
users who write their own training loop.
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "info_nce",
    "nt_xent",
    "masked_mean",
    "InfoNCELoss",
    "NTXentLoss",
    "MaskReconstructionLoss",
    "MaskedL1Loss",
]


def info_nce(anchor, positive, temperature=1.0):
    """InfoNCE over an N x N similarity matrix (SCARF's form).

    Row ``i`` of ``anchor`` must match row ``i`` of ``positive``; every other
    row of ``positive`` is a negative for it.

    Parameters
    ----------
    anchor, positive : torch.Tensor of shape (N, D)
        Two views of the same N samples (e.g. clean and corrupted rows).
    temperature : float, default=1.0
        Softmax temperature applied to cosine similarities.

    Returns
    -------
    loss : torch.Tensor
        Scalar mean cross-entropy of picking the right positive.
    """
    # Similarities are computed in float32 even under bf16 autocast: the
    # softmax over a whole batch is where low precision hurts.
    anchor = F.normalize(anchor.float(), dim=1)
    positive = F.normalize(positive.float(), dim=1)
    logits = anchor @ positive.T / temperature
    targets = torch.arange(len(anchor), device=anchor.device)
    return F.cross_entropy(logits, targets)


def nt_xent(view_a, view_b, temperature=0.5):
    """NT-Xent over 2N views (SimCLR's form).

    Each of the 2N embeddings has exactly one positive (the other view of the
    same sample) and 2N - 2 negatives (both views of every other sample).

    Parameters
    ----------
    view_a, view_b : torch.Tensor of shape (N, D)
        Two augmented views of the same N samples.
    temperature : float, default=0.5
        Softmax temperature applied to cosine similarities.

    Returns
    -------
    loss : torch.Tensor
        Scalar mean cross-entropy over all 2N anchors.
    """
    n = len(view_a)
    z = F.normalize(torch.cat([view_a, view_b]).float(), dim=1)
    logits = z @ z.T / temperature
    # A sample is never its own negative.
    logits.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets)


def masked_mean(values, weight):
    """Mean of ``values`` over the cells where ``weight`` is true (0 if none).

    Parameters
    ----------
    values : torch.Tensor
        Per-cell losses.
    weight : torch.Tensor of bool, broadcastable to ``values``
        Cells that count.

    Returns
    -------
    loss : torch.Tensor
        Scalar. Cells outside ``weight`` contribute nothing, not even NaN.
    """
    weight = weight.expand_as(values)
    total = torch.where(weight, values, torch.zeros_like(values)).sum()
    return total / weight.sum().clamp(min=1)


class InfoNCELoss(nn.Module):
    """Criterion form of :func:`info_nce`; ``y_pred`` is ``(anchor, positive)``.

    Parameters
    ----------
    temperature : float, default=1.0
        Softmax temperature.
    symmetric : bool, default=False
        Also score ``positive`` as the anchor and average both directions.
    """

    def __init__(self, temperature=1.0, symmetric=False):
        super().__init__()
        self.temperature = temperature
        self.symmetric = symmetric

    def forward(self, y_pred, y_true=None):
        anchor, positive = y_pred
        loss = info_nce(anchor, positive, self.temperature)
        if self.symmetric:
            loss = 0.5 * (loss + info_nce(positive, anchor, self.temperature))
        return loss


class NTXentLoss(nn.Module):
    """Criterion form of :func:`nt_xent`; ``y_pred`` is ``(view_a, view_b)``.

    Parameters
    ----------
    temperature : float, default=0.5
        Softmax temperature.
    """

    def __init__(self, temperature=0.5):
        super().__init__()
        self.temperature = temperature

    def forward(self, y_pred, y_true=None):
        view_a, view_b = y_pred
        return nt_xent(view_a, view_b, self.temperature)


class MaskReconstructionLoss(nn.Module):
    """VIME objective: reconstruct the row and predict which cells were masked.

    ``y_pred`` is ``(reconstruction, mask_logits, target, mask, observed)`` as
    returned by :class:`~sk_ssl.models.MaskedModel` on tabular rows. The loss is
    the mean squared error of the reconstruction over the observed cells (all
    of them, masked or not; missing cells have no target) plus
    ``mask_loss_weight`` times the binary cross-entropy of the mask prediction.

    Parameters
    ----------
    mask_loss_weight : float, default=2.0
        Weight of the mask-prediction term.
    """

    def __init__(self, mask_loss_weight=2.0):
        super().__init__()
        self.mask_loss_weight = mask_loss_weight

    def forward(self, y_pred, y_true=None):
        reconstruction, mask_logits, target, mask, observed = y_pred
        loss = masked_mean((reconstruction.float() - target) ** 2, observed)
        if self.mask_loss_weight:
            bce = F.binary_cross_entropy_with_logits(mask_logits.float(), mask.float())
            loss = loss + self.mask_loss_weight * bce
        return loss


class MaskedL1Loss(nn.Module):
    """SimMIM objective: L1 error on the masked, observed pixels only.

    ``y_pred`` is ``(reconstruction, target, loss_mask)`` as returned by
    :class:`~sk_ssl.models.MaskedModel` on images.
    """

    def forward(self, y_pred, y_true=None):
        reconstruction, target, loss_mask = y_pred
        return masked_mean((reconstruction.float() - target).abs(), loss_mask)
