"""Target-aware pretraining: a self-supervised objective plus a supervised head on the labelled rows.

Rubachev, Alekberov, Gorishniy, Babenko (2022), "Revisiting Pretraining
Objectives for Tabular Deep Learning", find that pretraining which sees the
targets beats purely self-supervised pretraining before fine-tuning; the
simplest of their target-aware objectives adds a supervised loss on the
labelled rows to the self-supervised loss during pretraining. Here that is a
composition around any single-encoder objective (SCARF, VIME, a hybrid...),
like :mod:`~sk_ssl.objectives.hybrid`: not a registered name, but what
``FineTuneClassifier(pretrain="target_aware")`` (or ``FineTuneRegressor``)
does to its pretrainer.

While the fine-tuner pretrains its pretrainer clone, :class:`_pretraining`
gives the clone the fine-tuner's targets (-1 or NaN on unlabelled rows); the
one training loop (``_TorchEstimatorBase._train``) then trains the model that
:func:`attach` builds: the objective's model with a linear head on its
``encode`` of the clean rows, whose extra named output ``"target_logits"`` the
supervised loss reads on the labelled rows of each batch. That loss is
rescaled to the self-supervised loss's running magnitude, as the hybrid's
``"balanced"`` weights do, so neither part dominates by its units. On exit the
head is dropped: the fitted pretrainer holds its ordinary objective model
(same ``transform``, ``export_encoder``, persistence), whose encoder was shaped
by both losses.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._sparse import _dense
from ._contract import ObjectiveLoss

_OUTPUT = "target_logits"
# Rescale the supervised loss to the self-supervised one's running magnitude (False: add it as it is).
# The benchmark's --balance ablation compares the two (benchmarks/bench_tabular_target_aware.py).
_BALANCED = True


class TargetAwareModel(nn.Module):
    """A self-supervised model with a supervised head on its embedding of the clean rows.

    Parameters
    ----------
    model : nn.Module
        The objective's model (returns a dict of named outputs, has ``encode``).
    head : nn.Module
        Maps ``model.encode(x)`` (N, D) to (N, n_outputs) logits.
    """

    def __init__(self, model, head):
        super().__init__()
        self.model = model
        self.head = head

    def encode(self, x):
        return self.model.encode(x)

    def forward(self, x):
        out = dict(self.model(x))
        out[_OUTPUT] = self.head(self.model.encode(x))
        return out

    def after_step(self):
        """The objective's per-step work (e.g. BYOL's momentum target), if any."""
        hook = getattr(self.model, "after_step", None)
        if hook is not None:
            hook()


class TargetAwareLoss(nn.Module):
    """``ssl_loss + weight * factor * supervised_loss`` over the labelled rows of the batch.

    The supervised loss is cross-entropy (``task="classification"``, targets
    are class indices, -1 unlabelled) or the mean squared error
    (``"regression"``, standardized targets, NaN unlabelled), over the batch's
    labelled rows only; a batch without any is trained on the
    self-supervised loss alone. ``factor`` is the ratio of the two losses'
    running means (exponential moving averages of their detached values on
    the batches with labels, ``momentum`` 0.9, started at the first such
    batch), a constant for the gradient; 1 with ``balanced=False``.
    """

    def __init__(self, ssl_criterion, task, weight=1.0, momentum=0.9, balanced=True):
        super().__init__()
        self.ssl_criterion = ssl_criterion
        self.task, self.weight, self.momentum, self.balanced = task, float(weight), float(momentum), bool(balanced)
        self.register_buffer("running", torch.zeros(2))

    def supervised(self, logits, y_true):
        """The supervised loss over the labelled rows, or None when the batch has none."""
        y_true = y_true.reshape(len(logits), -1)[:, 0]
        labelled = y_true >= 0 if self.task == "classification" else ~torch.isnan(y_true)
        if not bool(labelled.any()):
            return None
        logits, y_true = logits[labelled].float(), y_true[labelled]
        if self.task == "classification":
            return F.cross_entropy(logits, y_true.long())
        return F.mse_loss(logits[:, 0], y_true.float())

    def forward(self, outputs, y_true=None):
        if y_true is None:
            raise ValueError("Target-aware pretraining needs the targets of the rows; the batch came without them.")
        ssl = self.ssl_criterion(outputs, None)
        sup = self.supervised(outputs[_OUTPUT], y_true)
        if sup is None:  # no labelled row in this batch; keep the head in the graph (data-parallel training)
            return ssl + 0.0 * outputs[_OUTPUT].sum()
        if not self.balanced:
            return ssl + self.weight * sup
        current = torch.stack([ssl.detach().float(), sup.detach().float()]).to(self.running.device)
        if self.training:
            with torch.no_grad():
                seen = self.running > 0
                self.running.copy_(torch.where(seen, self.momentum * self.running + (1 - self.momentum) * current,
                                               current))  # fmt: skip
        reference = torch.where(self.running > 0, self.running, current)
        factor = reference[0] / reference[1].clamp_min(1e-12)
        return ssl + self.weight * factor * sup


def attach(model, criterion, X, task, n_outputs):
    """``(TargetAwareModel, criterion)`` around an objective's ``(model, criterion)`` built on X."""
    was_training = model.training
    model.eval()  # no BatchNorm statistics from the two probe rows
    param = next(model.parameters())
    with torch.no_grad():
        first = np.asarray(_dense(X[:2]), dtype=np.float32)
        width = model.encode(torch.as_tensor(first, device=param.device)).shape[1]
    model.train(was_training)
    head = nn.Linear(width, n_outputs).to(param.device)
    loss = TargetAwareLoss(criterion, task, balanced=_BALANCED)
    name = f"{criterion.objective}+target"
    return TargetAwareModel(model, head), ObjectiveLoss(name, (*criterion.outputs, _OUTPUT), loss,
                                                        criterion.divergence_hint)  # fmt: skip


class _pretraining:
    """Context: ``pretrainer.fit`` trains its objective together with a supervised head on ``targets``.

    ``targets`` has one entry per row of the X the pretrainer is fitted on:
    class indices with -1 on unlabelled rows (``task="classification"``) or
    standardized targets with NaN on unlabelled rows (``"regression"``). On
    exit the fitted pretrainer keeps only its objective's model and criterion.
    """

    def __init__(self, pretrainer, targets, task, n_outputs):
        self.pretrainer = pretrainer
        self.targets = np.asarray(targets, dtype=np.float32)
        self.task, self.n_outputs = task, int(n_outputs)

    def attach(self, model, criterion, X):
        return attach(model, criterion, X, self.task, self.n_outputs)

    def __enter__(self):
        self.pretrainer._pretraining_targets = self
        return self

    def __exit__(self, *exc):
        pretrainer = self.pretrainer
        del pretrainer._pretraining_targets
        module = getattr(pretrainer, "module_", None)
        if isinstance(module, TargetAwareModel):
            pretrainer.module_ = module.model.eval()
        criterion = getattr(pretrainer, "_train_criterion", None)
        if isinstance(criterion, ObjectiveLoss) and isinstance(criterion.loss, TargetAwareLoss):
            pretrainer._train_criterion = criterion.loss.ssl_criterion
        return False
