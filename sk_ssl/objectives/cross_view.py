"""Cross-view (CLIP-style) objective of MultiViewEmbedder: symmetric InfoNCE between every pair of views.

One encoder per view of the estimator's column groups (each with its own
standardization and, with ``augment=True``, its own view generator), a shared
projection head and the fusion of the view embeddings.
"""

import numpy as np

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
        models, columns, augmentations = [], [], []
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
            models.append(SSLModel(encoder, input_shape, mean, scale))
            columns.append(cols)
            augmentations.append(_view_augmentation(rows, shape, est.corruption_rate) if est.augment else None)
        model = MultiViewModel(
            models,
            columns,
            ViewFusion(est.fusion, len(models), est.n_components),
            ProjectionHead(est.n_components, 256, est.projection_dim),
            augmentations=augmentations,
            fused_loss=est.fusion == "attention",
        )
        return model, self.loss(est.temperature)
