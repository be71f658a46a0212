"""Self-supervised and task losses, one home for all of them.

Every loss is an ``nn.Module`` whose ``forward(y_pred, y_true=None)`` takes what
the model's ``forward`` returned, so that it plugs into skorch as a criterion.
Self-supervised losses read the model's named outputs (a dict, see
:mod:`sk_ssl.objectives`); a tuple in the documented order is still accepted.
The functional forms (:func:`info_nce`, :func:`nt_xent`) are public too, for
users who write their own training loop.
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "info_nce",
    "nt_xent",
    "cross_view_info_nce",
    "masked_mean",
    "InfoNCELoss",
    "NTXentLoss",
    "CrossViewInfoNCELoss",
    "MaskReconstructionLoss",
    "MaskedL1Loss",
    "MultiTaskBagLoss",
    "ClassificationLoss",
    "RegressionLoss",
]


def _named(y_pred, names):
    """The outputs ``names`` of a model, read by name from a dict (or positionally from a 0.1-style tuple)."""
    if isinstance(y_pred, dict):
        return tuple(y_pred[name] for name in names)
    return tuple(y_pred)


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


def cross_view_info_nce(views, present=None, temperature=0.5, fused=None):
    """Symmetric (CLIP-style) InfoNCE over every pair of views.

    For each pair of views ``(a, b)``, row ``i`` of view ``a`` must pick row
    ``i`` of view ``b`` among the batch and vice versa (the two directions
    are averaged, as in CLIP). Only samples where both views are present take
    part in a pair. Pairs with fewer than two such samples are skipped. The
    result is the mean over the pairs that took part.

    Parameters
    ----------
    views : torch.Tensor of shape (V, N, D) or sequence of V tensors (N, D)
        Embeddings of the same N samples from V views, in one shared space.
    present : torch.Tensor of bool, shape (V, N), or None, default=None
        Which views each sample has; None means all.
    temperature : float, default=0.5
        Softmax temperature applied to cosine similarities.
    fused : torch.Tensor of shape (N, D) or None, default=None
        A fused embedding of each sample. When given, each view is also
        contrasted (symmetrically) with it, and the two terms (view pairs,
        views against fused) are averaged.

    Returns
    -------
    loss : torch.Tensor
        Scalar loss (0, with a gradient, when no pair has two shared samples).
    """
    views = torch.stack(list(views)) if not isinstance(views, torch.Tensor) else views
    n_views, n = views.shape[:2]
    if present is None:
        present = torch.ones(n_views, n, dtype=torch.bool, device=views.device)

    def pair(a, b, rows):
        if int(rows.sum()) < 2:
            return None
        a, b = a[rows], b[rows]
        return 0.5 * (info_nce(a, b, temperature) + info_nce(b, a, temperature))

    groups = [[pair(views[i], views[j], present[i] & present[j])
               for i in range(n_views) for j in range(i + 1, n_views)]]  # fmt: skip
    if fused is not None:
        groups.append([pair(views[i], fused, present[i]) for i in range(n_views)])
    terms = []
    for losses in groups:
        losses = [value for value in losses if value is not None]
        if losses:
            terms.append(torch.stack(losses).mean())
    if not terms:  # nothing to contrast in this batch; keep the graph intact
        return views.sum() * 0.0
    return torch.stack(terms).mean()


class InfoNCELoss(nn.Module):
    """Criterion form of :func:`info_nce`; reads ``view_a`` (the anchor) and ``view_b`` (its positive).

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
        anchor, positive = _named(y_pred, ("view_a", "view_b"))
        loss = info_nce(anchor, positive, self.temperature)
        if self.symmetric:
            loss = 0.5 * (loss + info_nce(positive, anchor, self.temperature))
        return loss


class NTXentLoss(nn.Module):
    """Criterion form of :func:`nt_xent`; reads ``view_a`` and ``view_b``.

    Parameters
    ----------
    temperature : float, default=0.5
        Softmax temperature.
    """

    def __init__(self, temperature=0.5):
        super().__init__()
        self.temperature = temperature

    def forward(self, y_pred, y_true=None):
        view_a, view_b = _named(y_pred, ("view_a", "view_b"))
        return nt_xent(view_a, view_b, self.temperature)


class MaskReconstructionLoss(nn.Module):
    """VIME objective: reconstruct the row and predict which cells were masked.

    Reads ``reconstruction``, ``mask_logits``, ``target``, ``mask`` and
    ``observed`` as returned by :class:`~sk_ssl.models.MaskedModel` on tabular rows. The loss is
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
        names = ("reconstruction", "mask_logits", "target", "mask", "observed")
        reconstruction, mask_logits, target, mask, observed = _named(y_pred, names)
        loss = masked_mean((reconstruction.float() - target) ** 2, observed)
        if self.mask_loss_weight:
            bce = F.binary_cross_entropy_with_logits(mask_logits.float(), mask.float())
            loss = loss + self.mask_loss_weight * bce
        return loss


class MaskedL1Loss(nn.Module):
    """SimMIM objective: L1 error on the masked, observed pixels only.

    Reads ``reconstruction``, ``target`` and ``loss_mask`` as returned by
    :class:`~sk_ssl.models.MaskedModel` on images.
    """

    def forward(self, y_pred, y_true=None):
        reconstruction, target, loss_mask = _named(y_pred, ("reconstruction", "target", "loss_mask"))
        return masked_mean((reconstruction.float() - target).abs(), loss_mask)


class CrossViewInfoNCELoss(nn.Module):
    """Criterion form of :func:`cross_view_info_nce`.

    ``y_pred`` is a dict with ``"views"`` (V, N, D), ``"present"`` (V, N) bool
    and optionally ``"fused"`` (N, D), as returned by
    :class:`~sk_ssl.models.MultiViewModel`.

    Parameters
    ----------
    temperature : float, default=0.5
        Softmax temperature.
    """

    def __init__(self, temperature=0.5):
        super().__init__()
        self.temperature = temperature

    def forward(self, y_pred, y_true=None):
        return cross_view_info_nce(
            y_pred["views"], y_pred.get("present"), self.temperature, fused=y_pred.get("fused")
        )


class MultiTaskBagLoss(nn.Module):
    """Sum of per-task classification losses that skips missing labels.

    ``y_pred`` holds the logits of all tasks side by side; task ``j`` owns
    ``n_logits[j]`` columns: one logit for a binary task (binary cross-entropy)
    or one per class for a multiclass task (cross-entropy). ``y_true`` is
    ``(N, n_tasks)`` of class codes ``0..k_j - 1``, with any negative value (or
    NaN) meaning "no label": such an entry adds nothing to the loss and its
    logits get no gradient. Each task's loss is the mean over its labelled
    rows; the total is the mean over the tasks that have a label in the batch.

    Parameters
    ----------
    n_logits : list of int
        Logit columns per task (1 for binary tasks).
    """

    def __init__(self, n_logits):
        super().__init__()
        self.n_logits = [int(n) for n in n_logits]

    def forward(self, y_pred, y_true):
        y_pred = y_pred.float()
        y_true = y_true.view(len(y_pred), -1)
        losses = []
        for task, logits in enumerate(torch.split(y_pred, self.n_logits, dim=1)):
            target = y_true[:, task]
            labelled = target >= 0  # False for NaN too
            if not labelled.any():
                continue
            if logits.shape[1] == 1:
                losses.append(F.binary_cross_entropy_with_logits(logits[labelled, 0], target[labelled].float()))
            else:
                losses.append(F.cross_entropy(logits[labelled], target[labelled].long()))
        if not losses:  # no label in this batch: a zero that keeps the graph
            return y_pred.sum() * 0.0
        return torch.stack(losses).mean()


class ClassificationLoss(nn.Module):
    """Cross-entropy of logits ``y_pred`` (N, K) against class indices ``y_true`` (N,).

    ``y_true`` may arrive as floats (the engine stores targets as float32);
    it is cast to class indices.
    """

    def forward(self, y_pred, y_true):
        return F.cross_entropy(y_pred.float(), y_true.long())


class RegressionLoss(nn.Module):
    """Mean squared error of ``y_pred`` (N, T) against ``y_true`` (N, T) or (N,)."""

    def forward(self, y_pred, y_true):
        return F.mse_loss(y_pred.float(), y_true.float().view(y_pred.shape))
