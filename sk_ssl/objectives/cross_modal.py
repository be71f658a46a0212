"""Cross-modal reconstruction (multimodal autoencoder, Ngiam et al., 2011) for MultiViewEmbedder.

Every view is rebuilt from the fused code of all the sample's views (the
autoencoder) and, *leave-one-view-out*, from the fused code of the other views
only (cross-modal prediction): the code must carry what each view has and what
the other views can tell about it. The leave-one-out code is the fusion with
the target view treated as missing, exactly what ``transform`` computes for a
row that lacks that view. Errors are MSE in each view's standardized units,
averaged over the view's features (so a 6-feature view counts as much as a
240-feature one), then over views.

The per-view encoders, the projection head and the fusion are those of
``objective="cross_view"`` (:func:`~sk_ssl.objectives.cross_view.view_parts`);
this module adds one decoder per view and
names what the model returns. ``objective=("cross_view", "reconstruction")``
trains both losses at once, weighted by ``loss_weights``.
"""

import math

import torch
from torch import nn

from ..encoders import ReconstructionHead
from ..losses import CrossViewInfoNCELoss
from ..models import MultiViewModel
from ._contract import Objective
from .cross_view import CrossView, view_parts


class CrossModalModel(MultiViewModel):
    """:class:`~sk_ssl.models.MultiViewModel` plus one decoder per view.

    ``forward`` returns the reconstruction outputs (``target``, ``joint``,
    ``leave_one_out``: each ``(N, W)`` with ``W`` the views' flattened widths
    side by side, standardized units; ``present``, ``loo_present``: ``(V, N)``
    bool) and, with ``contrast=True``, the cross-view outputs (``views``,
    ``fused``) too.

    Parameters
    ----------
    views, columns, fusion, projection_head, augmentations, fused_loss
        See :class:`~sk_ssl.models.MultiViewModel`.
    decoders : list of nn.Module
        One per view: maps the fused code to the view's ``(N, *input_shape)``.
    contrast : bool, default=False
        Also return the cross-view contrastive outputs.
    """

    def __init__(self, views, columns, fusion, projection_head, decoders, augmentations=None, fused_loss=False,
                 contrast=False):  # fmt: skip
        super().__init__(views, columns, fusion, projection_head, augmentations, fused_loss and contrast)
        self.decoders = nn.ModuleList(decoders)
        self.contrast = contrast

    def reconstruct(self, h, present):
        """``(joint, leave_one_out, loo_present)`` from view embeddings ``h`` (V, N, D).

        ``joint``: every view decoded from the fused code of all present
        views; ``leave_one_out``: view ``v`` decoded from the fusion of the
        other present views (``(N, W)`` each, standardized units);
        ``loo_present`` (V, N): rows that have view ``v`` and another view.
        """
        code = self.fusion(h, present)
        joint, loo, loo_present = [], [], []
        for v, decoder in enumerate(self.decoders):
            others = present.clone()
            others[v] = False
            has_others = others.any(dim=0)
            # A row with view v alone keeps its own mask (the fusion needs a view); it is left out of the loss.
            others = torch.where(has_others, others, present)
            joint.append(decoder(code).flatten(1))
            loo.append(decoder(self.fusion(h, others)).flatten(1))
            loo_present.append(has_others & present[v])
        return torch.cat(joint, dim=1), torch.cat(loo, dim=1), torch.stack(loo_present)

    def forward(self, x):
        inputs, present = self.split(x)
        # Targets: the clean standardized views (0 where missing; such rows are masked out of the loss).
        target = torch.cat([torch.nan_to_num(view.standardize(xv), nan=0.0).flatten(1)
                            for view, xv in zip(self.views, inputs)], dim=1)  # fmt: skip
        h = self._encode_inputs([aug(xv) for aug, xv in zip(self.augmentations, inputs)])
        joint, loo, loo_present = self.reconstruct(h, present)
        out = {"target": target, "joint": joint, "leave_one_out": loo, "present": present, "loo_present": loo_present}
        if self.contrast:
            out["views"] = self.projection_head(h)
            if self.fused_loss:
                out["fused"] = self.projection_head(self.fusion(h, present))
        return out


def _masked_mean(values, mask):
    return (values * mask).sum() / mask.sum().clamp(min=1)


class CrossModalLoss(nn.Module):
    """Mean over views of ``(MSE(joint) + MSE(leave-one-out)) / 2``, each a mean over the view's features.

    Parameters
    ----------
    widths : list of int
        Flattened width of each view, in order.
    """

    def __init__(self, widths):
        super().__init__()
        self.widths = [int(w) for w in widths]

    def per_view(self, outputs):
        """``(joint, leave_one_out)`` errors, each (V,): MSE per view over its present rows."""
        split = {key: torch.split(outputs[key].float(), self.widths, dim=1) for key in ("target", "joint", "leave_one_out")}
        joint, loo = [], []
        for v, target in enumerate(split["target"]):
            joint.append(_masked_mean(((split["joint"][v] - target) ** 2).mean(1), outputs["present"][v]))
            loo.append(_masked_mean(((split["leave_one_out"][v] - target) ** 2).mean(1), outputs["loo_present"][v]))
        return torch.stack(joint), torch.stack(loo)

    def forward(self, outputs, y_true=None):
        joint, loo = self.per_view(outputs)
        return 0.5 * (joint.mean() + loo.mean())


class _WeightedSum(nn.Module):
    """``sum_i weight_i * loss_i(outputs)``: several objectives trained at once."""

    def __init__(self, losses, weights):
        super().__init__()
        self.losses = nn.ModuleList(losses)
        self.weights = [float(w) for w in weights]

    def forward(self, outputs, y_true=None):
        return sum(w * loss(outputs, y_true) for w, loss in zip(self.weights, self.losses))


class CrossModalReconstruction(Objective):
    """Rebuild every view from the fused code and from the other views (leave-one-view-out)."""

    name = "reconstruction"
    family = "cross_view"
    outputs = {
        "target": "(N, W): the clean views, standardized and flattened side by side (0 where missing)",
        "joint": "(N, W): every view decoded from the fused code of all present views",
        "leave_one_out": "(N, W): each view decoded from the fused code of the other views",
        "present": "(V, N) bool: which views each sample has",
        "loo_present": "(V, N) bool: rows that have the view and at least one other view",
    }

    def model(self, views, columns, fusion, projection_head, augmentations, fused_loss, code_width, contrast):
        """The :class:`CrossModalModel` of the estimator's parts, with a decoder per view from ``code_width``."""
        decoders = [ReconstructionHead(code_width, view.input_shape) for view in views]
        return CrossModalModel(views, columns, fusion, projection_head, decoders, augmentations, fused_loss, contrast)

    def loss(self, widths):
        """The checked criterion for views of flattened ``widths``."""
        return self.criterion(CrossModalLoss(widths))


def combined_criterion(names, weights, temperature, widths):
    """The checked criterion of several MultiViewEmbedder objectives, weighted by ``weights``."""
    parts = {"cross_view": (CrossView, lambda: CrossViewInfoNCELoss(temperature)),
             "reconstruction": (CrossModalReconstruction, lambda: CrossModalLoss(widths))}  # fmt: skip
    outputs = {}
    for name in names:
        outputs.update(parts[name][0].outputs)
    combined = Objective()
    combined.name, combined.outputs = "+".join(names), outputs
    return combined.criterion(_WeightedSum([parts[name][1]() for name in names], weights))


def build(est, X, names, weights):
    """``(model, criterion)`` of MultiViewEmbedder ``est`` for objectives ``names`` that include reconstruction."""
    views, columns, fusion, projection_head, augmentations, fused_loss = view_parts(est, X)
    code_width = est.n_components * (len(views) if est.fusion == "concat" else 1)
    model = CrossModalReconstruction().model(
        views, columns, fusion, projection_head, augmentations, fused_loss, code_width, "cross_view" in names
    )
    widths = [math.prod(view.input_shape) for view in views]
    if names == ("reconstruction",):
        return model, CrossModalReconstruction().loss(widths)
    return model, combined_criterion(names, weights, est.temperature, widths)
