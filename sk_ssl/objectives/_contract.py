"""The objective contract: what a model returns, what its loss reads, checked in one place.

An objective is one method's composition: the views or corruption it trains
on, the heads it adds to the encoder, its loss and the **named outputs** its
model's ``forward`` returns (a dict of tensors with documented shapes). Its
criterion is an :class:`ObjectiveLoss`, which checks those names on every step
(:func:`check_outputs`, the one place the contract is checked) before the loss
reads them by name.
"""

import torch
from torch import nn


class Objective:
    """One method: views, heads, loss and named outputs (subclass per method).

    Attributes
    ----------
    name : str
        The value of the estimator's ``objective`` parameter that selects it.
    family : str
        The estimators it serves: "two_view" (ContrastiveEmbedder), "masked"
        (MaskedAutoencoder), "cross_view" (MultiViewEmbedder), "supervised".
    data : tuple of {"tabular", "image"}
        The inputs it is defined for.
    outputs : dict of str to str
        The model's named outputs and their shapes (documentation and check).
    divergence_hint : str or None
        Advice of this objective added to the engine's divergence error.
    """

    name = None
    family = None
    data = ("tabular", "image")
    outputs = {}
    divergence_hint = None

    def build(self, est, X):
        """Return ``(model, criterion)`` for the estimator ``est`` and its validated X."""
        raise NotImplementedError

    def criterion(self, loss):
        """``loss`` (reading the outputs by name) behind the contract check."""
        return ObjectiveLoss(self.name, tuple(self.outputs), loss, self.divergence_hint)

    def resolved(self, est):
        """Fitted attributes (name -> value) that this objective resolves from ``"auto"`` parameters."""
        return {}


def check_outputs(objective, names, outputs):
    """Return ``outputs`` if it holds every name the loss of ``objective`` reads; else a clear error.

    A model whose only output is ``"logits"`` (the supervised heads) may return
    the tensor itself.
    """
    if isinstance(outputs, torch.Tensor) and tuple(names) == ("logits",):
        return outputs
    if not isinstance(outputs, dict):
        raise TypeError(
            f"The {objective!r} objective's model must return a dict of named outputs {list(names)}, got a "
            f"{type(outputs).__name__}. Return {{name: tensor}} from forward (see sk_ssl.objectives)."
        )
    missing = [name for name in names if name not in outputs]
    if missing:
        raise ValueError(
            f"The {objective!r} objective's loss reads outputs {list(names)}, but the model returned "
            f"{sorted(outputs)} (missing {missing}). Make the model's forward return these names."
        )
    return outputs


class ObjectiveLoss(nn.Module):
    """Criterion of an objective: checks the named outputs, then applies ``loss``.

    Parameters
    ----------
    objective : str
        The objective's name, used in the error message.
    outputs : tuple of str
        The names the loss reads.
    loss : nn.Module
        ``loss(outputs, y_true)``; reads the outputs by name.
    divergence_hint : str or None, default=None
        A sentence the engine adds to its divergence error.
    """

    def __init__(self, objective, outputs, loss, divergence_hint=None):
        super().__init__()
        self.objective = objective
        self.outputs = tuple(outputs)
        self.loss = loss
        self.divergence_hint = divergence_hint

    def forward(self, y_pred, y_true=None):
        return self.loss(check_outputs(self.objective, self.outputs, y_pred), y_true)
