"""sk_ssl: self-supervised learning as scikit-learn estimators."""

from .contrastive import ContrastiveEmbedder
from .mil import MILMultitaskClassifier

__version__ = "0.1.0"

__all__ = ["ContrastiveEmbedder", "MILMultitaskClassifier", "__version__"]
