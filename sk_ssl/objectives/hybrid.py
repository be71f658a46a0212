"""The hybrid objective: a contrastive and a masked-reconstruction objective trained together on one encoder.

``ContrastiveEmbedder(objective=("simclr", "simmim"), loss_weights=(1.0, 1.0))``
builds both registered objectives' models, makes them share one encoder, and
trains ``w_a * loss_a + w_b * loss_b`` on each batch: one composition for
every (two-view, masked) pair, not a module per pair. Each part keeps its own
views or masking, heads and loss; the hybrid model returns both parts' named
outputs, prefixed with the part's name (``"simclr.view_a"``,
``"simmim.reconstruction"``). A part whose weight is 0 is not computed at all,
so ``loss_weights=(1, 0)`` trains exactly the first objective.
``loss_weights=("balanced", w_a, w_b)`` (``"balanced"``: weights 1, 1) first
rescales the masked loss to the contrastive loss's running magnitude
(:class:`HybridLoss`), so the weights compare the parts' pulls, not their
losses' units.

The shared encoder is the contrastive part's, unchanged (so momentum copies
of it, e.g. BYOL's target, stay valid, and ``transform`` embeds exactly as the
contrastive objective would). On images the masked part's input has ``2 * C``
channels (the pixels, hidden ones set to the learned mask value, and a mask
indicator per channel, see :class:`~sk_ssl.models.MaskedModel`); the shared
encoder reads the ``C`` pixel channels of it, so it sees hidden pixels as the
learned mask value, as in SimMIM's paper. MAE as the masked part
(``("simclr", "mae")``, a ViT encoder) reads the raw images as the
contrastive part does, so it shares the ViT itself: its decoder reads the
shared ViT's tokens of the visible patches.
"""

from numbers import Real

import numpy as np
import torch
from torch import nn

from .._vit import ViTEncoder
from ..models import MaskedModel
from ._contract import ObjectiveLoss
from .mae import MAEModel


class _PixelChannels(nn.Module):
    """The shared image encoder inside the masked part: reads the pixel channels, not the mask indicators."""

    def __init__(self, encoder, channels):
        super().__init__()
        self.encoder = encoder
        self.channels = channels

    def forward(self, x):
        return self.encoder(x[:, : self.channels])


class HybridModel(nn.Module):
    """Two objectives' models with one shared encoder; ``encode`` is the first (contrastive) part's.

    Parameters
    ----------
    first, second : SSLModel
        The contrastive part (e.g. a ContrastiveModel) and the masked part
        (a MaskedModel), built by their objectives from the same data, so they
        have the same standardization (tied to one pair of buffers here).
    names : tuple of str
        The two objectives' names, the prefixes of the named outputs.
    weights : tuple of float
        The loss weights; a part with weight 0 is skipped in ``forward``.
    """

    def __init__(self, first, second, names, weights):
        super().__init__()
        if isinstance(second, MAEModel):  # reads the raw images, like the contrastive part: share the ViT itself
            if not isinstance(first.encoder, ViTEncoder):
                raise ValueError(
                    f"The masked part {names[1]!r} drops patch tokens, so the encoder it shares with "
                    f"{names[0]!r} must be a Vision Transformer; it is a {type(first.encoder).__name__}. Pass "
                    "encoder='vit' (or 'vit_tiny', 'vit_mean', a ViTEncoder), or use 'simmim' as the masked part "
                    "for a CNN."
                )
            second.encoder = first.encoder
        elif not isinstance(second, MaskedModel) or type(second).forward is not MaskedModel.forward:
            raise ValueError(
                f"The hybrid objective shares one encoder between the two parts; the masked part {names[1]!r} "
                f"builds a {type(second).__name__}, whose encoder input it cannot share yet. Use 'vime' or "
                "'simmim' (with a CNN or MLP encoder), or 'mae' (with a ViT encoder) as the masked part."
            )
        elif second.is_image:  # its input: pixels (hidden ones at the mask value), then the mask indicators
            second.encoder = _PixelChannels(first.encoder, second.input_shape[0])
        else:
            second.encoder = first.encoder
        self.first, self.second = first, second
        self.names, self.weights = tuple(names), tuple(float(w) for w in weights)
        self._tie()

    def _tie(self):
        # One standardization: partial_fit updates it in place through ``mean`` and ``scale``.
        for name in ("mean", "scale"):
            self.second._buffers[name] = self.first._buffers[name]

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)  # .to() / .float() give each module its own copy: tie again
        self._tie()
        return self

    @property
    def input_shape(self):
        return self.first.input_shape

    @property
    def mean(self):
        return self.first.mean

    @property
    def scale(self):
        return self.first.scale

    def as_input(self, x):
        return self.first.as_input(x)

    def standardize(self, x):
        return self.first.standardize(x)

    def encode(self, x):
        """Embed raw flat rows with the shared encoder."""
        return self.first.encode(x)

    def export(self):
        """A float32 copy of the shared encoder behind the standardization (see :meth:`SSLModel.export`)."""
        return self.first.export()

    def forward(self, x):
        out = {}
        for name, part, weight in zip(self.names, (self.first, self.second), self.weights):
            if weight:
                out.update({f"{name}.{key}": value for key, value in part(x).items()})
        return out

    def after_step(self):
        """The parts' per-step work (e.g. BYOL's momentum target), if any."""
        for part in (self.first, self.second):
            hook = getattr(part, "after_step", None)
            if hook is not None:
                hook()


class HybridLoss(nn.Module):
    """``sum_i weights[i] * criteria[i](part i's outputs)``, over the parts with a non-zero weight.

    With ``balanced=True`` the masked (second) loss is first rescaled to the
    contrastive (first) loss's magnitude: multiplied by the ratio of the two
    losses' running means (an exponential moving average of their detached
    values over the training steps, ``momentum`` 0.9, started at the first
    step's values). The factor is a constant for the gradient, so both parts
    pull with equal strength at weights ``(1, 1)`` whatever their scales
    (NT-Xent ~4-6 vs VIME's ~1.6 or SimMIM's L1 ~0.5), and the contrastive
    part's gradient is the one it has alone.
    """

    def __init__(self, criteria, names, weights, balanced=False, momentum=0.9):
        super().__init__()
        self.criteria = nn.ModuleList(criteria)
        self.names, self.weights = tuple(names), tuple(float(w) for w in weights)
        self.balanced, self.momentum = bool(balanced), float(momentum)
        # Running mean of each part's loss; 0 until the first training step.
        self.register_buffer("running", torch.zeros(2))

    def part_losses(self, outputs):
        """Each part's (unweighted) loss on these outputs; None for a part with weight 0."""
        losses = []
        for criterion, name, weight in zip(self.criteria, self.names, self.weights):
            prefix = name + "."
            part = {key[len(prefix) :]: value for key, value in outputs.items() if key.startswith(prefix)}
            losses.append(criterion(part) if weight else None)
        return losses

    def balance_factor(self, losses):
        """The factor on the masked loss: running contrastive / running masked loss (1 when not balanced)."""
        if not (self.balanced and all(w for w in self.weights)):
            return 1.0
        current = torch.stack([loss.detach().float() for loss in losses]).to(self.running.device)
        if self.training:
            with torch.no_grad():
                seen = self.running > 0
                self.running.copy_(torch.where(seen, self.momentum * self.running + (1 - self.momentum) * current,
                                               current))  # fmt: skip
        reference = torch.where(self.running > 0, self.running, current)  # evaluation before any step
        return reference[0] / reference[1].clamp_min(1e-12)  # a tensor: no device sync per step

    def forward(self, outputs, y_true=None):
        losses = self.part_losses(outputs)
        factors = (1.0, self.balance_factor(losses))
        return sum(w * f * loss for w, f, loss in zip(self.weights, factors, losses) if w)


class _MaskedPartView:
    """The estimator as the masked part's ``build`` sees it: the masked parameters at their defaults."""

    mask_ratio = "auto"
    block_size = "auto"
    mask_loss_weight = 2.0

    def __init__(self, est):
        self._est = est

    def __getattr__(self, name):
        return getattr(self._est, name)


def check_hybrid(objective, loss_weights, families, estimator):
    """Validated ``(names, weights)`` of a hybrid ``objective`` pair; a clear error otherwise.

    ``families`` maps each position to the registered names allowed there,
    e.g. ``(two_view names, masked names)``.
    """
    example = "objective=('simclr', 'simmim') for images or ('scarf', 'vime') for tables"
    if len(objective) != 2 or not all(isinstance(name, str) for name in objective):
        raise ValueError(f"{estimator}: a hybrid objective is a pair of names, e.g. {example}; got {objective!r}.")
    for name, allowed, role in zip(objective, families, ("first (contrastive)", "second (masked)")):
        if name not in allowed:
            raise ValueError(
                f"{estimator}(objective={tuple(objective)!r}): the {role} objective must be one of "
                f"{sorted(allowed)}; got {name!r}. Use e.g. {example}."
            )
    if isinstance(loss_weights, str):  # "auto" or "balanced"
        return tuple(objective), ("balanced", 1.0, 1.0)  # "auto": balanced, the measured default
    weights = tuple(loss_weights)
    balanced = len(weights) == 3 and isinstance(weights[0], str) and weights[0] == "balanced"
    if balanced:
        weights = weights[1:]
    if (
        len(weights) != 2
        or not all(isinstance(w, Real) and not isinstance(w, bool) and np.isfinite(w) and w >= 0 for w in weights)
        or not any(weights)
    ):
        raise ValueError(
            f"{estimator}: loss_weights must be two finite weights >= 0, not both 0, one per objective of "
            f"{tuple(objective)!r} (e.g. (1.0, 1.0)), optionally after 'balanced' (e.g. ('balanced', 1.0, 4.0)), "
            f"or 'balanced'; got {loss_weights!r}."
        )
    weights = tuple(float(w) for w in weights)
    return tuple(objective), ("balanced", *weights) if balanced else weights


def build_hybrid(est, objectives, names, weights, X):
    """``(HybridModel, criterion)`` of the registered ``objectives`` (two, in order) for ``est``.

    ``weights`` is ``(w_a, w_b)``, or ``("balanced", w_a, w_b)`` to rescale
    the masked loss to the contrastive one's running magnitude first (see
    :class:`HybridLoss`).

    Sets the attributes each part resolves (e.g. ``temperature_``,
    ``mask_ratio_``). The second part is initialised on a forked random
    stream, so the first part's weights and random views are those it would
    have alone.
    """
    balanced = isinstance(weights[0], str)
    weights = weights[1:] if balanced else weights
    first, second = objectives
    masked_view = _MaskedPartView(est)
    for objective, view in ((first, est), (second, masked_view)):
        for attribute, value in objective.resolved(view).items():
            setattr(est, attribute, value)
    model_a, criterion_a = first.build(est, X)
    with torch.random.fork_rng(devices=[]):
        model_b, criterion_b = second.build(masked_view, X)
    model = HybridModel(model_a, model_b, names, weights)
    outputs = [f"{name}.{key}" for name, obj, w in zip(names, objectives, weights) if w for key in obj.outputs]
    hints = " ".join(dict.fromkeys(obj.divergence_hint for obj in objectives if obj.divergence_hint))
    loss = HybridLoss([criterion_a, criterion_b], names, weights, balanced=balanced)
    return model, ObjectiveLoss("+".join(names), outputs, loss, hints or None)
