"""Cross-view (CLIP-style) objective of MultiViewEmbedder: symmetric InfoNCE between every pair of views.

The per-view encoders, the shared projection head and the fusion are built by
the estimator (one encoder per view of its column groups); this module names
what the model returns and the loss that reads it.
"""

from ..losses import CrossViewInfoNCELoss
from ._contract import Objective


class CrossView(Objective):
    """Every pair of a sample's present views is a positive pair; other samples are negatives."""

    name = "cross_view"
    family = "cross_view"
    outputs = {
        "views": "(V, N, projection_dim): projection of each view's embedding",
        "present": "(V, N) bool: which views each sample has",
    }
    divergence_hint = "A higher temperature also helps."
    # Optional: "fused" (N, projection_dim), the projected fused embedding (attention fusion).

    def loss(self, temperature):
        """The checked criterion for a softmax ``temperature``."""
        return self.criterion(CrossViewInfoNCELoss(temperature))
