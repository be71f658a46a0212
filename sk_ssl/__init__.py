"""sk_ssl: self-supervised learning as scikit-learn estimators."""

from ._persistence import load
from ._registry import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
    all_estimators,
)

__version__ = "0.1.0"

__all__ = [*all_estimators(), "all_estimators", "load", "__version__"]
