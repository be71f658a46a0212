"""Supervised heads of the fine-tuners and of MIL: logits in, a task loss out.

Each objective builds its model: a pretrained backbone plus a linear head
(the fine-tuners), or an instance encoder plus one pooling and head per task
(MIL). The single named output is ``logits``, which such a model may return as
the tensor itself.
"""

import math

import numpy as np
import torch
from torch import nn

from .._sparse import _dense
from ..encoders import AttentionPooling, DualStreamPooling, MaxPooling, MeanPooling, SelfAttentionPooling
from ..losses import ClassificationLoss, MultiTaskBagLoss, RegressionLoss
from ..models import FineTuneModel, MILModel
from ._contract import Objective

_LOGITS = {"logits": "(N, n_outputs): the head's output (all tasks' logits side by side for MIL)"}


def _fine_tune_model(est, X):
    """The fine-tuner's backbone (``est._pending_backbone``) under a linear head of ``est._n_outputs``."""
    backbone = est._pending_backbone.eval()
    param = next(backbone.parameters())
    with torch.no_grad():
        first = np.asarray(_dense(X[:2]), dtype=np.float32)  # also for sparse rows and image files (decodes two)
        width = backbone.encode(torch.as_tensor(first, device=param.device)).shape[1]
    return FineTuneModel(backbone, nn.Linear(width, est._n_outputs), freeze_encoder=est.freeze_encoder)


class Classification(Objective):
    """Cross-entropy of class logits (FineTuneClassifier)."""

    name = "classification"
    family = "supervised"
    outputs = _LOGITS

    def loss(self):
        return self.criterion(ClassificationLoss())

    def build(self, est, X):
        return _fine_tune_model(est, X), self.loss()


class Regression(Objective):
    """Mean squared error (FineTuneRegressor)."""

    name = "regression"
    family = "supervised"
    outputs = _LOGITS

    def loss(self):
        return self.criterion(RegressionLoss())

    def build(self, est, X):
        return _fine_tune_model(est, X), self.loss()


def _pooling(est, width, n_logits):
    """The bag pooling named by MIL's ``pooling`` parameter."""
    if est.pooling == "transformer":
        return SelfAttentionPooling(width, n_heads=math.gcd(width, 4), dropout=est.dropout)
    if est.pooling == "dsmil":
        return DualStreamPooling(width, n_logits, query_features=est.attention_dim)
    if est.pooling in ("attention", "gated_attention"):
        return AttentionPooling(width, est.attention_dim, gated=est.pooling == "gated_attention")
    return MeanPooling() if est.pooling == "mean" else MaxPooling()


class MultiTaskBags(Objective):
    """Per-task (binary or multiclass) cross-entropy over bags, skipping missing labels (MIL)."""

    name = "multitask_bags"
    family = "supervised"
    outputs = _LOGITS

    def loss(self, n_logits):
        return self.criterion(MultiTaskBagLoss(n_logits))

    def build(self, est, X):
        """MIL's instance encoder (``est._instance_encoder(X)``), then a pooling and a head per task."""
        encoder, input_shape, mean, scale, width = est._instance_encoder(X)
        n_logits = [1 if len(c) == 2 else len(c) for c in est._classes_per_task]
        poolings = [_pooling(est, width, n) for n in n_logits]
        # DSMIL's pooling returns the task's logits itself.
        heads = [nn.Identity() if est.pooling == "dsmil" else nn.Linear(width, n) for n in n_logits]
        model = MILModel(
            encoder,
            input_shape,
            mean,
            scale,
            poolings,
            heads,
            instance_level=est.pooling == "instance_max",
            dropout=est.dropout,
        )
        return model, self.loss(n_logits)
