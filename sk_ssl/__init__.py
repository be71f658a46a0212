"""sk_ssl: self-supervised learning as scikit-learn estimators."""

from ._persistence import load
from .contrastive import ContrastiveEmbedder
from .finetune import FineTuneClassifier, FineTuneRegressor
from .masked import MaskedAutoencoder
from .mil import MILMultitaskClassifier
from .multiview import MultiViewEmbedder
from .text import SentenceBagVectorizer

__version__ = "0.1.0"

__all__ = [
    "ContrastiveEmbedder",
    "FineTuneClassifier",
    "FineTuneRegressor",
    "MaskedAutoencoder",
    "MILMultitaskClassifier",
    "MultiViewEmbedder",
    "SentenceBagVectorizer",
    "load",
    "__version__",
]
