"""SimMIM (Xie et al., 2022): hide random blocks of an image, predict their pixels (L1 on the hidden ones)."""

from ..augment import BlockMasking
from ..encoders import ReconstructionHead, make_encoder
from ..losses import MaskedL1Loss
from ..models import MaskedModel
from ._contract import Objective


class SimMIM(Objective):
    """Block masking of ``mask_ratio`` (default 0.6) of each image, a learned mask token, a one-layer decoder."""

    name = "simmim"
    family = "masked"
    data = ("image",)
    outputs = {
        "reconstruction": "(N, C, H, W): predicted pixels, standardized units",
        "target": "(N, C, H, W): the standardized image (0 where missing)",
        "loss_mask": "(N, C, H, W) bool: pixels hidden by the mask and observed in the input",
    }

    def resolved(self, est):
        return {"mask_ratio_": 0.6 if est.mask_ratio == "auto" else est.mask_ratio}

    def build(self, est, X):
        mean, scale = est._standardization(X)
        channels, height, width = est.image_shape_
        block_size = None if est.block_size == "auto" else est.block_size
        model = MaskedModel(
            make_encoder(est.encoder, (2 * channels, height, width), est.n_components),
            est._input_shape,
            mean,
            scale,
            decoder=ReconstructionHead(est.n_components, est.image_shape_, hidden_features=None),
            masking=BlockMasking(est.image_shape_, self.resolved(est)["mask_ratio_"], block_size),
        )
        return model, self.criterion(MaskedL1Loss())
