"""MoCo (He et al., 2020; Chen et al., 2020 "v2", 2021 "v3"): contrast queries with a momentum encoder's keys.

The query network (encoder, projection head; v3 adds a predictor) is trained;
the key network is an exponential moving average of it (BYOL's target
network, updated through the engine's ``after_step`` hook). Each view's query
must pick the other view's key (symmetric InfoNCE, both directions).

* ``"moco_v2"``: the negatives are a **queue** of the keys of past batches
  (``queue_size`` = 4096 keys, the CIFAR setting of lightly's benchmarks;
  the paper's ImageNet queue is 65536), a 2-layer MLP head, temperature 0.2.
  The queue is a buffer of embeddings of past batches (never input rows) and
  is not saved: ``save``/``load`` and a warm start begin a fresh random
  queue, like the paper's first steps (it is refilled after
  ``queue_size / (2 * batch_size)`` steps). Pickling keeps it.
* ``"moco_v3"``: no queue; the negatives are the other samples' keys in the
  batch (large batches), a predictor on the query branch and BatchNorm in the
  heads; the loss is scaled by ``2 * temperature`` as in the paper.

Key-network momentum 0.99 (solo-learn's CIFAR configs; the papers use 0.999
and 0.99-0.996 on ImageNet, too slow for a short CPU budget).
"""

import torch
import torch.nn.functional as F
from torch import nn

from . import _schedules
from ._contract import Objective
from ._views import two_view_model
from .byol import BYOLModel, _mlp

QUEUE_SIZE = 4096


class MoCoModel(BYOLModel):
    """:class:`~sk_ssl.objectives.byol.BYOLModel` whose target is MoCo's key network, with an optional queue.

    ``forward`` returns ``query_a``, ``query_b`` (the query network's output
    for each view, ``(N, P)``), ``key_a``, ``key_b`` (the key network's
    projections, ``(N, P)``, no gradient) and, with a queue, ``queue``
    (``(queue_size, P)``, L2-normalized keys of past batches).
    """

    def __init__(self, *args, queue_size=0, predictor=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not predictor:
            self.predictor = nn.Identity()
        self.queue_size = queue_size
        if queue_size:
            width = self.projection_head[-1].out_features
            # Embeddings of past batches, not model state: left out of the saved state_dict.
            self.register_buffer("queue", F.normalize(torch.randn(queue_size, width), dim=1), persistent=False)
            self.register_buffer("queue_pointer", torch.zeros((), dtype=torch.long), persistent=False)
        self._keys = None

    def forward(self, x):
        out = super().forward(x)
        out = {"query_a": out["prediction_a"], "query_b": out["prediction_b"], "key_a": out["target_a"],
               "key_b": out["target_b"]}  # fmt: skip
        if self.queue_size:
            out["queue"] = self.queue.clone()
            if self.training:
                self._keys = torch.cat([out["key_a"], out["key_b"]]).detach()
        return out

    @torch.no_grad()
    def after_step(self):
        """Momentum update of the key network, then the batch's keys replace the oldest ones in the queue."""
        super().after_step()
        if not self.queue_size or self._keys is None:
            return
        keys = F.normalize(self._keys.float(), dim=1)[: self.queue_size]
        index = (self.queue_pointer + torch.arange(len(keys), device=keys.device)) % self.queue_size
        self.queue[index] = keys.to(self.queue.dtype)
        self.queue_pointer.copy_((self.queue_pointer + len(keys)) % self.queue_size)
        self._keys = None


def moco_loss(query, key, temperature, queue=None):
    """InfoNCE of each query against its own key; the negatives are the queue, else the batch's other keys.

    Returns a scalar (mean cross-entropy, float32).
    """
    query = F.normalize(query.float(), dim=1)
    key = F.normalize(key.float().detach(), dim=1)
    if queue is None:  # v3: the batch's keys, positive on the diagonal
        logits = query @ key.T
        targets = torch.arange(len(query), device=query.device)
    else:  # v2: own key first, then the queue
        negatives = queue.float().detach()
        logits = torch.cat([(query * key).sum(1, keepdim=True), query @ negatives.T], dim=1)
        targets = torch.zeros(len(query), dtype=torch.long, device=query.device)
    return F.cross_entropy(logits / temperature, targets)


class MoCoLoss(nn.Module):
    """Symmetric MoCo loss, each view's query against the other view's key: v2 averages the terms, v3 sums them x 2 tau."""

    def __init__(self, temperature, queue):
        super().__init__()
        self.temperature = temperature
        self.queue = queue

    def forward(self, outputs, y_true=None):
        queue = outputs["queue"] if self.queue else None
        loss = moco_loss(outputs["query_a"], outputs["key_b"], self.temperature, queue) + moco_loss(
            outputs["query_b"], outputs["key_a"], self.temperature, queue
        )
        return loss / 2 if self.queue else loss * 2 * self.temperature  # v3: ctr(q1, k2) + ctr(q2, k1), each x 2 tau


_OUTPUTS = {
    "query_a": "(N, projection_dim): query of the first view",
    "query_b": "(N, projection_dim): query of the second view",
    "key_a": "(N, projection_dim): momentum key of the first view (no gradient)",
    "key_b": "(N, projection_dim): momentum key of the second view (no gradient)",
}


class MoCoV2(Objective):
    """MoCo v2: momentum key encoder, a queue of 4096 negative keys, MLP head, temperature 0.2."""

    name = "moco_v2"
    family = "two_view"
    outputs = {**_OUTPUTS, "queue": "(queue_size, projection_dim): normalized keys of past batches"}
    divergence_hint = "A higher temperature also helps."

    def resolved(self, est):
        return {"temperature_": 0.2 if est.temperature == "auto" else est.temperature}

    def build(self, est, X):
        model = two_view_model(est, X, model_class=MoCoModel, projection_head=_mlp_head, queue_size=QUEUE_SIZE)
        _schedules.configure(model, est, X, self.name)
        return model, self.criterion(MoCoLoss(self.resolved(est)["temperature_"], queue=True))


class MoCoV3(Objective):
    """MoCo v3: momentum key encoder, in-batch negatives, predictor, BatchNorm heads, temperature 0.2."""

    name = "moco_v3"
    family = "two_view"
    outputs = _OUTPUTS
    divergence_hint = "A higher temperature also helps."

    def resolved(self, est):
        return {"temperature_": 0.2 if est.temperature == "auto" else est.temperature}

    def build(self, est, X):
        model = two_view_model(est, X, model_class=MoCoModel, projection_head=_mlp, predictor=True)
        _schedules.configure(model, est, X, self.name)
        return model, self.criterion(MoCoLoss(self.resolved(est)["temperature_"], queue=False))


def _mlp_head(in_features, hidden, out_features):
    """MoCo v2's head: Linear-ReLU-Linear (no BatchNorm)."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features))
