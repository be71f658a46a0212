"""scikit-learn's estimator checks on every sk_ssl estimator configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder

# Small, fast configurations: the checks fit dozens of times.
FAST = dict(max_epochs=2, batch_size=32, n_components=8, random_state=0, device="cpu")

ESTIMATORS = [
    ContrastiveEmbedder(**FAST),
    # Images of one row: image_shape=(1, 1, -1) accepts whatever n_features the
    # checks use, so the whole image path (CNN, crops, NT-Xent) is checked too.
    ContrastiveEmbedder(image_shape=(1, 1, -1), **FAST),
    MaskedAutoencoder(**FAST),
    # SimMIM path on one-row images: blocks of 1 x 1 pixels.
    MaskedAutoencoder(image_shape=(1, 1, -1), **FAST),
]

EXPECTED_FAILURES = {}


def _expected_failures(estimator):
    return EXPECTED_FAILURES


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
