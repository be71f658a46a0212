"""Supervised heads of the fine-tuners and of MIL: logits in, a task loss out.

Their models (a pretrained backbone plus a linear head; an instance encoder
plus one pooling and head per task) are built by the estimators; the single
named output is ``logits``, which such a model may return as the tensor itself.
"""

from ..losses import ClassificationLoss, MultiTaskBagLoss, RegressionLoss
from ._contract import Objective

_LOGITS = {"logits": "(N, n_outputs): the head's output (all tasks' logits side by side for MIL)"}


class Classification(Objective):
    """Cross-entropy of class logits (FineTuneClassifier)."""

    name = "classification"
    family = "supervised"
    outputs = _LOGITS

    def loss(self):
        return self.criterion(ClassificationLoss())


class Regression(Objective):
    """Mean squared error (FineTuneRegressor)."""

    name = "regression"
    family = "supervised"
    outputs = _LOGITS

    def loss(self):
        return self.criterion(RegressionLoss())


class MultiTaskBags(Objective):
    """Per-task (binary or multiclass) cross-entropy over bags, skipping missing labels (MIL)."""

    name = "multitask_bags"
    family = "supervised"
    outputs = _LOGITS

    def loss(self, n_logits):
        return self.criterion(MultiTaskBagLoss(n_logits))
