"""The two-view composition shared by the contrastive-family objectives.

Tabular rows: SCARF's corruption (the clean row against a corrupted copy).
Images: SimCLR's two augmented views, with a crop scale suited to the size.
An ``augmentation`` given to the estimator replaces either.
"""

from ..augment import ImageAugmentation, TabularCorruption
from ..encoders import ProjectionHead, make_encoder
from .._numeric_embeddings import _with_input_embeddings
from .._tabular import _unstandardized_codes
from ..models import ContrastiveModel

# Named outputs of ContrastiveModel.forward.
TWO_VIEWS = {
    "view_a": "(N, projection_dim): projection of the first view (the clean row for tables)",
    "view_b": "(N, projection_dim): projection of the second view; row i is sample i's positive",
}


def default_augmentation(est, X):
    """The estimator's ``augmentation``, or the default view generator for its data."""
    if est.augmentation is not None:
        return est.augmentation
    if est.image_shape_ is None:
        return TabularCorruption(X, est.corruption_rate)
    side = min(est.image_shape_[1:])
    # ImageNet's 0.08 lower bound destroys tiny images; scale it with size.
    crop_scale = (0.08, 1.0) if side >= 64 else (0.2, 1.0) if side >= 24 else (0.4, 1.0)
    return ImageAugmentation(crop_scale=crop_scale)


def two_view_model(est, X, model_class=ContrastiveModel, projection_head=ProjectionHead, **extra):
    """Encoder, projection head and views of a ContrastiveEmbedder, as ``model_class``.

    ``projection_head(n_components, 256, projection_dim)`` makes the head; it is
    called after the encoder is made, so every objective starts from the same
    seeded encoder weights.
    """
    mean, scale = est._standardization(X)
    if est.image_shape_ is not None:
        encoder = make_encoder(est.encoder, est._input_shape, est.n_components)
    else:  # categorical columns: unstandardized codes, looked up in learned embeddings; numeric embeddings
        mean, scale = _unstandardized_codes(est, mean, scale)
        encoder = _with_input_embeddings(est, make_encoder, X, mean, scale)
    return model_class(
        encoder,
        est._input_shape,
        mean,
        scale,
        projection_head=projection_head(est.n_components, 256, est.projection_dim),
        augmentation=default_augmentation(est, X),
        clean_anchor=est.image_shape_ is None,
        **extra,
    )
