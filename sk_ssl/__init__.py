"""sk_ssl: self-supervised learning as scikit-learn estimators."""

from .contrastive import ContrastiveEmbedder
from .masked import MaskedAutoencoder
from .multiview import MultiViewEmbedder

__version__ = "0.1.0"

__all__ = ["ContrastiveEmbedder", "MaskedAutoencoder", "MultiViewEmbedder", "__version__"]
