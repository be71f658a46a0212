"""Self-supervised models: an encoder plus the parts its objective needs.

A model's ``encode(x)`` maps raw rows (``(N, n_features)`` float32, images
flattened) to embeddings and is what ``transform`` uses. Its ``forward(x)``
returns what the objective's criterion (see :mod:`sk_ssl.losses`) needs, and is
what training uses. Input standardization lives inside the model as buffers, so
a fitted model is self-contained and augmentations see raw values.
"""

import torch
from torch import nn

__all__ = ["SSLModel", "ContrastiveModel"]


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
