"""BYOL (Grill et al., 2020): predict a momentum target network's projection of the other view.

The online network (encoder, projection head, predictor) is trained; the
target network (encoder and projection head) is an exponential moving average
of the online one, updated after each optimizer step through the engine's
``after_step`` hook. No negatives.
"""

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..models import ContrastiveModel
from . import _schedules
from ._contract import Objective
from ._views import two_view_model


class BYOLModel(ContrastiveModel):
    """:class:`~sk_ssl.models.ContrastiveModel` plus a predictor and a momentum target network.

    ``forward`` returns ``prediction_a``, ``prediction_b`` (the online
    predictions of each view, ``(N, P)``) and ``target_a``, ``target_b`` (the
    target network's projections, ``(N, P)``, without gradient).

    ``schedule`` ("constant" or "paper") and ``horizon`` (total steps) are set
    by the objective (:mod:`sk_ssl.objectives._schedules`); ``steps`` counts
    the optimizer steps taken.
    """

    def __init__(self, *args, momentum=0.99, **kwargs):
        super().__init__(*args, **kwargs)
        width = self.projection_head[-1].out_features
        self.predictor = _mlp(width, 256, width)
        self.target_encoder = copy.deepcopy(self.encoder).requires_grad_(False)
        self.target_projection = copy.deepcopy(self.projection_head).requires_grad_(False)
        self.momentum = momentum
        self.schedule, self.horizon, self.steps = "constant", 0, 0

    def current_momentum(self):
        """The EMA momentum of the next update: ``momentum``, or its cosine schedule to 1.0 with "paper"."""
        if self.schedule == "paper":
            return _schedules.cosine_momentum(self.momentum, self.steps, self.horizon)
        return self.momentum

    def forward(self, x):
        views, n = self.views(x), len(x)
        online = self.predictor(self.projection_head(self.encoder(views)))
        with torch.no_grad():
            target = self.target_projection(self.target_encoder(views))
        return {"prediction_a": online[:n], "prediction_b": online[n:], "target_a": target[:n], "target_b": target[n:]}

    @torch.no_grad()
    def after_step(self):
        """Count the step; move the target network towards the online one (exponential moving average)."""
        self.steps += 1
        momentum = self.current_momentum()
        pairs = [(self.target_encoder, self.encoder), (self.target_projection, self.projection_head)]
        for target, online in pairs:
            for t, o in zip(target.parameters(), online.parameters()):
                t.lerp_(o, 1.0 - momentum)
            for t, o in zip(target.buffers(), online.buffers()):
                t.copy_(o)


class BYOLLoss(nn.Module):
    """Symmetric BYOL loss: ``2 - 2 cos`` between each view's prediction and the other view's target."""

    def forward(self, outputs, y_true=None):
        def term(p, t):
            return (2 - 2 * F.cosine_similarity(p.float(), t.float().detach(), dim=1)).mean()

        return term(outputs["prediction_a"], outputs["target_b"]) + term(outputs["prediction_b"], outputs["target_a"])


class BYOL(Objective):
    """The contrastive embedder's views and projection head, plus BYOL's predictor and momentum target."""

    name = "byol"
    family = "two_view"
    outputs = {
        "prediction_a": "(N, projection_dim): online prediction of the first view",
        "prediction_b": "(N, projection_dim): online prediction of the second view",
        "target_a": "(N, projection_dim): target projection of the first view (no gradient)",
        "target_b": "(N, projection_dim): target projection of the second view (no gradient)",
    }

    def build(self, est, X):
        # BYOL's heads have BatchNorm (as in the paper); without it the online network collapses here.
        model = two_view_model(est, X, model_class=BYOLModel, projection_head=_mlp)
        return _schedules.configure(model, est, X, self.name), self.criterion(BYOLLoss())


def _mlp(in_features, hidden, out_features):
    return nn.Sequential(nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out_features))
