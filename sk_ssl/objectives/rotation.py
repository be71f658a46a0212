"""Rotation prediction (Gidaris, Singh, Komodakis, ICLR 2018, "RotNet"): which of 0/90/180/270 degrees?"""

import torch

from ._contract import Objective
from ._pretext import CLASS_OUTPUTS, PretextClassificationLoss, PretextModel, pretext_parts, square_images


class RotationModel(PretextModel):
    """Every image of the batch in its four rotations (as in RotNet), labelled 0-3 (k x 90 degrees)."""

    def forward(self, x):
        x = self.standardize(self.as_input(x))  # per-channel statistics: rotation commutes with them
        rotated = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
        labels = torch.arange(4, device=x.device).repeat_interleave(len(x))
        return {"logits": self.head(self.encoder(rotated)), "labels": labels}


class Rotation(Objective):
    """Predict the rotation of square images; four rotations of each image per step (4x the encoder work)."""

    name = "rotation"
    family = "pretext"
    data = ("image",)
    outputs = CLASS_OUTPUTS

    def build(self, est, X):
        square_images(est, self.name)
        encoder, mean, scale, head = pretext_parts(est, X, 4)
        return RotationModel(encoder, est._input_shape, mean, scale, head), self.criterion(PretextClassificationLoss())
