"""MAE (He et al., 2022): drop most patch tokens, reconstruct their normalized pixels with a light decoder.

A random ``mask_ratio`` (default 0.75) of each image's patches is removed
before the ViT encoder, which sees only the visible tokens (that is what
makes MAE cheap). A small transformer decoder gets the encoded visible tokens
back in place, a shared learned mask token at every dropped position, and
predicts each patch's pixels. The loss is the mean squared error on the
masked patches only, against pixels normalized per patch (mean 0, variance 1
within each patch: MAE's ``norm_pix_loss``).
"""

import math

import torch
from torch import nn

from .._vit import ViTEncoder, _is_vit, _Transformer, _sincos_2d
from ..encoders import make_encoder
from ..models import SSLModel
from ._contract import Objective


class MAEModel(SSLModel):
    """A :class:`~sk_ssl.encoders.ViTEncoder` that sees only visible patches, and MAE's decoder.

    ``forward`` returns ``prediction`` (``(N, L, p * p * C)``: the decoder's
    pixels for every patch), ``target`` (the per-patch normalized pixels, same
    shape) and ``patch_mask`` (``(N, L)`` bool: the dropped patches, the only
    ones the loss counts). ``encode`` runs the encoder on the whole image (no
    masking). Missing pixels (NaN) are 0 (the training mean) at the input and
    excluded from the targets.

    Parameters
    ----------
    encoder : ViTEncoder
    input_shape, mean, scale
        See :class:`~sk_ssl.models.SSLModel`.
    mask_ratio : float
        Share of patches dropped; the encoder sees ``ceil((1 - mask_ratio) * L)``
        of the ``L`` patches (at least one, and at least one is dropped).
    decoder_dim, decoder_depth, decoder_heads : int
        Width, blocks and heads of the decoder (MAE: 512, 8, 16 on ImageNet;
        much lighter here, see :class:`MAE`).
    """

    def __init__(self, encoder, input_shape, mean, scale, mask_ratio, decoder_dim=64, decoder_depth=2, decoder_heads=4,
                 norm_pix=True):  # fmt: skip
        super().__init__(encoder, input_shape, mean, scale)
        self.norm_pix = norm_pix
        n_patches = encoder.n_patches
        if n_patches < 2:
            raise ValueError(
                f"MAE drops patches, so it needs at least 2 of them; an image of shape {tuple(input_shape)} "
                f"({math.prod(input_shape)} feature(s)) makes 1 patch of {encoder.patch_size} pixels a side. "
                "Use objective='simmim', a smaller patch_size or larger images."
            )
        self.n_visible = min(n_patches - 1, max(1, math.ceil((1 - mask_ratio) * n_patches)))
        self.decoder_embed = nn.Linear(encoder.dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        nn.init.normal_(self.mask_token, std=0.02)
        self.register_buffer("decoder_pos", _sincos_2d(decoder_dim, *encoder.grid)[None])
        self.decoder = _Transformer(decoder_dim, decoder_depth, decoder_heads)
        self.decoder_pred = nn.Linear(decoder_dim, encoder.patch_size**2 * input_shape[0])

    def standardize(self, x):
        """Standardize a batch shaped ``(N, *input_shape)``; NaN becomes 0, the training mean."""
        return torch.nan_to_num((x - self.mean) / self.scale, nan=0.0)

    def forward(self, x):
        x = self.as_input(x)
        images, vit = self.standardize(x), self.encoder
        tokens = vit.patch_tokens(images)
        n, n_patches, _ = tokens.shape
        # Random subset per image: the first n_visible of a random permutation.
        order = torch.rand(n, n_patches, device=x.device).argsort(dim=1)
        keep = order[:, : self.n_visible]
        visible = torch.gather(tokens, 1, keep[..., None].expand(-1, -1, tokens.shape[-1]))
        hidden = self.decoder_embed(vit.encode_tokens(visible))
        # Decoder input: mask tokens everywhere, the encoded visible tokens scattered back in place.
        full = self.mask_token.to(hidden.dtype).expand(n, n_patches, -1).clone()
        full.scatter_(1, keep[..., None].expand(-1, -1, hidden.shape[-1]), hidden[:, 1:])
        decoded = self.decoder(torch.cat([hidden[:, :1], full + self.decoder_pos.to(hidden.dtype)], dim=1))
        patch_mask = torch.ones(n, n_patches, dtype=torch.bool, device=x.device).scatter_(1, keep, False)
        target, observed = vit.patchify(images), vit.patchify(~torch.isnan(x))
        if self.norm_pix:
            target = _normalized_patches(target, observed)
        return {"prediction": self.decoder_pred(decoded[:, 1:]), "target": target, "patch_mask": patch_mask,
                "observed": observed}  # fmt: skip

    def decode(self, z):
        raise ValueError(
            "objective='mae' decodes patch tokens, not the pooled embedding: inverse_transform and reconstruct "
            "are not available for it. Use objective='simmim' for reconstructions."
        )


def _normalized_patches(patches, observed):
    """Each patch's observed pixels standardized within the patch (MAE's norm_pix_loss); missing ones 0."""
    count = observed.sum(-1, keepdim=True).clamp_min(1)
    mean = (patches * observed).sum(-1, keepdim=True) / count
    var = (((patches - mean) * observed) ** 2).sum(-1, keepdim=True) / count
    return torch.where(observed, (patches - mean) / (var + 1e-6).sqrt(), torch.zeros_like(patches))


class MAELoss(nn.Module):
    """Mean squared error on the observed pixels of the masked patches only."""

    def forward(self, outputs, y_true=None):
        weight = (outputs["patch_mask"][..., None] & outputs["observed"]).float()
        error = (outputs["prediction"].float() - outputs["target"]) ** 2
        return (error * weight).sum() / weight.sum().clamp_min(1)


class MAE(Objective):
    """Random patch dropping (``mask_ratio`` 0.75), a ViT on the visible tokens, a 2-block decoder of width 64."""

    name = "mae"
    family = "masked"
    data = ("image",)
    outputs = {
        "prediction": "(N, L, p * p * C): predicted pixels of every patch",
        "target": "(N, L, p * p * C): the patches' pixels, normalized within each patch",
        "patch_mask": "(N, L) bool: patches dropped from the encoder's input (the loss counts only these)",
        "observed": "(N, L, p * p * C) bool: pixels that are not missing",
    }

    def resolved(self, est):
        return {"mask_ratio_": 0.75 if est.mask_ratio == "auto" else est.mask_ratio}

    def build(self, est, X):
        encoder = "vit" if est.encoder == "auto" else est.encoder
        if not _is_vit(encoder):
            raise ValueError(
                f"objective='mae' drops patch tokens, so it needs a Vision Transformer encoder; got "
                f"encoder={est.encoder!r}. Use encoder='auto' (or 'vit', 'vit_tiny', a ViTEncoder), or "
                "objective='simmim' for a CNN."
            )
        mean, scale = est._standardization(X)
        vit = make_encoder(encoder, est.image_shape_, est.n_components)
        assert isinstance(vit, ViTEncoder)
        # Per-patch normalization needs patches of several values (one pixel would normalize to 0).
        norm_pix = vit.patch_size**2 * est.image_shape_[0] > 1
        model = MAEModel(vit, est._input_shape, mean, scale, self.resolved(est)["mask_ratio_"], norm_pix=norm_pix)
        return model, self.criterion(MAELoss())
