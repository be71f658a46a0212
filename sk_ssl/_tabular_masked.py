"""VIME on mixed tables: categorical columns reconstructed with cross-entropy, numbers with MSE.

Used by the "vime" objective when X has categorical columns (code columns,
see :mod:`sk_ssl._tabular`). The encoder reads the code columns through
learned embeddings; every cell is masked with probability ``mask_ratio`` and
replaced by a draw from its column's marginal (category codes from their
frequencies); missing cells (NaN, or the "missing" code 0) count as masked
and have no target. The decoder has one output per numeric column
(standardized value, MSE) and one softmax head per categorical column (its
codes, cross-entropy); the mask head predicts which cells were replaced.
``decode`` returns, for a categorical column, the most likely category's code
(never "missing" or "unknown"), which ``MaskedAutoencoder.reconstruct`` maps
back to the category itself.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._tabular import FIRST, MISSING, _code_columns, _numeric_columns, _unstandardized_codes, _with_code_embedding
from .augment import MarginalMasking
from .encoders import ReconstructionHead, make_encoder
from .losses import masked_mean
from .models import MaskedModel
from .objectives._contract import ObjectiveLoss

# Named outputs of _MixedMaskedModel.forward.
MIXED_OUTPUTS = {
    "reconstruction": "(N, n_numeric): decoded numeric columns, standardized units",
    "target": "(N, n_numeric): the standardized clean numeric columns (0 where missing)",
    "observed": "(N, n_numeric) bool: numeric cells not NaN in the input",
    "code_logits": "(N, sum of n_codes): one block of logits per categorical column",
    "codes": "(N, n_categorical) long: the clean codes",
    "code_observed": "(N, n_categorical) bool: categorical cells not missing in the input",
    "mask_logits": "(N, n_features): logit that a cell was replaced",
    "mask": "(N, n_features) bool: cells replaced",
}


class _MixedMaskedModel(MaskedModel):
    """:class:`~sk_ssl.models.MaskedModel` for tables with code columns (see the module docstring)."""

    def __init__(self, encoder, input_shape, mean, scale, decoder, masking, mask_head, code_columns, n_codes):
        super().__init__(encoder, input_shape, mean, scale, decoder, masking, mask_head)
        n_features = input_shape[0]
        self.code_columns = list(code_columns)
        self.n_codes = list(n_codes)
        self.numeric_columns = _numeric_columns(n_features, self.code_columns)
        is_code = torch.zeros(n_features, dtype=torch.bool)
        is_code[self.code_columns] = True
        self.register_buffer("is_code", is_code, persistent=False)

    def _with_nan_holes(self, x):
        """Raw rows with missing codes (0) as NaN: every missing cell is NaN."""
        return torch.where(self.is_code & (x == MISSING), torch.full_like(x, torch.nan), x)

    def standardize(self, x):
        """Standardized rows, NaN as 0 (the training mean); a missing code as the most frequent category."""
        x = self._with_nan_holes(x)
        z = (x - self.mean) / self.scale
        missing = torch.isnan(z)
        return torch.where(missing, torch.where(self.is_code, torch.full_like(z, FIRST), torch.zeros_like(z)), z)

    def _logit_blocks(self, out):
        n_numeric = len(self.numeric_columns)
        return out[:, :n_numeric], torch.split(out[:, n_numeric:], self.n_codes, dim=1)

    def decode(self, z):
        """Flat rows in input units: numbers, and per categorical column the most likely category's code."""
        numeric, blocks = self._logit_blocks(self.decoder(z))
        rows = torch.empty((len(z), len(self.is_code)), dtype=numeric.dtype, device=z.device)
        columns = self.numeric_columns
        rows[:, columns] = numeric * self.scale[0, columns] + self.mean[0, columns]
        for j, logits in zip(self.code_columns, blocks):
            rows[:, j] = (logits[:, FIRST:].argmax(dim=1) + FIRST).to(rows.dtype)  # never missing or unknown
        return rows

    def forward(self, x):
        x = self._with_nan_holes(self.as_input(x))
        observed = ~torch.isnan(x)
        target = self.standardize(x)
        corrupted, mask = self.masking(x)  # NaN (missing) cells are always replaced
        z = self.encoder(self.standardize(corrupted))
        numeric, blocks = self._logit_blocks(self.decoder(z))
        return {
            "reconstruction": numeric,
            "target": target[:, self.numeric_columns],
            "observed": observed[:, self.numeric_columns],
            "code_logits": torch.cat(blocks, dim=1),
            "codes": target[:, self.code_columns].round().long(),
            "code_observed": observed[:, self.code_columns],
            "mask_logits": self.mask_head(z),
            "mask": mask,
        }


class _MixedReconstructionLoss(nn.Module):
    """Per observed cell: squared error (numbers) or cross-entropy (categories), averaged; plus the mask loss."""

    def __init__(self, n_codes, mask_loss_weight=2.0):
        super().__init__()
        self.n_codes = list(n_codes)
        self.mask_loss_weight = mask_loss_weight

    def forward(self, y_pred, y_true=None):
        reconstruction, target, observed = y_pred["reconstruction"], y_pred["target"], y_pred["observed"]
        blocks = torch.split(y_pred["code_logits"].float(), self.n_codes, dim=1)
        codes, code_observed = y_pred["codes"], y_pred["code_observed"]
        cross_entropy = torch.stack(
            [F.cross_entropy(logits, codes[:, k], reduction="none") for k, logits in enumerate(blocks)], dim=1
        )
        errors = torch.cat([(reconstruction.float() - target) ** 2, cross_entropy], dim=1)
        loss = masked_mean(errors, torch.cat([observed, code_observed], dim=1))
        if self.mask_loss_weight:
            bce = F.binary_cross_entropy_with_logits(y_pred["mask_logits"].float(), y_pred["mask"].float())
            loss = loss + self.mask_loss_weight * bce
        return loss


def _build_mixed_vime(est, X, mask_ratio):
    """``(model, criterion)`` of VIME for a MaskedAutoencoder whose X has code columns."""
    columns, n_codes = _code_columns(est)
    mean, scale = _unstandardized_codes(est, *est._standardization(X))
    n_features = est.n_features_in_
    encoder = _with_code_embedding(est, make_encoder, est.encoder, n_features, est.n_components, nan_indicators=False)
    # The marginals draw categories from their observed frequencies: missing codes (0) are left out.
    X_holes = np.array(X, dtype=np.float32, copy=True)
    X_holes[:, columns] = np.where(X_holes[:, columns] == MISSING, np.nan, X_holes[:, columns])
    n_out = n_features - len(columns) + sum(n_codes)
    model = _MixedMaskedModel(
        encoder,
        (n_features,),
        mean,
        scale,
        decoder=ReconstructionHead(est.n_components, (n_out,)),
        masking=MarginalMasking(X_holes, mask_ratio),
        mask_head=ReconstructionHead(est.n_components, (n_features,)),
        code_columns=columns,
        n_codes=n_codes,
    )
    criterion = ObjectiveLoss("vime", tuple(MIXED_OUTPUTS), _MixedReconstructionLoss(n_codes, est.mask_loss_weight))
    return model, criterion
