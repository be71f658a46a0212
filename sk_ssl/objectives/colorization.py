"""Colorization (Zhang, Isola, Efros, ECCV 2016): predict an image's colours from its grey version.

The encoder sees only the luminance (ITU-R BT.601: 0.299 R + 0.587 G +
0.114 B), in training and in ``transform`` alike, as in the paper; a decoder
predicts the standardized RGB image from the embedding (L2 regression; the
paper classifies quantized ab colours with class rebalancing).
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..augment import _LUMA
from ..encoders import ReconstructionHead
from ._contract import Objective
from ._pretext import PretextModel, pretext_parts


class ColorizationModel(PretextModel):
    """RGB in, luminance to the encoder, standardized RGB out of the decoder (``head``)."""

    def __init__(self, encoder, input_shape, mean, scale, head):
        super().__init__(encoder, input_shape, mean, scale, head)
        self.register_buffer("luma", torch.tensor(_LUMA).view(1, 3, 1, 1))

    def grey(self, x):
        """The standardized luminance ``(N, 1, H, W)`` of raw RGB images ``(N, 3, H, W)``: no colour left."""
        luma = self.luma.to(x.dtype)

        def to_grey(v):
            return (v * luma).sum(dim=1, keepdim=True)

        return (to_grey(x) - to_grey(self.mean)) / to_grey(self.scale)

    def encode(self, x):
        """Embed raw flat RGB rows through their luminance."""
        return self.encoder(self.grey(self.as_input(x)))

    def forward(self, x):
        x = self.as_input(x)
        return {"reconstruction": self.head(self.encoder(self.grey(x))), "target": self.standardize(x)}


class ColorizationLoss(nn.Module):
    """Mean squared error between the predicted and the true standardized colours."""

    def forward(self, outputs, y_true=None):
        return F.mse_loss(outputs["reconstruction"].float(), outputs["target"].float())


class Colorization(Objective):
    """Grey image in, colours out: RGB images only."""

    name = "colorization"
    family = "pretext"
    data = ("image",)
    outputs = {
        "reconstruction": "(N, 3, H, W): predicted colours, standardized units",
        "target": "(N, 3, H, W): the standardized RGB image",
    }

    def build(self, est, X):
        channels, height, width = est.image_shape_
        if channels != 3:
            raise ValueError(
                f"objective='colorization' predicts colour, so it needs RGB images (3 channels); these have "
                f"{channels}. Pass RGB images (e.g. image_shape=(3, H, W)), or use objective='rotation' or "
                "'jigsaw' for grey images."
            )
        encoder, mean, scale, _ = pretext_parts(est, X, 1, encoder_shape=(1, height, width))
        head = ReconstructionHead(est.n_components, est.image_shape_)
        return ColorizationModel(encoder, est._input_shape, mean, scale, head), self.criterion(ColorizationLoss())
