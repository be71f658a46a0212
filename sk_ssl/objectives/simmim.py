"""SimMIM (Xie et al., 2022): hide random blocks of an image, predict their pixels (L1 on the hidden ones).

One method, two encoders. With a CNN the hidden pixels get a learned
per-channel mask value and mask-indicator channels are appended (a CNN has no
tokens). With a Vision Transformer, as in the paper, the mask works on patch
tokens: a masked patch's embedding is replaced by a learned mask token at the
encoder's input (every token is kept, unlike MAE) and a linear head predicts
each patch's raw (standardized) pixels from its final token. Both return the
same named outputs and train on the same loss, so this stays one objective.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._vit import _is_vit
from ..augment import BlockMasking
from ..encoders import ReconstructionHead, make_encoder
from ..losses import MaskedL1Loss
from ..models import MaskedModel
from ._contract import Objective


class ViTMaskedModel(MaskedModel):
    """SimMIM on a :class:`~sk_ssl.encoders.ViTEncoder`: token-level mask at the input, linear pixel head.

    ``masking`` draws blocks of whole patches; a patch with a missing (NaN)
    pixel is masked too. ``forward`` returns the named outputs of
    :class:`~sk_ssl.models.MaskedModel` on images (``reconstruction``,
    ``target``, ``loss_mask``, each ``(N, C, H, W)``). ``encode`` masks only
    the patches with missing pixels.
    """

    def __init__(self, encoder, input_shape, mean, scale, masking):
        channels = input_shape[0]
        head = nn.Linear(encoder.dim, encoder.patch_size**2 * channels)
        super().__init__(encoder, input_shape, mean, scale, decoder=head, masking=masking)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, encoder.dim))
        nn.init.normal_(self.mask_token, std=0.02)

    def _token_mask(self, hidden):
        """``(N, C or 1, H, W)`` hidden pixels -> ``(N, L)``: patches with any hidden pixel."""
        return F.max_pool2d(hidden.any(1, keepdim=True).float(), self.encoder.patch_size).flatten(1).bool()

    def _hidden_states(self, images, token_mask):
        return self.encoder.encode_tokens(self.encoder.patch_tokens(images, token_mask, self.mask_token))

    def encode(self, x):
        x = self.as_input(x)
        images = self.standardize(x)
        return self.encoder.pooled(self._hidden_states(images, self._token_mask(torch.isnan(x))))

    def decode(self, z):
        raise ValueError(
            "SimMIM on a ViT predicts pixels from patch tokens, not from the pooled embedding: inverse_transform "
            "and reconstruct are not available with a ViT encoder. Use a CNN encoder (encoder='cnn') for them."
        )

    def forward(self, x):
        x = self.as_input(x)
        observed = ~torch.isnan(x)
        target = self.standardize(x)
        token_mask = self._token_mask(self.masking(len(x), x.device) | ~observed)
        pixels = self.decoder(self._hidden_states(target, token_mask)[:, 1:])
        p, grid = self.encoder.patch_size, self.encoder.grid
        hidden = token_mask.view(len(x), 1, *grid).repeat_interleave(p, 2).repeat_interleave(p, 3)
        return {"reconstruction": self.encoder.unpatchify(pixels), "target": target, "loss_mask": hidden & observed}


class SimMIM(Objective):
    """Block masking of ``mask_ratio`` (default 0.6) of each image, a learned mask token, a one-layer decoder.

    With a ViT encoder the blocks are whole patches (``block_size`` "auto":
    one patch; else a multiple of the patch size) and the mask token replaces
    patch tokens (:class:`ViTMaskedModel`).
    """

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
        mask_ratio = self.resolved(est)["mask_ratio_"]
        if _is_vit(est.encoder):
            vit = make_encoder(est.encoder, est.image_shape_, est.n_components)
            if block_size is not None and block_size % vit.patch_size:
                raise ValueError(
                    f"block_size={block_size} must be a multiple of the ViT's patch size {vit.patch_size}: SimMIM "
                    "on a ViT masks whole patches. Use block_size='auto' (one patch)."
                )
            masking = BlockMasking(est.image_shape_, mask_ratio, block_size or vit.patch_size)
            model = ViTMaskedModel(vit, est._input_shape, mean, scale, masking)
            return model, self.criterion(MaskedL1Loss())
        model = MaskedModel(
            make_encoder(est.encoder, (2 * channels, height, width), est.n_components),
            est._input_shape,
            mean,
            scale,
            decoder=ReconstructionHead(est.n_components, est.image_shape_, hidden_features=None),
            masking=BlockMasking(est.image_shape_, mask_ratio, block_size),
        )
        return model, self.criterion(MaskedL1Loss())
