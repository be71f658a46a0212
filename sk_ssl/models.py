"""Self-supervised models: an encoder plus the parts its objective needs.

A model's ``encode(x)`` maps raw rows (``(N, n_features)`` float32, images
flattened) to embeddings and is what ``transform`` uses. Its ``forward(x)``
returns what the objective's criterion (see :mod:`sk_ssl.losses`) needs, and is
what training uses. Input standardization lives inside the model as buffers, so
a fitted model is self-contained and augmentations see raw values.
"""

import torch
from torch import nn

__all__ = ["SSLModel", "ContrastiveModel", "MILModel"]


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


class MILModel(SSLModel):
    """Multiple-instance, multi-task classifier over padded batches of bags.

    A shared instance encoder embeds every real instance (padding is never
    encoded); then each task has its own pooling and head. With
    ``instance_level=True`` a task's head scores every instance and the pooling
    (a :class:`~sk_ssl.encoders.MaxPooling`) takes the bag's maximum score
    (mi-Net style), so a bag is positive only through an instance that is.

    Parameters
    ----------
    encoder, input_shape, mean, scale
        See :class:`SSLModel`; the encoder maps instances to ``(N, D)``.
    poolings : list of nn.Module
        One pooling per task, see :mod:`sk_ssl.encoders`.
    heads : list of nn.Module
        One head per task, ``(N, D) -> (N, n_logits_j)``.
    instance_level : bool, default=False
        Apply each head to instances before pooling (see above).
    dropout : float, default=0.0
        Dropout on the instance embeddings during training.
    """

    def __init__(self, encoder, input_shape, mean, scale, poolings, heads, instance_level=False, dropout=0.0):
        super().__init__(encoder, input_shape, mean, scale)
        self.poolings = nn.ModuleList(poolings)
        self.heads = nn.ModuleList(heads)
        self.instance_level = instance_level
        self.dropout = nn.Dropout(dropout)

    def embed(self, instances, mask):
        """Instance embeddings ``(B, L, D)`` of a padded batch; zero on padding."""
        real = self.encode(instances[mask])
        h = real.new_zeros((*mask.shape, real.shape[1]))
        h[mask] = real
        return self.dropout(h)

    def task_outputs(self, instances, mask):
        """Per task, ``(bag logits (B, n_logits_j), instance weights (B, L))``."""
        h = self.embed(instances, mask)
        outputs = []
        for pooling, head in zip(self.poolings, self.heads):
            if self.instance_level:
                outputs.append(pooling(head(h), mask))
            else:
                pooled, weights = pooling(h, mask)
                outputs.append((head(pooled), weights))
        return outputs

    def forward(self, instances, mask):
        """Bag logits of all tasks side by side, ``(B, sum_j n_logits_j)``."""
        return torch.cat([logits.float() for logits, _ in self.task_outputs(instances, mask)], dim=1)

    def instance_weights(self, instances, mask):
        """Instance weights per task, ``(B, L, n_tasks)``."""
        return torch.stack([weights.float() for _, weights in self.task_outputs(instances, mask)], dim=-1)
