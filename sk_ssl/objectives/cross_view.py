"""Cross-view (CLIP-style) objective of MultiViewEmbedder: symmetric InfoNCE between every pair of views.

One encoder per view of the estimator's column groups (each with its own
standardization and, with ``augment=True``, its own view generator), a shared
projection head and the fusion of the view embeddings.
"""

import numpy as np

from .. import _fusion
from .._sparse import _nan_counts
from .._tabular import _table_encoder, _view_codes
from ..augment import ImageAugmentation, TabularCorruption
from ..encoders import ProjectionHead, make_encoder
from ..losses import CrossViewInfoNCELoss
from ..models import MultiViewModel, SSLModel, ViewFusion
from ._contract import Objective


def _view_augmentation(rows, shape, corruption_rate):
    if shape is None:
        return TabularCorruption(rows, corruption_rate)
    side = min(shape[1:])
    return ImageAugmentation(crop_scale=(0.08, 1.0) if side >= 64 else (0.2, 1.0) if side >= 24 else (0.4, 1.0))


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

    def build(self, est, X):
        views, columns, fusion, head, augmentations, fused_loss = view_parts(est, X)
        model = MultiViewModel(views, columns, fusion, head, augmentations=augmentations, fused_loss=fused_loss)
        return model, self.loss(est.temperature)


def view_parts(est, X):
    """The parts every MultiViewEmbedder objective trains: ``(views, columns, fusion, projection_head,
    augmentations, fused_loss)``.

    One encoder per view of the estimator's column groups (tables with their
    categorical codes and missing indicators, images with their own CNN), each
    with its own standardization and, with ``augment=True``, its own view
    generator; the fusion of the view embeddings and a shared projection head.
    ``fused_loss``: the fused embedding enters the loss, so a fusion with weights
    of its own (attention, weighted, transformer) is trained.
    """
    views, columns, augmentations = [], [], []
    for name in est.view_names_:
        cols, shape = est.view_columns_[name], est.view_image_shapes_[name]
        view = X[:, cols]
        rows = view[_nan_counts(view) < len(cols)]  # rows where the view is present
        input_shape = shape if shape is not None else (len(cols),)
        mean, scale = est._standardization(rows, image_shape=shape)
        if shape is None:  # categorical columns and missing indicators (sk_ssl._tabular)
            codes, n_codes, nan_columns = _view_codes(est, cols)
            mean, scale = np.array(mean, dtype=np.float64), np.array(scale, dtype=np.float64)
            mean[codes], scale[codes] = 0.0, 1.0
            encoder = _table_encoder(make_encoder, est.encoder, len(cols), est.n_components, codes, n_codes, nan_columns)
        else:
            encoder = make_encoder(est.encoder, input_shape, est.n_components)
        views.append(SSLModel(encoder, input_shape, mean, scale))
        columns.append(cols)
        augmentations.append(_view_augmentation(rows, shape, est.corruption_rate) if est.augment else None)
    fusion = ViewFusion(est.fusion, len(views), est.n_components)
    head = ProjectionHead(est.n_components, 256, est.projection_dim)
    fused_loss = est.fusion in ("attention", *_fusion.LEARNED)
    return views, columns, fusion, head, augmentations, fused_loss
