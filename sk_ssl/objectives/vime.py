"""VIME (Yoon et al., 2020): reconstruct a row from a copy with cells drawn from their marginals, and find them."""

from ..augment import MarginalMasking
from ..encoders import ReconstructionHead, make_encoder
from ..losses import MaskReconstructionLoss
from ..models import MaskedModel
from ._contract import Objective


class VIME(Objective):
    """Mask each cell with probability ``mask_ratio`` (default 0.3); MSE reconstruction + mask prediction."""

    name = "vime"
    family = "masked"
    data = ("tabular",)
    outputs = {
        "reconstruction": "(N, n_features): decoded row, standardized units",
        "mask_logits": "(N, n_features): logit that a cell was replaced",
        "target": "(N, n_features): the standardized clean row (0 where missing)",
        "mask": "(N, n_features) bool: cells replaced",
        "observed": "(N, n_features) bool: cells not NaN in the input",
    }

    def resolved(self, est):
        return {"mask_ratio_": 0.3 if est.mask_ratio == "auto" else est.mask_ratio}

    def build(self, est, X):
        if getattr(est, "categories_", None) is not None:  # categorical columns: CE heads (sk_ssl._tabular_masked)
            from .._tabular_masked import _build_mixed_vime

            return _build_mixed_vime(est, X, self.resolved(est)["mask_ratio_"])
        mean, scale = est._standardization(X)
        n_features = est.n_features_in_
        model = MaskedModel(
            make_encoder(est.encoder, est._input_shape, est.n_components),
            est._input_shape,
            mean,
            scale,
            decoder=ReconstructionHead(est.n_components, (n_features,)),
            masking=MarginalMasking(X, self.resolved(est)["mask_ratio_"]),
            mask_head=ReconstructionHead(est.n_components, (n_features,)),
        )
        return model, self.criterion(MaskReconstructionLoss(est.mask_loss_weight))
