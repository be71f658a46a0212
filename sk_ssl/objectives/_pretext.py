"""What the pretext-task objectives share: a model with a task head, and the classification loss.

A pretext task turns each unlabelled sample into an input and a label that
the data itself defines (a rotation, a tile permutation, the colours, the
corrupted cells); the encoder plus a small head is trained to predict the
label. ``transform`` uses the encoder only, on the unmodified input.
"""

import torch.nn.functional as F
from torch import nn

from .._tabular import _unstandardized_codes, _with_code_embedding
from ..encoders import make_encoder
from ..models import SSLModel

# Named outputs of the classification pretext tasks (rotation, jigsaw).
CLASS_OUTPUTS = {
    "logits": "(M, n_classes): the head's logits for the M transformed samples of the batch",
    "labels": "(M,) long: the transformation each of them received (the pretext label)",
}


class PretextModel(SSLModel):
    """:class:`~sk_ssl.models.SSLModel` plus a task head used by the loss only (``encode`` skips it)."""

    def __init__(self, encoder, input_shape, mean, scale, head):
        super().__init__(encoder, input_shape, mean, scale)
        self.head = head


class PretextClassificationLoss(nn.Module):
    """Cross-entropy of the pretext logits against the labels the model drew."""

    def forward(self, outputs, y_true=None):
        return F.cross_entropy(outputs["logits"].float(), outputs["labels"])


def task_head(in_features, n_classes, hidden=256):
    """``Linear-ReLU-Linear``: the head a pretext task trains on top of the encoder."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, n_classes))


def pretext_parts(est, X, n_outputs, encoder_shape=None):
    """``(encoder, mean, scale, head)`` of a pretext model for ``est`` and its validated X.

    Tables: code columns stay unstandardized and are looked up in learned
    embeddings, numeric columns with NaN in ``fit`` get missing indicators
    (``sk_ssl._tabular``; a plain encoder when there are neither).
    """
    mean, scale = est._standardization(X)
    if est.image_shape_ is None:
        mean, scale = _unstandardized_codes(est, mean, scale)
        encoder = _with_code_embedding(est, make_encoder, est.encoder, est.n_features_in_, est.n_components)
    else:
        encoder = make_encoder(est.encoder, encoder_shape or est._input_shape, est.n_components)
    return encoder, mean, scale, task_head(est.n_components, n_outputs)


def square_images(est, objective):
    """Refuse non-square images for rotation prediction, naming the fix."""
    shape = est.image_shape_
    if shape[1] != shape[2]:
        raise ValueError(
            f"objective={objective!r} rotates images by multiples of 90 degrees, which needs square images; "
            f"these are {shape[1]} x {shape[2]}. Crop or resize them to a square, or use objective='jigsaw'."
        )
