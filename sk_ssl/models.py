"""Self-supervised models: an encoder plus the parts its objective needs.

A model's ``encode(x)`` maps raw rows (``(N, n_features)`` float32, images
flattened) to embeddings and is what ``transform`` uses. Its ``forward(x)``
returns what the objective's criterion (see :mod:`sk_ssl.losses`) needs, and is
what training uses. Input standardization lives inside the model as buffers, so
a fitted model is self-contained and augmentations see raw values.
"""

import torch
from torch import nn

__all__ = ["SSLModel", "ContrastiveModel", "MaskedModel"]


class SSLModel(nn.Module):
    """Encoder behind a fixed standardization and reshape.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(N, *input_shape)`` to ``(N, D)``.
    input_shape : tuple of int
        ``(n_features,)`` or ``(C, H, W)``.
    mean, scale : array-like of shape (n_features,)
        Standardization statistics of the training data (flattened).
    """

    def __init__(self, encoder, input_shape, mean, scale):
        super().__init__()
        self.encoder = encoder
        self.input_shape = tuple(input_shape)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).view(1, *self.input_shape))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).view(1, *self.input_shape))

    def as_input(self, x):
        """Reshape flat rows to ``(N, *input_shape)``."""
        return x.view(len(x), *self.input_shape)

    def standardize(self, x):
        """Standardize a batch shaped ``(N, *input_shape)``."""
        return (x - self.mean) / self.scale

    def encode(self, x):
        """Embed raw flat rows."""
        return self.encoder(self.standardize(self.as_input(x)))


class ContrastiveModel(SSLModel):
    """Two views through one encoder and projection head.

    Parameters
    ----------
    encoder, input_shape, mean, scale
        See :class:`SSLModel`.
    projection_head : nn.Module
        Used by the loss only; ``encode`` skips it.
    augmentation : nn.Module
        Draws a random view of a batch shaped ``(N, *input_shape)``.
    clean_anchor : bool
        True for SCARF (the clean row against one corrupted view), False for
        SimCLR (two augmented views).
    """

    def __init__(self, encoder, input_shape, mean, scale, projection_head, augmentation, clean_anchor):
        super().__init__(encoder, input_shape, mean, scale)
        self.projection_head = projection_head
        self.augmentation = augmentation
        self.clean_anchor = clean_anchor

    def forward(self, x):
        x = self.as_input(x)
        view_a = x if self.clean_anchor else self.augmentation(x)
        view_b = self.augmentation(x)
        # One encoder pass over both views: a bigger batch is faster.
        both = self.projection_head(self.encoder(self.standardize(torch.cat([view_a, view_b]))))
        return both[: len(x)], both[len(x) :]


class MaskedModel(SSLModel):
    """Masked modelling: encode a masked sample, decode the original.

    Cells that are NaN in the input are treated as masked: they are filled at
    the input and have no reconstruction target.

    * Tabular rows (VIME): ``masking`` replaces cells by draws from their
      column's marginal; a decoder reconstructs the standardized row and a mask
      head predicts which cells were replaced. ``forward`` returns
      ``(reconstruction, mask_logits, target, mask, observed)`` for
      :class:`~sk_ssl.losses.MaskReconstructionLoss`. At inference missing
      cells are filled with the training mean.
    * Images (SimMIM): ``masking`` draws random blocks; masked and missing
      pixels are replaced by a learned per-channel mask value and a
      mask-indicator channel per image channel is appended, so the encoder
      sees ``2 * C`` channels. ``forward`` returns ``(reconstruction, target,
      loss_mask)`` for :class:`~sk_ssl.losses.MaskedL1Loss`.

    Parameters
    ----------
    encoder, input_shape, mean, scale
        See :class:`SSLModel`. For images the encoder takes ``2 * C``
        channels.
    decoder : nn.Module
        Maps embeddings to ``(N, *input_shape)`` standardized values.
    masking : nn.Module
        :class:`~sk_ssl.augment.MarginalMasking` (tabular) or
        :class:`~sk_ssl.augment.BlockMasking` (images).
    mask_head : nn.Module or None, default=None
        Tabular only: maps embeddings to ``(N, n_features)`` mask logits.
    """

    def __init__(self, encoder, input_shape, mean, scale, decoder, masking, mask_head=None):
        super().__init__(encoder, input_shape, mean, scale)
        self.decoder = decoder
        self.masking = masking
        self.mask_head = mask_head
        self.is_image = len(self.input_shape) == 3
        if self.is_image:
            self.mask_token = nn.Parameter(torch.zeros(1, self.input_shape[0], 1, 1))

    def standardize(self, x):
        """Standardize a batch shaped ``(N, *input_shape)``; NaN becomes 0, the training mean."""
        x = (x - self.mean) / self.scale
        return torch.where(torch.isnan(x), torch.zeros_like(x), x)

    def _image_input(self, x, hidden):
        """Standardized images with ``hidden`` pixels set to the mask value, plus the indicator channels."""
        filled = torch.where(hidden, self.mask_token.to(x.dtype), x)
        return torch.cat([filled, hidden.to(x.dtype).expand_as(x)], dim=1)

    def encode(self, x):
        """Embed raw flat rows; NaN cells are treated as masked."""
        x = self.as_input(x)
        if self.is_image:
            return self.encoder(self._image_input(self.standardize(x), torch.isnan(x)))
        return self.encoder(self.standardize(x))

    def decode(self, z):
        """Map embeddings to flat rows in input units."""
        return (self.decoder(z) * self.scale + self.mean).flatten(1)

    def forward(self, x):
        x = self.as_input(x)
        observed = ~torch.isnan(x)
        target = self.standardize(x)  # missing cells are 0 here and excluded below
        if self.is_image:
            hidden = self.masking(len(x), x.device) | ~observed
            reconstruction = self.decoder(self.encoder(self._image_input(target, hidden)))
            return reconstruction, target, hidden & observed
        corrupted, mask = self.masking(x)
        z = self.encoder(self.standardize(corrupted))
        return self.decoder(z), self.mask_head(z), target, mask, observed
