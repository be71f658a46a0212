"""DINO (Caron et al., 2021): self-distillation with no labels, by centering and sharpening.

A student network (encoder, DINO head) is trained to match, on every view, the
output distribution of a teacher network on the *other* global views. The
teacher is an exponential moving average of the student (BYOL's target
network, updated through the engine's ``after_step`` hook). Collapse is
avoided by **centering** the teacher's logits (a running mean over batches,
the ``center`` buffer, also updated in ``after_step``: it is a statistic and
is saved with the weights) and **sharpening** them with a low teacher
temperature (0.04; the student's is 0.1).

The DINO head is an MLP (``n_components -> 512 -> 512 -> projection_dim``,
GELU, BatchNorm in the hidden layers; the paper uses 2048 hidden units), an
L2 normalization and a
weight-normalized linear layer to ``OUT_DIM = 4096`` prototypes (the CIFAR
setting of solo-learn; the paper's ImageNet head has 65536). With a
:class:`~sk_ssl.augment.MultiCrop` augmentation the student also sees the
local crops (multi-crop); the teacher sees the two global views only.
BatchNorm in the head is the official code's ``use_bn_in_head`` option (used
by solo-learn for ResNets): without it the small CNN collapses to the uniform
output (loss ``log 4096``) within a few epochs on digits.
Teacher momentum 0.99 (the paper's 0.996 barely moves in a short CPU run).
With the estimator's ``schedule="paper"`` the momentum rises to 1.0 (cosine)
and the teacher temperature warms up from 0.04 to 0.07
(:mod:`sk_ssl.objectives._schedules`).
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..augment import MultiCrop
from . import _schedules
from ._contract import Objective
from ._views import two_view_model
from .byol import BYOLModel

OUT_DIM = 4096


class _Prototypes(nn.Module):
    """L2-normalized input times weight-normalized prototypes (DINO's last layer, norm fixed to 1)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.trunc_normal_(self.weight, std=0.02)

    def forward(self, x):
        return F.linear(F.normalize(x, dim=-1), F.normalize(self.weight, dim=-1))


def dino_head(in_features, bottleneck, hidden=512, out_features=OUT_DIM):
    """DINO's projection head: 3-layer GELU MLP (BatchNorm) to ``bottleneck``, then the ``out_features`` prototypes."""
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
        nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
        nn.Linear(hidden, bottleneck), _Prototypes(bottleneck, out_features),
    )  # fmt: skip


class DINOModel(BYOLModel):
    """Student (encoder, DINO head) and EMA teacher, with the teacher's running ``center``.

    ``forward`` returns ``student`` (``(V, N, OUT_DIM)`` logits of every view:
    the two global ones first, then the local crops), ``teacher``
    (``(2, N, OUT_DIM)`` teacher logits of the global views, no gradient) and
    ``center`` (``(1, OUT_DIM)``); with ``schedule="paper"`` also
    ``teacher_temperature`` (a scalar tensor: the warm-up of
    :func:`~sk_ssl.objectives._schedules.teacher_temperature` at this step).
    """

    def __init__(self, *args, center_momentum=0.9, **kwargs):
        super().__init__(*args, **kwargs)
        self.predictor = nn.Identity()  # no predictor in DINO
        self.register_buffer("center", torch.zeros(1, self.projection_head[-1].out_features))
        self.center_momentum = center_momentum
        self._batch_center = None

    def _standardize_view(self, x):
        # The statistics are per channel (constant over pixels), so a smaller crop reads a corner of them.
        h, w = x.shape[-2:]
        return (x - self.mean[..., :h, :w]) / self.scale[..., :h, :w]

    def forward(self, x):
        if isinstance(self.augmentation, MultiCrop):
            crops = [self._standardize_view(view) for view in self.augmentation(self.as_input(x))]
            global_views, local_views = torch.cat(crops[:2]), crops[2:]
        else:
            global_views, local_views = self.views(x), []
        n = len(x)
        student = [self.projection_head(self.encoder(global_views))]
        if local_views:  # one pass for all local crops (same size)
            student.append(self.projection_head(self.encoder(torch.cat(local_views))))
        with torch.no_grad():
            teacher = self.target_projection(self.target_encoder(global_views))
            if self.training:
                self._batch_center = teacher.float().mean(0, keepdim=True)
        out = {
            "student": torch.cat(student).view(-1, n, teacher.shape[-1]),
            "teacher": teacher.view(2, n, -1),
            "center": self.center.clone(),
        }
        if self.schedule == "paper":
            out["teacher_temperature"] = torch.tensor(_schedules.teacher_temperature(self.steps, self.horizon))
        return out

    @torch.no_grad()
    def after_step(self):
        """Move the teacher towards the student, and the center towards the batch's mean teacher output."""
        super().after_step()
        if self._batch_center is not None:
            self.center.lerp_(self._batch_center.to(self.center.dtype), 1.0 - self.center_momentum)
            self._batch_center = None


def dino_loss(student, teacher, center, student_temperature=0.1, teacher_temperature=0.04):
    """Cross-entropy from the centered, sharpened teacher of each global view to the student on every other view.

    ``student`` is ``(V, N, K)``, ``teacher`` ``(2, N, K)``, ``center``
    ``(1, K)``; returns the mean over the ``2 (V - 1)`` (teacher, student) pairs.
    """
    targets = F.softmax((teacher.float() - center.float()) / teacher_temperature, dim=-1).detach()
    log_probs = F.log_softmax(student.float() / student_temperature, dim=-1)
    total, pairs = 0.0, 0
    for i in range(len(targets)):
        for j in range(len(log_probs)):
            if i != j:
                total = total - (targets[i] * log_probs[j]).sum(-1).mean()
                pairs += 1
    return total / pairs


class DINOLoss(nn.Module):
    """Criterion form of :func:`dino_loss`; reads ``student``, ``teacher`` and ``center``."""

    def __init__(self, student_temperature=0.1, teacher_temperature=0.04):
        super().__init__()
        self.student_temperature = student_temperature
        self.teacher_temperature = teacher_temperature

    def forward(self, outputs, y_true=None):
        teacher_temperature = outputs.get("teacher_temperature", self.teacher_temperature)  # scheduled if given
        return dino_loss(outputs["student"], outputs["teacher"], outputs["center"], self.student_temperature,
                         float(teacher_temperature))  # fmt: skip


class DINO(Objective):
    """Student and EMA teacher with centering and sharpening; multi-crop with a MultiCrop augmentation."""

    name = "dino"
    family = "two_view"
    outputs = {
        "student": "(V, N, 4096): student logits of every view (2 global views first, then local crops)",
        "teacher": "(2, N, 4096): teacher logits of the two global views (no gradient)",
        "center": "(1, 4096): running mean of the teacher logits",
    }
    divergence_hint = "A higher temperature (the student's) also helps."

    def resolved(self, est):
        return {"temperature_": 0.1 if est.temperature == "auto" else est.temperature}

    def build(self, est, X):
        model = two_view_model(est, X, model_class=DINOModel, projection_head=lambda i, _, o: dino_head(i, o))
        _schedules.configure(model, est, X, self.name)
        return model, self.criterion(DINOLoss(self.resolved(est)["temperature_"]))
