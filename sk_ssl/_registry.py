"""The registry of sk_ssl's public estimators: one list for the package, persistence and the tests.

Like scikit-learn's ``all_estimators``: ``sk_ssl/__init__.py`` exports these,
the safe file format (:mod:`sk_ssl._persistence`) allows exactly these, and
``tests/test_common.py`` checks that every one of them has a fast test
configuration. A new public estimator is one line here.
"""

from . import _persistence
from .contrastive import ContrastiveEmbedder
from .finetune import FineTuneClassifier, FineTuneRegressor
from .masked import MaskedAutoencoder
from .mil import MILMultitaskClassifier
from .multiview import MultiViewEmbedder
from .pretext import PretextEmbedder

_ESTIMATORS = (
    ContrastiveEmbedder,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
    PretextEmbedder,
)

_persistence._allow(_ESTIMATORS)


def all_estimators():
    """Every public sk_ssl estimator class (the ones that train a model), by name.

    Preprocessing helpers such as :class:`~sk_ssl.SentenceBagVectorizer` are
    not listed: they train nothing and have no ``save``.

    Returns
    -------
    estimators : dict of str to type
        Class name -> class, sorted by name.

    Examples
    --------
    >>> from sk_ssl import all_estimators
    >>> "ContrastiveEmbedder" in all_estimators()
    True
    """
    return {cls.__name__: cls for cls in sorted(_ESTIMATORS, key=lambda cls: cls.__name__)}
