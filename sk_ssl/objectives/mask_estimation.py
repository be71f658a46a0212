"""Mask estimation (VIME's pretext task on its own, Yoon et al., NeurIPS 2020): which cells were corrupted?

Each cell is replaced with probability ``corruption_rate`` by a draw from its
column's marginal (:class:`~sk_ssl.augment.MarginalMasking`, as in VIME); a
head predicts, per cell, whether it was replaced (binary cross-entropy). It is
VIME without the reconstruction decoder: the encoder must learn which values
are plausible given the rest of the row, i.e. the dependencies between columns.

Mixed tables: a categorical column's codes are redrawn from their
frequencies like any value. Numeric columns with NaN in ``fit``: "missing" is
a value of the column's marginal (drawn with its share of NaN cells, as in
SCARF's corruption) and an uncorrupted NaN cell stays NaN for the encoder's
missing indicator; the mask marks the redrawn cells only.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._marginals import _ColumnMarginals
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


class _MissingAsValueMasking(MarginalMasking):
    """:class:`~sk_ssl.augment.MarginalMasking` that draws "missing" as a value and leaves NaN cells as they are."""

    def __init__(self, marginals, mask_ratio):
        nn.Module.__init__(self)
        self.marginals = _ColumnMarginals(marginals, keep_missing=True)
        self.mask_ratio = mask_ratio

    def forward(self, x):
        mask = torch.rand(x.shape, device=x.device) < self.mask_ratio
        replacement = self.marginals.sample(len(x), device=x.device, dtype=x.dtype)
        return torch.where(mask, replacement, x), mask


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
        rate = self.resolved(est)["corruption_rate_"]
        with_nan = getattr(est, "nan_features_", None) is not None  # missing indicators: NaN is a value
        masking = (_MissingAsValueMasking if with_nan else MarginalMasking)(X, rate)
        model = MaskEstimationModel(encoder, est._input_shape, mean, scale, head, masking)
        return model, self.criterion(MaskEstimationLoss())
