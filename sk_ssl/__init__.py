"""sk_ssl: self-supervised learning as scikit-learn estimators."""

from ._persistence import load
from ._registry import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
    PretextEmbedder,
    all_estimators,
)
from .text import SentenceBagVectorizer  # preprocessing (documents to bags), not a trained estimator

__version__ = "0.1.0"

__all__ = [*all_estimators(), "SentenceBagVectorizer", "all_estimators", "load", "__version__"]
