"""Mask estimation (VIME's pretext task on its own, Yoon et al., NeurIPS 2020): which cells were corrupted?

Each cell is replaced with probability ``corruption_rate`` by a draw from its
column's marginal (:class:`~sk_ssl.augment.MarginalMasking`, as in VIME); a
head predicts, per cell, whether it was replaced (binary cross-entropy). It is
VIME without the reconstruction decoder: the encoder must learn which values
are plausible given the rest of the row, i.e. the dependencies between columns.
"""

import torch.nn.functional as F
from torch import nn

from ..augment import MarginalMasking
from ..encoders import ReconstructionHead
from ._contract import Objective
from ._pretext import PretextModel, pretext_parts


class MaskEstimationModel(PretextModel):
    """Corrupt cells from their marginals; ``head`` gives one logit per cell that it was replaced."""

    def __init__(self, encoder, input_shape, mean, scale, head, masking):
        super().__init__(encoder, input_shape, mean, scale, head)
        self.masking = masking

    def forward(self, x):
        corrupted, mask = self.masking(self.as_input(x))
        return {"mask_logits": self.head(self.encoder(self.standardize(corrupted))), "mask": mask}


class MaskEstimationLoss(nn.Module):
    """Binary cross-entropy of the per-cell logits against the corruption mask."""

    def forward(self, outputs, y_true=None):
        return F.binary_cross_entropy_with_logits(outputs["mask_logits"].float(), outputs["mask"].float())


class MaskEstimation(Objective):
    """Find the cells redrawn from their marginals; tables only (``corruption_rate`` auto: 0.3, VIME's)."""

    name = "mask_estimation"
    family = "pretext"
    data = ("tabular",)
    outputs = {
        "mask_logits": "(N, n_features): logit that a cell was replaced",
        "mask": "(N, n_features) bool: cells replaced",
    }

    def resolved(self, est):
        return {"corruption_rate_": 0.3 if est.corruption_rate == "auto" else est.corruption_rate}

    def build(self, est, X):
        encoder, mean, scale, _ = pretext_parts(est, X, 1)
        head = ReconstructionHead(est.n_components, (est.n_features_in_,))
        masking = MarginalMasking(X, self.resolved(est)["corruption_rate_"])
        model = MaskEstimationModel(encoder, est._input_shape, mean, scale, head, masking)
        return model, self.criterion(MaskEstimationLoss())
